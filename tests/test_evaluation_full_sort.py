"""Full-sort evaluation: the fast path (in-place mask, sorted-key look-ups, metrics once)
gives the very numbers of the dense way and of a per-user reference written by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from core.evaluation.full_sort import RowSets, evaluate_users, top_k
from core.evaluation.metrics import ranking_metrics

N_USERS, N_ITEMS, KS = 60, 50, (5, 10, 20)


class MatrixScorer:
    """Fixed random scores; users 3 and 17 unknown (popularity fallback)."""

    def __init__(self, seed: int = 0, view: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.scores = torch.as_tensor(rng.normal(size=(N_USERS, N_ITEMS)), dtype=torch.float32)
        self.known = torch.ones(N_USERS, dtype=torch.bool)
        self.known[[3, 17]] = False
        self.pop = torch.as_tensor(rng.random(N_ITEMS), dtype=torch.float32)
        self.view = view

    device = torch.device("cpu")

    @property
    def known_users(self) -> torch.Tensor:
        return self.known

    @property
    def popularity(self) -> torch.Tensor:
        return self.pop

    def score(self, users: torch.Tensor) -> torch.Tensor:
        if self.view:  # a scorer handing out its own storage (contiguous users only)
            return self.scores[int(users[0]) : int(users[-1]) + 1]
        return self.scores[users]


def _sets(seed: int, per_user: int) -> RowSets:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(N_USERS), rng.integers(0, per_user + 1, N_USERS))
    cols = rng.integers(0, N_ITEMS, len(rows))
    return RowSets(sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(N_USERS, N_ITEMS)))


def _dense_way(model, users, truth: RowSets, mask: RowSets) -> dict[str, np.ndarray]:
    """The former implementation: dense bool mask, masked_fill, dense truth gathered."""
    scores = model.score(torch.as_tensor(users)).clone()
    unknown = ~model.known_users[users]
    scores[unknown] = model.popularity
    scores = scores.masked_fill(mask.dense(users, "cpu"), float("-inf"))
    top = torch.topk(scores, max(KS), dim=1).indices
    hits = torch.gather(truth.dense(users, "cpu"), 1, top)
    return {k: v.numpy() for k, v in ranking_metrics(hits, torch.as_tensor(truth.sizes[users]), KS).items()}


def _by_hand(model, user: int, truth: RowSets, mask: RowSets, k: int) -> dict[str, float]:
    row = (model.scores[user] if model.known[user] else model.pop).numpy().astype(np.float64).copy()
    row[mask.matrix[user].indices] = -np.inf
    ranked = np.argsort(-row, kind="stable")[:k]
    relevant = set(truth.matrix[user].indices.tolist())
    if not relevant:
        return {}
    hits = [int(i in relevant) for i in ranked]
    dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
    ideal = sum(1 / math.log2(r + 2) for r in range(min(len(relevant), k)))
    first = next((1 / (r + 1) for r, h in enumerate(hits) if h), 0.0)
    return {
        f"hit@{k}": float(any(hits)),
        f"ndcg@{k}": dcg / ideal,
        f"recall@{k}": sum(hits) / len(relevant),
        f"precision@{k}": sum(hits) / k,
        f"mrr@{k}": first,
    }


@pytest.mark.parametrize("batch_size", [None, 1, 7, 64])
def test_same_numbers_as_the_dense_way_for_any_batch(batch_size):
    model, truth, mask = MatrixScorer(1), _sets(2, 4), _sets(3, 12)
    users = np.random.default_rng(4).permutation(N_USERS)[:45]
    fast = evaluate_users(model, users, truth, mask, KS, batch_size=batch_size)
    dense = _dense_way(model, users, truth, mask)
    assert fast.keys() == dense.keys()
    for name in dense:
        np.testing.assert_array_equal(fast[name], dense[name], err_msg=name)  # NaNs in the same places


def test_matches_a_per_user_reference_written_by_hand():
    model, truth, mask = MatrixScorer(5), _sets(6, 5), _sets(7, 15)
    users = np.arange(N_USERS)
    fast = evaluate_users(model, users, truth, mask, KS, batch_size=16)
    checked = 0
    for user in users:
        for k in KS:
            expected = _by_hand(model, int(user), truth, mask, k)
            for name, value in expected.items():
                assert fast[name][user] == pytest.approx(value, abs=1e-6), (user, name)
            checked += bool(expected)
    assert checked > 100 and np.isnan(fast["ndcg@10"][truth.sizes == 0]).all()


def test_top_k_excludes_masked_items_and_follows_the_scores():
    model, mask = MatrixScorer(8), _sets(9, 20)
    users = np.arange(N_USERS)
    top = top_k(model, users, mask, 10, batch_size=13)
    for user in users:
        row = (model.scores[user] if model.known[user] else model.pop).numpy().copy()
        row[mask.matrix[user].indices] = -np.inf
        assert top[user].tolist() == np.argsort(-row, kind="stable")[:10].tolist()


def test_a_scorer_storage_is_never_written():
    model, truth, mask = MatrixScorer(10, view=True), _sets(11, 4), _sets(12, 12)
    before = model.scores.clone()
    evaluate_users(model, np.arange(N_USERS), truth, mask, KS, batch_size=8)
    assert torch.equal(model.scores, before)


def test_entries_and_contains_follow_the_sets():
    sets = RowSets(sp.csr_matrix(np.array([[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1]])))
    rows, items = sets.entries(np.array([2, 1, 0]))
    assert rows.tolist() == [0, 0, 2, 2] and items.tolist() == [0, 3, 1, 2]
    ranked = torch.tensor([[3, 1], [0, 2], [2, 0]])
    assert sets.contains(np.array([2, 1, 0]), ranked).tolist() == [[True, False], [False, False], [True, False]]
