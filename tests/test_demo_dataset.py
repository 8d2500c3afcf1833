"""The built-in demo catalogue: deterministic, MovieLens-shaped, and learnable."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import demo_dataset, load_dataset


@pytest.fixture(scope="module")
def demo():
    return demo_dataset()


def test_same_seed_same_dataset(demo):
    again = demo_dataset(seed=0)
    assert again.fingerprint() == demo.fingerprint()
    assert again.item_meta.equals(demo.item_meta) and again.user_meta.equals(demo.user_meta)
    assert demo_dataset(seed=1).fingerprint() != demo.fingerprint()
    assert load_dataset("demo").fingerprint() == demo.fingerprint()


def test_size_and_per_user_counts(demo):
    assert demo.name == "demo"
    assert (demo.n_users, demo.n_items) == (300, 400)
    per_user = demo.user_counts()
    assert per_user.min() >= 20 and per_user.max() <= 150
    assert 40 <= np.median(per_user) <= 60
    small = demo_dataset(seed=2, n_users=50, n_items=80)
    assert small.n_users == 50 and small.n_items <= 80


def test_items_have_genres_titles_and_years(demo):
    genres = demo.all_genres()
    assert len(genres) >= 15
    assert {"Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi"} <= set(genres)
    assert all(1 <= len(g) <= 3 for g in demo.item_genres())
    titles = demo.item_meta["title"]
    assert titles.is_unique and all(isinstance(t, str) and t for t in titles)
    years = demo.item_meta["year"].astype(int)
    assert years.between(1970, 2020).all() and years.nunique() > 30


def test_users_have_profiles(demo):
    meta = demo.user_meta
    assert meta["age"].between(15, 70).all()
    assert set(meta["gender"]) == {"M", "F"}
    assert meta["occupation"].nunique() > 10
    assert all(2 <= len(f) <= 3 for f in meta["favourite_genres"])


def test_ratings_and_timestamps(demo):
    assert set(np.unique(demo.ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    same_user = demo.users[1:] == demo.users[:-1]
    assert (np.diff(demo.timestamps)[same_user] > 0).all()


def test_popularity_is_skewed(demo):
    counts = np.sort(demo.item_counts())[::-1]
    top_tenth = counts[: len(counts) // 10].sum() / counts.sum()
    assert top_tenth > 0.25  # uniform popularity would give 0.10
    assert counts[0] > 5 * np.median(counts)


def _in_favourites(demo) -> np.ndarray:
    favourites = [set(f) for f in demo.user_meta["favourite_genres"]]
    genres = [set(g) for g in demo.item_genres()]
    return np.array([bool(genres[i] & favourites[u]) for u, i in zip(demo.users, demo.items)])


def test_interactions_follow_genre_taste(demo):
    liked = _in_favourites(demo)
    favourites = [set(f) for f in demo.user_meta["favourite_genres"]]
    genres = [set(g) for g in demo.item_genres()]
    chance = np.mean([np.mean([bool(g & f) for g in genres]) for f in favourites])
    assert liked.mean() > 2 * chance  # ~0.8 against ~0.3
    assert demo.ratings[liked].mean() > demo.ratings[~liked].mean() + 0.5


def _recall_at_20(train, test, scores) -> float:
    scores = np.where(train > 0, -np.inf, scores)
    top = np.argsort(-scores, axis=1)[:, :20]
    hits = np.take_along_axis(test, top, axis=1).sum(axis=1)
    n = test.sum(axis=1)
    ok = n > 0
    return float((hits[ok] / np.minimum(n[ok], 20)).mean())


def test_personalised_model_beats_popularity(demo):
    """Item-kNN (a stand-in for BPR, no training needed) must clearly beat popularity."""
    held = np.random.default_rng(0).random(demo.n_interactions) < 0.2
    train = demo.matrix(np.flatnonzero(~held)).toarray()
    test = demo.matrix(np.flatnonzero(held)).toarray()
    popularity = np.broadcast_to(train.sum(axis=0), train.shape).astype(float)
    normed = train / np.sqrt(train.sum(axis=0) + 1e-9)
    similarity = normed.T @ normed
    np.fill_diagonal(similarity, 0.0)
    pop = _recall_at_20(train, test, popularity)
    knn = _recall_at_20(train, test, train @ similarity)
    assert knn > 1.2 * pop, (knn, pop)  # ~0.42 against ~0.30
