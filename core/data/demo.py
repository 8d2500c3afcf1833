"""A built-in, MovieLens-like demo catalogue: the app works with no file and no network.

Users prefer 2-3 genres and pick items with probability (genre affinity × popularity),
so a recommender has real structure to learn (BPR beats popularity), and forgetting a
genre or a user has a visible effect. Everything comes from one seeded generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.dataset import Dataset

GENRES = [
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]
# how common each genre is in the catalogue (roughly MovieLens' shares)
_GENRE_SHARE = np.array([10, 6, 2, 3, 16, 5, 2, 20, 2, 1, 4, 2, 3, 7, 5, 9, 2, 1], float)
OCCUPATIONS = [
    "student",
    "other",
    "educator",
    "engineer",
    "programmer",
    "administrator",
    "writer",
    "librarian",
    "technician",
    "executive",
    "healthcare",
    "artist",
    "scientist",
    "marketing",
    "entertainment",
    "retired",
    "lawyer",
    "salesman",
    "homemaker",
    "doctor",
    "none",
]
_OCCUPATION_SHARE = np.array([20, 10, 9, 7, 7, 8, 5, 5, 3, 3, 2, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1], float)
_ADJECTIVES = [
    "Silent",
    "Midnight",
    "Crimson",
    "Broken",
    "Hidden",
    "Last",
    "Golden",
    "Frozen",
    "Electric",
    "Wild",
    "Lonely",
    "Burning",
    "Distant",
    "Secret",
    "Savage",
    "Quiet",
    "Endless",
    "Velvet",
    "Iron",
    "Paper",
    "Lucky",
    "Dark",
    "Bright",
    "Restless",
]
_NOUNS = [
    "Harbor",
    "Protocol",
    "Garden",
    "Horizon",
    "Empire",
    "River",
    "Detective",
    "Summer",
    "Kingdom",
    "Signal",
    "Stranger",
    "Circus",
    "Frontier",
    "Mirror",
    "Orchard",
    "Voyage",
    "Machine",
    "Heart",
    "Shadow",
    "Island",
    "Letter",
    "Station",
    "Dream",
    "Witness",
    "Season",
    "Promise",
    "Outlaw",
    "Planet",
    "Melody",
    "Alibi",
]
_PLACES = ["Paris", "Nowhere", "Brooklyn", "the North", "Tomorrow", "Avalon", "Rio", "Mars"]
_LIKED_WEIGHT, _OTHER_WEIGHT = 1.0, 0.02  # affinity of an item in / outside a user's genres
_POP_EXPONENT = 1.2  # Zipf exponent of item popularity
_START = 883_612_800  # 1998-01-01, MovieLens era


def demo_dataset(seed: int = 0, n_users: int = 300, n_items: int = 400) -> Dataset:
    """The demo catalogue as a :class:`Dataset` named "demo"; same seed, same fingerprint."""
    frame, items, users = demo_frames(seed, n_users, n_items)
    return Dataset.from_frame(frame, "demo", item_meta=items, user_meta=users, source="demo")


def demo_frames(
    seed: int = 0, n_users: int = 300, n_items: int = 400
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(interactions, item metadata, user metadata) by raw ID, before any filter."""
    rng = np.random.default_rng(seed)
    item_genres = _pick_genres(rng, n_items, _GENRE_SHARE, np.array([0.45, 0.4, 0.15]))
    favourites = _pick_genres(rng, n_users, np.sqrt(_GENRE_SHARE), np.array([0, 0.6, 0.4]))
    popularity = 1.0 / (rng.permutation(n_items) + 3.0) ** _POP_EXPONENT  # Zipf-like, shuffled
    quality = rng.normal(0.0, 0.5, n_items)
    overlap = favourites.astype(float) @ item_genres.T.astype(float)  # users × items
    affinity = np.where(overlap > 0, _LIKED_WEIGHT, _OTHER_WEIGHT)

    per_user = np.clip(np.round(rng.lognormal(np.log(50), 0.55, n_users)), 20, 150)
    per_user = np.minimum(per_user, max(1, n_items // 2)).astype(np.int64)
    # Gumbel top-k: sampling without replacement with probability ∝ affinity × popularity
    keys = np.log(affinity * popularity) + rng.gumbel(size=(n_users, n_items))
    ranked = np.argsort(-keys, axis=1, kind="stable")
    chosen = np.arange(n_items)[None, :] < per_user[:, None]
    users = np.repeat(np.arange(n_users), per_user)
    return finish_frames(rng, users, ranked[chosen], item_genres, favourites, quality)


def finish_frames(
    rng: np.random.Generator,
    users: np.ndarray,
    items: np.ndarray,
    item_genres: np.ndarray,
    favourites: np.ndarray,
    quality: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Timestamps, ratings, raw IDs and metadata for chosen (user, item) rows sorted by
    user (no users × items array here)."""
    n_users, n_items = len(favourites), len(item_genres)
    items, timestamps, ratings = finish_rows(rng, users, items, item_genres, favourites, quality)
    user_ids = np.arange(1, n_users + 1).astype(str).astype(object)
    item_ids = np.arange(1, n_items + 1).astype(str).astype(object)
    frame = pd.DataFrame(
        {
            "user": user_ids[users],
            "item": item_ids[items],
            "rating": ratings,
            "timestamp": timestamps,
        }
    )
    return frame, _item_meta(rng, item_ids, item_genres), _user_meta(rng, user_ids, favourites)


def finish_rows(
    rng: np.random.Generator,
    users: np.ndarray,
    items: np.ndarray,
    item_genres: np.ndarray,
    favourites: np.ndarray,
    quality: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(items, timestamps, ratings)`` of rows sorted by user, put in a random time order
    inside each user: shared by the demo and the synthetic generator of any size."""
    n_users = len(favourites)
    per_user = np.bincount(users, minlength=n_users)
    # time order inside a user is random; timestamps increase along it
    order = np.lexsort((rng.random(len(users)), users))
    items = items[order]
    starts = np.concatenate(([0], np.cumsum(per_user)[:-1]))
    gaps = rng.exponential(86_400.0, len(users)).astype(np.int64) + 60
    elapsed = np.cumsum(gaps)
    elapsed -= (elapsed[starts] - gaps[starts])[users]
    first = _START + rng.integers(0, 2 * 365 * 86_400, n_users)
    timestamps = first[users] + elapsed

    liked = _shared_genres(favourites, item_genres, users, items)
    score = (
        2.6
        + 1.1 * (liked > 0)
        + 0.3 * (liked > 1)
        + quality[items]
        + rng.normal(0.0, 0.35, n_users)[users]
        + rng.normal(0.0, 0.7, len(users))
    )
    return items, timestamps, np.clip(np.round(score), 1, 5).astype(np.float32)


def _shared_genres(favourites: np.ndarray, item_genres: np.ndarray, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """How many genres each row's user favours among its item's genres (bit masks, per row)."""
    bits = 1 << np.arange(favourites.shape[1], dtype=np.int64)
    both = (favourites @ bits)[users] & (item_genres @ bits)[items]
    return np.unpackbits(both.astype("<u4").view(np.uint8).reshape(-1, 4), axis=1).sum(axis=1)


def _pick_genres(rng: np.random.Generator, n: int, share: np.ndarray, k_probs: np.ndarray) -> np.ndarray:
    """n × genres boolean matrix, 1-3 genres per row drawn without replacement ∝ share."""
    k = rng.choice(np.arange(1, len(k_probs) + 1), size=n, p=k_probs)
    keys = np.log(share / share.sum()) + rng.gumbel(size=(n, len(share)))
    top = np.argsort(-keys, axis=1)[:, : len(k_probs)]
    out = np.zeros((n, len(share)), dtype=bool)
    take = np.arange(len(k_probs))[None, :] < k[:, None]
    out[np.nonzero(take)[0], top[take]] = True
    return out


def _item_meta(rng: np.random.Generator, ids: np.ndarray, genres: np.ndarray) -> pd.DataFrame:
    n = len(ids)
    years = 1970 + np.floor(51 * rng.beta(2.2, 1.4, n)).astype(int)
    pattern = rng.integers(0, 4, n)
    adj, noun = rng.integers(0, len(_ADJECTIVES), n), rng.integers(0, len(_NOUNS), n)
    other, place = rng.integers(0, len(_NOUNS), n), rng.integers(0, len(_PLACES), n)
    sequel = rng.random(n) < 0.07
    titles, seen = [], set()
    for i in range(n):
        a, b, c, p = _ADJECTIVES[adj[i]], _NOUNS[noun[i]], _NOUNS[other[i]], _PLACES[place[i]]
        title = (f"The {a} {b}", f"{a} {b}", f"{b} of the {c}", f"The {c} from {p}")[pattern[i]]
        number = 2 if sequel[i] else 1
        while (candidate := title if number == 1 else f"{title} {number}") in seen:
            number += 1
        seen.add(candidate)
        titles.append(candidate)
    names = np.asarray(GENRES, dtype=object)
    return pd.DataFrame(
        {
            "title": pd.Series(titles, dtype=object),
            "year": pd.Series([int(y) for y in years], dtype=object),
            "genres": pd.Series([list(names[row]) for row in genres], dtype=object),
        }
    ).set_index(pd.Index(ids, name="item"))


def _user_meta(rng: np.random.Generator, ids: np.ndarray, favourites: np.ndarray) -> pd.DataFrame:
    n = len(ids)
    names = np.asarray(GENRES, dtype=object)
    return pd.DataFrame(
        {
            "age": np.clip(np.round(rng.normal(32, 11, n)), 15, 70).astype(int),
            "gender": rng.choice(np.array(["M", "F"], dtype=object), n, p=[0.7, 0.3]),
            "occupation": rng.choice(
                np.asarray(OCCUPATIONS, dtype=object),
                n,
                p=_OCCUPATION_SHARE / _OCCUPATION_SHARE.sum(),
            ),
            "favourite_genres": pd.Series([list(names[row]) for row in favourites], dtype=object),
        }
    ).set_index(pd.Index(ids, name="user"))
