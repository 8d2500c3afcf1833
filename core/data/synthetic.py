"""A seeded synthetic catalogue of any size in the demo's shape: for scale runs.

Same generative story as :mod:`core.data.demo` (users favour 1-3 genres, items carry
1-3 genres, Zipf popularity, affinity 1 inside a user's genres and 0.02 outside), but
items are drawn row by row from per-genre popularity tables instead of one dense
users × items ranking, so 1M users × 10M interactions fit in a few hundred MB.

Users are generated in chunks of about :data:`ROWS_PER_CHUNK` rows, each from its own
generator seeded by ``(seed, chunk)``, with a cancel point between chunks: a stop lands
within a fraction of a second at any size, and memory beyond the result stays one chunk.
Draws are with replacement; duplicates are dropped and topped up for a few rounds, so
a user may end with a few rows fewer than drawn. Timestamps, ratings and metadata come
from the demo's own :func:`~core.data.demo.finish_rows` and ``_user_meta``/``_item_meta``;
the rows go straight into :meth:`Dataset.from_codes` (no raw-ID strings per row, no pandas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.arrays import consecutive_ranges, union
from core.cancel import cancel_point
from core.data.dataset import Dataset
from core.data.demo import (
    _GENRE_SHARE,
    _LIKED_WEIGHT,
    _OTHER_WEIGHT,
    _POP_EXPONENT,
    _item_meta,
    _pick_genres,
    _user_meta,
    finish_rows,
)

_MAX_FAVOURITES = 3
_ROUNDS = 4
ROWS_PER_CHUNK = 150_000  # rows generated between two cancel points (~0.1 s)


def synthetic_dataset(
    seed: int = 0, n_users: int = 10_000, n_interactions: int = 100_000, n_items: int | None = None
) -> Dataset:
    """The synthetic catalogue as a :class:`Dataset` named "synthetic": about
    ``n_interactions`` rows (a little fewer after duplicates are dropped); ``n_items``
    defaults to one per 200 rows (items nobody drew are left out, as a loaded file would).
    User ``i`` has raw ID ``str(i + 1)``; item IDs are ``1..n_items`` as generated."""
    if n_users < 1 or n_interactions < n_users:
        raise ValueError("need at least one user and one interaction per user")
    n_items = n_items or max(400, n_interactions // 200)
    rng = np.random.default_rng(seed)
    item_genres = _pick_genres(rng, n_items, _GENRE_SHARE, np.array([0.45, 0.4, 0.15]))
    popularity = 1.0 / (rng.permutation(n_items) + 3.0) ** _POP_EXPONENT
    popularity /= popularity.sum()
    quality = rng.normal(0.0, 0.5, n_items)
    mean = n_interactions / n_users
    per_user = np.clip(np.round(rng.lognormal(np.log(mean), 0.55, n_users)), 1, min(n_items // 2, 30 * mean))
    per_user = np.maximum(1, np.round(per_user * n_interactions / per_user.sum())).astype(np.int64)
    tables = _Tables.of(item_genres, popularity, quality)
    user_ids = np.arange(1, n_users + 1).astype(str).astype(object)
    parts = []
    for chunk, (start, stop) in enumerate(_chunks(per_user, ROWS_PER_CHUNK)):
        cancel_point()
        parts.append(
            _chunk(np.random.default_rng([int(seed), chunk]), per_user[start:stop], start, tables, user_ids[start:stop])
        )
    cancel_point()
    users, items, timestamps, ratings = (np.concatenate([p[k] for p in parts]) for k in range(4))
    cancel_point()
    item_ids = np.arange(1, n_items + 1).astype(str).astype(object)
    item_meta = _item_meta(rng, item_ids, item_genres).reset_index(drop=True)
    drawn = np.bincount(items, minlength=n_items) > 0  # like a loaded file: only items someone has
    return Dataset.from_codes(
        "synthetic",
        users,
        (np.cumsum(drawn) - 1)[items],
        ratings,
        timestamps,
        user_ids,
        item_ids[drawn],
        item_meta=item_meta[drawn].reset_index(drop=True),
        user_meta=pd.concat([p[4] for p in parts]).reset_index(drop=True),
        source="synthetic",
    )


@dataclass(frozen=True)
class _Tables:
    """What every chunk draws from (built once): genres, popularity, quality, and the
    cumulative popularity tables of the inverse-CDF draws."""

    item_genres: np.ndarray
    popularity: np.ndarray
    quality: np.ndarray
    mass: np.ndarray  # popularity mass per genre
    member_item: np.ndarray  # items of every (genre, item) pair, genre-major
    member_cum: np.ndarray  # cumulative popularity along member_item
    genre_start: np.ndarray  # where each genre's mass starts in member_cum
    cum_popularity: np.ndarray

    @classmethod
    def of(cls, item_genres: np.ndarray, popularity: np.ndarray, quality: np.ndarray) -> "_Tables":
        mass = popularity @ item_genres
        _, member_item = np.nonzero(item_genres.T)
        return cls(
            item_genres,
            popularity,
            quality,
            mass,
            member_item,
            np.cumsum(popularity[member_item]),
            np.concatenate(([0.0], np.cumsum(mass)))[: item_genres.shape[1]],
            np.cumsum(popularity),
        )


def _chunks(per_user: np.ndarray, rows: int) -> list[tuple[int, int]]:
    """Consecutive user ranges of about ``rows`` rows each (at least one user)."""
    return consecutive_ranges(per_user, rows)


def _chunk(rng: np.random.Generator, per_user: np.ndarray, first: int, tables: _Tables, user_ids: np.ndarray):
    """(users, items, timestamps, ratings, user metadata) of one chunk of users."""
    n_users, n_items = len(per_user), len(tables.popularity)
    favourites = _pick_genres(rng, n_users, np.sqrt(_GENRE_SHARE), np.array([0, 0.6, 0.4]))
    pairs = np.zeros(0, np.int64)
    for _ in range(_ROUNDS):  # top up what duplicates took away, a few rounds at most
        missing = per_user - np.bincount(pairs // n_items, minlength=n_users)
        if not missing.any():
            break
        users = np.repeat(np.arange(n_users), np.maximum(missing, 0))
        items = _draw_items(rng, users, favourites, tables)
        pairs = union(pairs, users * np.int64(n_items) + items)  # sorted by user, no duplicates
    users = pairs // n_items
    items, timestamps, ratings = finish_rows(
        rng, users, pairs % n_items, tables.item_genres, favourites, tables.quality
    )
    return users + first, items, timestamps, ratings, _user_meta(rng, user_ids, favourites)


def _draw_items(rng, users, favourites, tables: _Tables) -> np.ndarray:
    """One item per row: from one of the user's genres (∝ genre mass, then ∝ popularity
    inside it) with probability liked/(liked + other), else from the whole catalogue."""
    mass = tables.mass
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
    target = tables.genre_start[genre] + rng.random(len(users)) * mass[genre]
    in_genre = tables.member_item[np.minimum(np.searchsorted(tables.member_cum, target), len(tables.member_cum) - 1)]
    anywhere = np.minimum(np.searchsorted(tables.cum_popularity, rng.random(len(users))), len(tables.popularity) - 1)
    return np.where(from_liked, in_genre, anywhere).astype(np.int64)
