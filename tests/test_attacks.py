"""Same-mechanism membership attacks on small synthetic data (fast)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.metrics import roc_auc_score

from core.attacks import (
    FoldInConfig,
    attack_difference,
    attack_result,
    calibration_probe,
    fold_in_probe,
    fold_in_scores,
    known_user_check,
    record_probe,
    record_scores,
)
from core.attacks.fold_in import FoldInProbe, outsider_history_rows
from core.config import ExperimentConfig
from core.data.demo import demo_dataset
from core.experiment import prepare_data
from core.forget_request import ForgetRequest
from core.split import holdout_sizes


@pytest.fixture(scope="module")
def demo():
    ds = demo_dataset()
    return prepare_data(ExperimentConfig(request=ForgetRequest.parse("users:random:0.1")), ds)


class _Table:
    """A scorer with a fixed score table, optional unknown users and a popularity vector."""

    def __init__(self, table, known=None, popularity=None, sides=()):
        self.table = torch.as_tensor(table, dtype=torch.float32)
        self.n_users, self.n_items = self.table.shape
        self.known_users = None if known is None else torch.as_tensor(known)
        self.popularity = torch.zeros(self.n_items) if popularity is None else torch.as_tensor(popularity).float()
        self._sides = [torch.as_tensor(s, dtype=torch.float32) for s in sides]

    @property
    def device(self):
        return torch.device("cpu")

    def score(self, users):
        return self.table[users]

    def item_sides(self):
        return self._sides


def test_record_probe_pairs_forgotten_rows_with_the_same_users_held_out_rows(demo):
    ds, split, req = demo.dataset, demo.split, demo.request
    probe = record_probe(ds, split, req)
    assert probe.n_members == len(req.removed_rows)
    held = np.concatenate([split.valid, split.test])
    assert probe.n_non_members == int(np.isin(ds.users[held], req.forget_users).sum())
    assert set(np.unique(probe.users)) == set(req.forget_users)
    calib = calibration_probe(ds, split, req)
    assert not np.isin(calib.users, req.forget_users).any() and not np.isin(calib.users, split.outsiders).any()


def test_record_scores_use_one_mechanism_for_both_sides(demo):
    ds, req = demo.dataset, demo.request
    probe = record_probe(ds, demo.split, req)
    table = np.zeros((ds.n_users, ds.n_items))
    table[ds.users[req.removed_rows], ds.items[req.removed_rows]] = 1.0  # memorised exactly
    remembering = _Table(table)
    assert attack_result(probe, record_scores(remembering, probe)).auc == 1.0
    known = np.ones(ds.n_users, bool)
    known[req.forget_users] = False  # the same table, users marked unknown: popularity for both sides
    forgetting = _Table(table, known=known, popularity=np.ones(ds.n_items))
    scores = record_scores(forgetting, probe)
    assert np.all(scores == 1.0) and attack_result(probe, scores).auc == 0.5
    diff = attack_difference(probe, record_scores(remembering, probe), scores)
    assert diff.value == 0.5 and diff.low == 0.5


def test_outsider_histories_follow_the_split_train_size(demo):
    ds, split = demo.dataset, demo.split
    rows = outsider_history_rows(ds, split, seed=0)
    counts = np.bincount(ds.users[split.outsider_rows], minlength=ds.n_users)
    n_valid, n_test = holdout_sizes(counts, split.config)
    kept = np.bincount(ds.users[rows], minlength=ds.n_users)
    out = split.outsiders
    assert np.array_equal(kept[out], np.maximum(1, counts - n_valid - n_test)[out])
    assert np.array_equal(rows, outsider_history_rows(ds, split, seed=0))


def test_fold_in_probe_halves_each_history_reproducibly(demo):
    config = FoldInConfig(repeats=3)
    probe = fold_in_probe(demo.dataset, demo.split, demo.request, config, seed=1)
    sizes = np.diff(probe.history.indptr)
    assert sizes.min() >= config.min_rows
    assert set(probe.users[probe.labels == 1]) <= set(demo.request.forget_users)
    assert set(probe.users[probe.labels == 0]) <= set(demo.split.outsiders)
    row_of = np.repeat(np.arange(len(sizes)), sizes)
    for mask in probe.fold_masks:
        assert np.array_equal(np.bincount(row_of[mask], minlength=len(sizes)), sizes // 2)
    again = fold_in_probe(demo.dataset, demo.split, demo.request, config, seed=1)
    assert np.array_equal(probe.fold_masks, again.fold_masks)
    assert not np.array_equal(probe.fold_masks[0], probe.fold_masks[1])


def _reference_fold_in(v, fold_items, held_items, config):
    """One user, one split, written out with numpy and sklearn."""
    v = v.astype(np.float64)
    d = v.shape[1]
    gram = v.T @ v
    lam = config.ridge * np.trace(gram) / d
    va = v[fold_items]
    u = np.linalg.solve(gram + config.alpha * va.T @ va + lam * np.eye(d), (1 + config.alpha) * va.sum(0))
    scores = v @ u
    others = np.setdiff1d(np.arange(len(v)), fold_items)
    labels = np.isin(others, held_items).astype(int)
    return roc_auc_score(labels, scores[others])


def _probe_from(histories, n_items, masks):
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    cols = np.concatenate(histories)
    history = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(histories), n_items))
    history.sort_indices()
    return FoldInProbe(
        name="fold-in",
        users=np.arange(len(histories)),
        labels=np.array([1, 0] * (len(histories) // 2)),
        neutral_note="",
        history=history,
        fold_masks=masks,
    )


def test_fold_in_matches_a_written_out_reference_and_ensembles_average():
    rng = np.random.default_rng(0)
    n_items, d = 60, 5
    v = rng.normal(size=(n_items, d))
    histories = [np.sort(rng.choice(n_items, size=n, replace=False)) for n in (6, 9, 12, 7)]
    total = sum(len(h) for h in histories)
    masks = np.zeros((1, total), bool)
    start = 0
    for h in histories:  # first floor(n/2) entries of each (sorted) history fold in
        masks[0, start : start + len(h) // 2] = True
        start += len(h)
    probe = _probe_from(histories, n_items, masks)
    config = FoldInConfig(ridge=0.3, alpha=5.0, repeats=1)
    got = fold_in_scores(_Table(np.zeros((4, n_items)), sides=[v]), probe, config)
    want = [_reference_fold_in(v, h[: len(h) // 2], h[len(h) // 2 :], config) for h in histories]
    assert got == pytest.approx(want, abs=1e-9)
    twice = fold_in_scores(_Table(np.zeros((4, n_items)), sides=[v, v]), probe, config)
    assert twice == pytest.approx(got, abs=1e-9)


def test_fold_in_memo_reuses_only_identical_inputs(monkeypatch):
    import core.attacks.fold_in as fold_in

    rng = np.random.default_rng(2)
    n_items, d = 40, 4
    v = rng.normal(size=(n_items, d))
    histories = [np.sort(rng.choice(n_items, size=8, replace=False)) for _ in range(4)]
    masks = np.tile(np.r_[np.ones(4, bool), np.zeros(4, bool)], 4)[None]
    probe = _probe_from(histories, n_items, masks)
    computed = []
    real = fold_in._fold_in_all
    monkeypatch.setattr(fold_in, "_fold_in_all", lambda *a: computed.append(1) or real(*a))
    first = fold_in_scores(_Table(np.zeros((4, n_items)), sides=[v]), probe)
    first[:] = -1  # the caller's copy: the memo keeps its own
    again = fold_in_scores(_Table(np.zeros((4, n_items)), sides=[v.copy()]), probe)
    assert len(computed) == 1 and (again >= 0).all()
    v[0] += 1.0  # another item side: computed afresh
    moved = fold_in_scores(_Table(np.zeros((4, n_items)), sides=[v]), probe)
    other_split = _probe_from(histories, n_items, ~masks)  # another fold-in half: afresh
    fold_in_scores(_Table(np.zeros((4, n_items)), sides=[v]), other_split)
    assert len(computed) == 3 and not np.array_equal(moved, again)


def test_fold_in_finds_a_taste_the_item_side_encodes():
    # Items in 4 clusters of 50; a user whose history is 20 items of one cluster is easy
    # to fit: the 10 held-out items beat the 150 items of other clusters and tie on
    # average with the 40 unseen ones of their own, AUC ≈ (150 + 20) / 190 ≈ 0.89.
    # A user with a random history is not (≈ 0.5).
    rng = np.random.default_rng(1)
    n_items, d = 200, 8
    cluster = np.arange(n_items) % 4
    v = np.eye(d)[cluster] * 3 + rng.normal(0, 0.3, size=(n_items, d))
    focused = np.sort(rng.choice(np.flatnonzero(cluster == 2), 20, replace=False))
    scattered = np.sort(rng.choice(n_items, 20, replace=False))
    half = np.r_[np.ones(10, bool), np.zeros(10, bool)]
    masks = np.concatenate([rng.permutation(half), rng.permutation(half)])[None]
    got = fold_in_scores(_Table(np.zeros((2, n_items)), sides=[v]), _probe_from([focused, scattered], n_items, masks))
    assert got[0] > 0.85 and 0.3 < got[1] < 0.7


def test_fold_in_refuses_a_model_without_item_side(demo):
    probe = fold_in_probe(demo.dataset, demo.split, demo.request, FoldInConfig(repeats=1))
    with pytest.raises(ValueError, match="no item side"):
        fold_in_scores(_Table(np.zeros((demo.dataset.n_users, demo.dataset.n_items))), probe)


def test_known_user_check_is_a_plain_count():
    known = np.array([True, False, True, True, False])
    model = _Table(np.zeros((5, 3)), known=known)
    check = known_user_check(model, np.array([0, 1, 4, 4]))
    assert (check.n_users, check.n_known) == (3, 1) and check.share == pytest.approx(1 / 3)
    assert known_user_check(_Table(np.zeros((5, 3))), np.array([1, 2])).n_known == 2
    assert "not a membership attack" in check.note


def test_within_user_auc_matches_sklearn_user_by_user_and_ignores_scale():
    from core.attacks.common import within_user_auc

    rng = np.random.default_rng(0)
    scores, labels = rng.normal(size=400).round(1), rng.integers(0, 2, 400)
    users = rng.integers(0, 20, 400)
    ids, auc = within_user_auc(scores, labels, users)
    assert auc == pytest.approx([roc_auc_score(labels[users == u], scores[users == u]) for u in ids])
    # user 0's rows shifted by +100: nothing changes inside a user
    shifted = scores + 100.0 * (users == ids[0])
    assert within_user_auc(shifted, labels, users)[1] == pytest.approx(auc)
    one_sided = within_user_auc(np.array([1.0, 2.0]), np.array([1, 1]), np.array([5, 5]))[1]
    assert np.isnan(one_sided).all()


def test_held_out_auc_counts_ties_as_half_like_a_pairwise_count():
    from core.attacks.fold_in import _held_out_auc

    rng = np.random.default_rng(7)
    n, n_items = 6, 30
    scores = torch.as_tensor(rng.integers(0, 5, (n, n_items)).astype(np.float64))  # ties everywhere
    rows, cols = [], []
    for r in range(n):
        chosen = np.sort(rng.choice(n_items, rng.integers(2, 9), replace=False))
        rows += [r] * len(chosen)
        cols += chosen.tolist()
    rows, cols = torch.as_tensor(rows), torch.as_tensor(cols)
    fold = torch.as_tensor(rng.random(len(rows)) < 0.5)
    fold[0] = True  # row 0 keeps something on each side
    fold[1] = False
    got = _held_out_auc(scores.clone(), rows, cols, fold)
    for r in range(n):
        mine = rows == r
        held, folded = cols[mine & ~fold].tolist(), cols[mine & fold].tolist()
        negatives = [i for i in range(n_items) if i not in held and i not in folded]
        if not held:
            assert torch.isnan(got[r])
            continue
        wins = sum(
            float(scores[r, h] > scores[r, j]) + 0.5 * float(scores[r, h] == scores[r, j])
            for h in held
            for j in negatives
        )
        assert got[r].item() == pytest.approx(wins / (len(held) * len(negatives)))
