"""The seeded synthetic catalogue of any size (scale runs) keeps the demo's shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import core.data.synthetic as synthetic_mod
from core.cancel import cancellable
from core.data.dataset import Dataset
from core.data.demo import _shared_genres, demo_dataset
from core.data.synthetic import synthetic_dataset
from core.errors import Cancelled


def test_same_seed_same_data_other_seed_other_data():
    a, b = synthetic_dataset(3, 500, 8000), synthetic_dataset(3, 500, 8000)
    assert a.fingerprint() == b.fingerprint()
    assert synthetic_dataset(4, 500, 8000).fingerprint() != a.fingerprint()


def test_size_and_shape_follow_the_request():
    ds = synthetic_dataset(0, 2000, 40_000)
    assert ds.n_users == 2000 and ds.n_items == 400
    assert 0.9 * 40_000 <= ds.n_interactions <= 1.02 * 40_000
    assert not np.unique(ds.users * ds.n_items + ds.items, return_counts=True)[1].max() > 1
    assert {"title", "year", "genres"} <= set(ds.item_meta.columns)
    assert "favourite_genres" in ds.user_meta.columns
    assert set(np.unique(ds.ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def _liked_share(ds) -> float:
    fav = ds.user_meta["favourite_genres"].to_numpy()[ds.users]
    genres = ds.item_meta["genres"].to_numpy()[ds.items]
    return float(np.mean([bool(set(f) & set(g)) for f, g in zip(fav, genres)]))


def test_users_mostly_pick_their_genres_like_the_demo():
    syn = _liked_share(synthetic_dataset(1, 300, 15_000))
    demo = _liked_share(demo_dataset(1, 300, 400))
    assert syn > 0.75 and abs(syn - demo) < 0.1


def test_shared_genre_count_is_a_popcount():
    fav = np.array([[1, 1, 0], [0, 0, 1]], bool)
    genres = np.array([[1, 1, 1], [0, 1, 0]], bool)
    assert _shared_genres(fav, genres, np.array([0, 0, 1]), np.array([0, 1, 0])).tolist() == [2, 1, 1]


def test_refuses_fewer_interactions_than_users():
    with pytest.raises(ValueError):
        synthetic_dataset(0, 100, 50)


def test_chunks_each_have_a_cancel_point_and_keep_the_engine_order(monkeypatch):
    monkeypatch.setattr(synthetic_mod, "ROWS_PER_CHUNK", 2000)  # ~20 chunks
    ds = synthetic_dataset(2, 2000, 40_000)
    assert (np.bincount(ds.users, minlength=ds.n_users) > 0).all()
    assert (np.diff(ds.users) >= 0).all()
    same_user = np.diff(ds.users) == 0
    assert (np.diff(ds.timestamps)[same_user] > 0).all()
    assert ds.user_ids[ds.users[0]] == "1" and len(ds.user_meta) == ds.n_users == 2000
    calls = []

    def stop_at_the_third() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise Cancelled("stop")

    with cancellable(stop_at_the_third), pytest.raises(Cancelled):
        synthetic_dataset(2, 2000, 40_000)


def test_from_codes_holds_what_from_frame_would_build():
    ds = synthetic_dataset(5, 300, 6000)
    frame = pd.DataFrame(
        {"user": ds.user_ids[ds.users], "item": ds.item_ids[ds.items], "rating": ds.ratings, "timestamp": ds.timestamps}
    )
    again = Dataset.from_frame(frame, "again")

    def rows(d):
        return set(zip(d.user_ids[d.users], d.item_ids[d.items], d.ratings.tolist(), d.timestamps.tolist()))

    assert rows(again) == rows(ds) and again.n_users == ds.n_users and again.n_items == ds.n_items


def test_from_codes_refuses_rows_out_of_order():
    ids = np.array(["a", "b"], dtype=object)
    with pytest.raises(ValueError):
        Dataset.from_codes("x", [1, 0], [0, 1], [1, 1], [0, 0], ids, ids)
    with pytest.raises(ValueError):
        Dataset.from_codes("x", [0, 0], [0, 1], [1, 1], [5, 3], ids, ids)
    with pytest.raises(ValueError):
        Dataset.from_codes("x", [0, 2], [0, 1], [1, 1], [0, 0], ids, ids)
