"""A seeded synthetic catalogue of any size in the demo's shape: for scale runs.

Same generative story as :mod:`core.data.demo` (users favour 1-3 genres, items carry
1-3 genres, Zipf popularity, affinity 1 inside a user's genres and 0.02 outside), but
items are drawn row by row from per-genre popularity tables instead of one dense
users × items ranking, so 1M users × 10M interactions fit in a few hundred MB.
Draws are with replacement; duplicates are dropped and topped up for a few rounds, so
a user may end with a few rows fewer than drawn; the timestamps, ratings, raw IDs and metadata come from the
demo's own :func:`~core.data.demo.finish_frames`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.dataset import Dataset
from core.data.demo import _GENRE_SHARE, _LIKED_WEIGHT, _OTHER_WEIGHT, _POP_EXPONENT, _pick_genres, finish_frames

_MAX_FAVOURITES = 3
_ROUNDS = 4


def synthetic_dataset(seed: int = 0, n_users: int = 10_000, n_interactions: int = 100_000,
                      n_items: int | None = None) -> Dataset:
    """The synthetic catalogue as a :class:`Dataset` named "synthetic"."""
    frame, items, users = synthetic_frames(seed, n_users, n_interactions, n_items)
    return Dataset.from_frame(frame, "synthetic", item_meta=items, user_meta=users, source="synthetic")


def synthetic_frames(
    seed: int = 0, n_users: int = 10_000, n_interactions: int = 100_000, n_items: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(interactions, item metadata, user metadata) by raw ID; about ``n_interactions`` rows
    (a little fewer after duplicates are dropped). ``n_items`` defaults to one per 200 rows."""
    if n_users < 1 or n_interactions < n_users:
        raise ValueError("need at least one user and one interaction per user")
    n_items = n_items or max(400, n_interactions // 200)
    rng = np.random.default_rng(seed)
    item_genres = _pick_genres(rng, n_items, _GENRE_SHARE, np.array([0.45, 0.4, 0.15]))
    favourites = _pick_genres(rng, n_users, np.sqrt(_GENRE_SHARE), np.array([0, 0.6, 0.4]))
    popularity = 1.0 / (rng.permutation(n_items) + 3.0) ** _POP_EXPONENT
    popularity /= popularity.sum()
    quality = rng.normal(0.0, 0.5, n_items)

    mean = n_interactions / n_users
    per_user = np.clip(np.round(rng.lognormal(np.log(mean), 0.55, n_users)), 1, min(n_items // 2, 30 * mean))
    per_user = np.maximum(1, np.round(per_user * n_interactions / per_user.sum())).astype(np.int64)
    pairs = np.zeros(0, np.int64)
    for _ in range(_ROUNDS):  # top up what duplicates took away, a few rounds at most
        missing = per_user - np.bincount(pairs // n_items, minlength=n_users)
        if not missing.any():
            break
        users = np.repeat(np.arange(n_users), np.maximum(missing, 0))
        items = _draw_items(rng, users, favourites, item_genres, popularity)
        pairs = np.union1d(pairs, users * np.int64(n_items) + items)  # sorted by user, no duplicates
    return finish_frames(rng, pairs // n_items, pairs % n_items, item_genres, favourites, quality)


def _draw_items(rng, users, favourites, item_genres, popularity) -> np.ndarray:
    """One item per row: from one of the user's genres (∝ genre mass, then ∝ popularity
    inside it) with probability liked/(liked + other), else from the whole catalogue."""
    n_genres = item_genres.shape[1]
    mass = popularity @ item_genres  # popularity mass per genre
    fav_idx = np.argsort(~favourites, axis=1, kind="stable")[:, :_MAX_FAVOURITES]
    fav_w = np.take_along_axis(favourites, fav_idx, axis=1) * mass[fav_idx]
    liked = np.minimum(fav_w.sum(axis=1), 1.0)
    p_liked = _LIKED_WEIGHT * liked / (_LIKED_WEIGHT * liked + _OTHER_WEIGHT * (1.0 - liked))
    from_liked = rng.random(len(users)) < p_liked[users]
    # genre of each liked row: inverse CDF over the user's (≤ 3) favourite weights
    cum = np.cumsum(fav_w, axis=1)
    u = rng.random(len(users)) * cum[users, -1]
    slot = np.minimum((u[:, None] >= cum[users]).sum(axis=1), _MAX_FAVOURITES - 1)
    genre = fav_idx[users, slot]
    # item inside a genre: one table of every (genre, item) pair, cumulative popularity
    member_genre, member_item = np.nonzero(item_genres.T)
    table = np.cumsum(popularity[member_item])
    genre_start = np.concatenate(([0.0], np.cumsum(mass)))[:n_genres]
    target = genre_start[genre] + rng.random(len(users)) * mass[genre]
    in_genre = member_item[np.minimum(np.searchsorted(table, target), len(table) - 1)]
    anywhere = np.minimum(np.searchsorted(np.cumsum(popularity), rng.random(len(users))), len(popularity) - 1)
    return np.where(from_liked, in_genre, anywhere).astype(np.int64)
