"""Memory that grows with the data, never with users × users (issue 16, scale)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import core.groups as groups_mod
from core.evaluation.bootstrap import auc_replicates, bootstrap_mean
from core.groups import sample_sources, similar_users


def _random_history(n_users: int, n_items: int, per_user: int, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = rng.integers(0, n_items, len(users))
    m = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=(n_users, n_items))
    m.data[:] = 1.0
    return m


def _dense_reference(history, sources, candidates, top_n):
    norms = np.sqrt(np.asarray(history.multiply(history).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    h = history.toarray() / norms[:, None]
    sims = h[sources] @ h[candidates].T
    out = set()
    for row in sims:
        order = np.lexsort((np.arange(len(row)), -row))[:top_n]
        out.update(candidates[order[row[order] > 0]].tolist())
    return sorted(out)


def test_similar_users_blocked_matches_dense_reference(monkeypatch):
    history = _random_history(300, 40, 5, seed=1)
    sources, candidates = np.arange(0, 300, 7), np.setdiff1d(np.arange(300), np.arange(0, 300, 7))
    monkeypatch.setattr(groups_mod, "_PRODUCTS_PER_BLOCK", 50)  # many small blocks
    blocked = similar_users(history, sources, candidates, top_n=4)
    assert blocked.tolist() == _dense_reference(history, sources, candidates, 4)


def test_similar_users_memory_does_not_grow_with_users_squared():
    history = _random_history(200_000, 20_000, 3, seed=2)
    sources, candidates = np.arange(2000), np.arange(2000, 200_000)
    tracemalloc.start()
    picked = similar_users(history, sources, candidates, top_n=10)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(picked) > 0
    dense_bytes = len(sources) * len(candidates) * 8  # what the old dense block took: 3.2 GB
    assert peak < 150e6 < dense_bytes / 20


def test_sample_sources_is_seeded_and_bounded():
    forget = np.arange(10_000)
    a, b = sample_sources(forget, 100, 3), sample_sources(forget, 100, 3)
    assert len(a) == 100 and a.tolist() == b.tolist()
    assert sample_sources(forget[:50], 100, 3).tolist() == forget[:50].tolist()


def _peak(fn) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_bootstrap_mean_is_chunked_and_unchanged():
    x = np.random.default_rng(0).random(200_000)
    peak = _peak(lambda: bootstrap_mean(x, seed=1))
    assert peak < 500e6 < 1000 * len(x) * 8 * 2  # the unchunked draw + gather: 3.2 GB
    # chunking keeps the very same draws: equal to one (n_boot, n) block
    small = np.random.default_rng(1).random(997)
    rng = np.random.default_rng(5)
    means = small[rng.integers(0, len(small), size=(1000, len(small)))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    interval = bootstrap_mean(small, seed=5)
    assert (interval.low, interval.high) == (low, high)


def test_auc_bootstrap_counts_stay_compact():
    rng = np.random.default_rng(2)
    n = 300_000
    users = rng.integers(0, 100_000, n)
    labels = (rng.random(n) < 0.3).astype(int)
    scores = rng.random(n).round(2)
    peak = _peak(lambda: auc_replicates(scores, labels, users, seed=0))
    assert peak < 800e6 < 1000 * 100_000 * 8 * 3  # float64 counts + draws + bincount: 2.4 GB


def test_cancel_point_stops_a_long_stage_only_inside_cancellable():
    from core.cancel import cancellable
    from core.errors import Cancelled

    history = _random_history(2000, 100, 5, seed=3)
    sources, candidates = np.arange(500), np.arange(500, 2000)
    assert len(similar_users(history, sources, candidates)) > 0  # no hook: runs through

    def stop() -> None:
        raise Cancelled("stop")

    with cancellable(stop), pytest.raises(Cancelled):
        similar_users(history, sources, candidates)
    with cancellable(stop), pytest.raises(Cancelled):
        bootstrap_mean(np.random.default_rng(0).random(100))


def test_fold_in_probe_samples_at_most_max_users_per_side():
    from core.attacks.fold_in import FoldInConfig, fold_in_probe
    from core.data.synthetic import synthetic_dataset
    from core.forget_request import ForgetRequest, resolve_request
    from core.split import make_split

    ds = synthetic_dataset(0, 3000, 60_000)
    split = make_split(ds)
    request = resolve_request(ds, split, ForgetRequest.parse("users:random:0.2"))
    probe = fold_in_probe(ds, split, request, FoldInConfig(max_users=50), seed=1)
    assert probe.n_members == 50 and probe.n_non_members == 50
    again = fold_in_probe(ds, split, request, FoldInConfig(max_users=50), seed=1)
    assert probe.users.tolist() == again.users.tolist()


def _lexsort_top(sims: sp.csr_matrix, top_n: int) -> list[int]:
    """The former selection: one lexsort of every entry by (row, −value, column)."""
    rows = np.repeat(np.arange(sims.shape[0]), np.diff(sims.indptr))
    keep = sims.data > 0
    rows, cols, vals = rows[keep], sims.indices[keep], sims.data[keep]
    order = np.lexsort((cols, -vals, rows))
    rows, cols = rows[order], cols[order]
    first = np.searchsorted(rows, rows, side="left")
    return sorted(cols[np.arange(len(rows)) - first < top_n].tolist())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_per_row_keeps_the_lexsort_choice_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = 40, 300
    lengths = rng.integers(0, 120, n_rows)  # rows shorter and longer than top_n, many size classes
    rows = np.repeat(np.arange(n_rows), lengths)
    cols = rng.integers(0, n_cols, len(rows))
    vals = rng.integers(0, 4, len(rows)) / 4.0  # few distinct values (zeros too): ties everywhere
    sims = sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))
    sims.data = np.round(sims.data * 4) / 4  # summed duplicates stay on the coarse grid
    for top_n in (1, 10, 50):
        assert sorted(groups_mod._top_per_row(sims.copy(), top_n).tolist()) == _lexsort_top(sims, top_n)
