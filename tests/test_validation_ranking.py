"""Validation NDCG@10 indexed once (core.models.validation) equals evaluate_users bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.evaluation.full_sort import evaluate_users
from core.models.training import row_sets
from core.models.validation import ValidationRanking

N_USERS, N_ITEMS = 90, 70


class _Random:
    """Random scores with ties (rounded), some users unknown (ranked by popularity)."""

    def __init__(self, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.table = torch.round(torch.randn(N_USERS, N_ITEMS, generator=g) * 4) / 4
        self.known_users = torch.rand(N_USERS, generator=g) > 0.2
        self.popularity = torch.randint(0, 5, (N_ITEMS,), generator=g).float()
        self.device = torch.device("cpu")

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.table[users]


def _rows(seed: int, per_user: int):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(N_USERS), per_user)
    items = rng.integers(0, N_ITEMS, len(users))
    keep = rng.random(len(users)) > 0.3  # some users end with no rows
    return users[keep], items[keep]


@pytest.mark.parametrize("batch_size", [None, 7])
def test_the_same_numbers_as_evaluate_users(batch_size):
    truth = row_sets(*_rows(1, 3), N_USERS, N_ITEMS)
    mask = row_sets(*_rows(2, 20), N_USERS, N_ITEMS)
    users = np.arange(0, N_USERS, 1)[np.random.default_rng(3).random(N_USERS) > 0.1]
    ranking = ValidationRanking(users, truth, mask, "cpu", batch_size=batch_size)
    for seed in range(4):  # one index, many models: what a fit does every epoch
        model = _Random(seed)
        expected = evaluate_users(model, users, truth, mask, ks=(10,), batch_size=batch_size)["ndcg@10"]
        got = ranking.ndcg(model)
        assert got.dtype == expected.dtype
        assert np.isnan(expected).any() and np.array_equal(np.isnan(got), np.isnan(expected))
        assert np.array_equal(got.view(np.int32), expected.view(np.int32))  # bit for bit, NaN included


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_the_same_numbers_on_a_gpu():
    truth = row_sets(*_rows(1, 3), N_USERS, N_ITEMS)
    mask = row_sets(*_rows(2, 20), N_USERS, N_ITEMS)
    users = np.arange(N_USERS)
    model = _Random(0)
    model.table, model.known_users, model.popularity = (
        t.cuda() for t in (model.table, model.known_users, model.popularity)
    )
    model.device = torch.device("cuda")
    expected = evaluate_users(model, users, truth, mask, ks=(10,))["ndcg@10"]
    got = ValidationRanking(users, truth, mask, "cuda").ndcg(model)
    assert np.array_equal(got.view(np.int32), expected.view(np.int32))
