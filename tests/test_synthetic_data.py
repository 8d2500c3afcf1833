"""The seeded synthetic catalogue of any size (scale runs) keeps the demo's shape."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.demo import _shared_genres, demo_frames
from core.data.synthetic import synthetic_dataset, synthetic_frames


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


def _liked_share(frame, items, users) -> float:
    fav = users["favourite_genres"].reindex(frame["user"]).to_numpy()
    genres = items["genres"].reindex(frame["item"]).to_numpy()
    return float(np.mean([bool(set(f) & set(g)) for f, g in zip(fav, genres)]))


def test_users_mostly_pick_their_genres_like_the_demo():
    syn = _liked_share(*synthetic_frames(1, 300, 15_000))
    demo = _liked_share(*demo_frames(1, 300, 400))
    assert syn > 0.75 and abs(syn - demo) < 0.1


def test_shared_genre_count_is_a_popcount():
    fav = np.array([[1, 1, 0], [0, 0, 1]], bool)
    genres = np.array([[1, 1, 1], [0, 1, 0]], bool)
    assert _shared_genres(fav, genres, np.array([0, 0, 1]), np.array([0, 1, 0])).tolist() == [2, 1, 1]


def test_refuses_fewer_interactions_than_users():
    with pytest.raises(ValueError):
        synthetic_frames(0, 100, 50)
