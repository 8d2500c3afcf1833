"""Split disjointness, outsiders, request selectors and their errors, similar users."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from core.data.dataset import Dataset
from core.errors import RequestError
from core.forget_request import ForgetRequest, resolve_request
from core.groups import make_groups, similar_users
from core.split import SplitConfig, make_split


def tiny_dataset(n_users=40, n_items=30, per_user=12, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        # user u's activity grows with u so core/edge are well defined
        k = 5 + (u % per_user) + u // 4
        for i in rng.choice(n_items, size=min(k, n_items), replace=False):
            rows.append((f"u{u}", f"i{i}", float(rng.integers(1, 6)), int(rng.integers(0, 10_000))))
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    meta = pd.DataFrame(
        {
            "title": [f"Film {i}" for i in range(n_items)],
            "genres": [["Horror"] if i % 5 == 0 else ["Comedy"] for i in range(n_items)],
        },
        index=[f"i{i}" for i in range(n_items)],
    )
    return Dataset.from_frame(frame, "tiny", item_meta=meta)


@pytest.mark.parametrize("mode", ["random", "loo", "chrono"])
def test_split_is_disjoint_complete_and_seeded(mode):
    ds = tiny_dataset()
    split = make_split(ds, SplitConfig(mode=mode, seed=3))
    parts = [split.train, split.valid, split.test, split.outsider_rows]
    union = np.concatenate(parts)
    assert len(union) == len(np.unique(union)) == ds.n_interactions
    assert len(split.outsiders) == round(0.1 * ds.n_users)
    assert not np.isin(ds.users[split.train], split.outsiders).any()
    again = make_split(ds, SplitConfig(mode=mode, seed=3))
    assert np.array_equal(again.test, split.test)
    other = make_split(ds, SplitConfig(mode=mode, seed=4))
    assert not np.array_equal(other.outsiders, split.outsiders)


def test_random_split_ratios_follow_recbole_rounding():
    ds = tiny_dataset()
    split = make_split(ds, SplitConfig(outsider_fraction=0.0))
    counts = ds.user_counts()
    tests = ds.user_counts(split.test)
    assert np.array_equal(tests, np.maximum(np.floor(0.1 * counts), 1))


def test_chronological_split_puts_latest_rows_in_test():
    ds = tiny_dataset()
    split = make_split(ds, SplitConfig(mode="chrono", outsider_fraction=0.0))
    for u in range(5):
        train_t = ds.timestamps[split.train][ds.users[split.train] == u]
        test_t = ds.timestamps[split.test][ds.users[split.test] == u]
        assert train_t.max() <= test_t.min()


def test_user_request_removes_only_their_train_rows():
    ds = tiny_dataset()
    split = make_split(ds)
    req = resolve_request(ds, split, ForgetRequest("users", "random", 0.1, seed=1))
    assert set(np.unique(ds.users[req.removed_rows])) == set(req.target_users)
    assert np.isin(req.removed_rows, split.train).all()
    assert len(req.removed_rows) + len(req.retained_rows) == len(split.train)
    assert not np.isin(ds.users[req.retained_rows], req.target_users).any()


def test_core_and_edge_pick_most_and_least_active():
    ds = tiny_dataset()
    split = make_split(ds)
    counts = ds.user_counts(split.train)
    core = resolve_request(ds, split, ForgetRequest("users", "core", 0.1)).target_users
    edge = resolve_request(ds, split, ForgetRequest("users", "edge", 0.1)).target_users
    assert counts[core].min() >= counts[edge].max()


def test_item_genre_request_and_interaction_request():
    ds = tiny_dataset()
    split = make_split(ds)
    horror = resolve_request(ds, split, ForgetRequest.parse("items:genre:horror"))
    assert all(int(ds.item_ids[i][1:]) % 5 == 0 for i in horror.target_items)
    assert not np.isin(ds.items[horror.retained_rows], horror.target_items).any()
    inter = resolve_request(ds, split, ForgetRequest.parse("interactions:random:0.05"))
    assert len(inter.removed_rows) == round(0.05 * len(split.train))


@pytest.mark.parametrize(
    "text, message",
    [
        ("users:ids:nobody", "unknown user ID"),
        ("items:genre:Western", "no item has genre"),
        ("users:random:1.5", "between 0 and 1"),
        ("users:random:0.0001", "selects nobody"),
        ("users:ids:", "names no user"),
        ("planets:random:0.1", "request kind"),
        ("users:genre:Horror", "does not apply"),
        ("users:random", "kind:selector:value"),
        ("interactions:ids:u1-i2", "user|item"),
    ],
)
def test_bad_requests_name_the_problem(text, message):
    ds = tiny_dataset()
    split = make_split(ds)
    with pytest.raises(RequestError, match=message):
        resolve_request(ds, split, ForgetRequest.parse(text))


def test_request_removing_everything_is_refused():
    ds = tiny_dataset(n_users=4, n_items=5)
    split = make_split(ds, SplitConfig(outsider_fraction=0.0))
    all_users = ",".join(map(str, ds.user_ids))
    with pytest.raises(RequestError, match="every user"):
        resolve_request(ds, split, ForgetRequest.parse(f"users:ids:{all_users}"))


def test_outsider_cannot_be_forgotten():
    ds = tiny_dataset()
    split = make_split(ds)
    outsider = ds.user_ids[split.outsiders[0]]
    with pytest.raises(RequestError, match="no training interactions"):
        resolve_request(ds, split, ForgetRequest.parse(f"users:ids:{outsider}"))


def test_similar_users_are_cosine_neighbours():
    # users 0 and 1 share items; user 2 is disjoint from 0
    history = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]], dtype=float))
    picked = similar_users(history, np.array([0]), np.array([1, 2, 3]), top_n=1)
    assert picked.tolist() == [1]
    picked2 = similar_users(history, np.array([0]), np.array([1, 2, 3]), top_n=3)
    assert picked2.tolist() == [1, 3]  # user 2 has zero similarity: never picked


def test_groups_are_disjoint_and_computed():
    ds = tiny_dataset()
    split = make_split(ds)
    req = resolve_request(ds, split, ForgetRequest("users", "random", 0.1))
    groups = make_groups(ds, split, req, top_n=3)
    assert not np.intersect1d(groups.retain, groups.forget).size
    assert not np.isin(groups.similar, req.forget_users).any()
    assert np.isin(groups.similar, groups.retain).all()
    assert not np.isin(groups.retain, split.outsiders).any()
    assert 0 < len(groups.similar) <= 3 * len(req.forget_users)


@pytest.mark.parametrize("mode", ["random", "chrono"])
def test_split_sorted_in_slices_is_the_same_split_and_can_be_stopped(monkeypatch, mode):
    import core.split as split_mod
    from core.cancel import cancellable
    from core.data.synthetic import synthetic_dataset
    from core.errors import Cancelled

    ds = synthetic_dataset(0, 400, 8000)
    whole = make_split(ds, SplitConfig(mode=mode, seed=3))
    monkeypatch.setattr(split_mod, "ROWS_PER_SORT", 500)  # ~16 slices, each ending on a user boundary
    sliced = make_split(ds, SplitConfig(mode=mode, seed=3))
    for part in ("train", "valid", "test", "outsiders"):
        assert np.array_equal(getattr(whole, part), getattr(sliced, part))

    def stop() -> None:
        raise Cancelled("stop")

    with cancellable(stop), pytest.raises(Cancelled):
        make_split(ds, SplitConfig(mode=mode, seed=3))
