"""Forget requests: what must be forgotten, and which training rows that removes.

A request removes rows from *train* only; valid/test rows stay as ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.arrays import unique
from core.data.dataset import Dataset
from core.errors import RequestError
from core.split import Split

KINDS = ("users", "items", "interactions")
SELECTORS = {
    "users": ("ids", "random", "core", "edge"),
    "items": ("ids", "random", "genre", "popular"),
    "interactions": ("ids", "random"),
}


@dataclass(frozen=True)
class ForgetRequest:
    """What a person asked to forget.

    ``selector`` is ``ids`` (``ids`` holds raw IDs, or ``user:item`` pairs for
    interactions), ``random``/``core``/``edge``/``popular`` (``fraction`` of users,
    items or interactions; core = most active users, edge = least active, as in
    CURE4Rec) or ``genre`` (every item of ``genre``).
    """

    kind: str = "users"
    selector: str = "random"
    fraction: float = 0.05
    ids: tuple[str, ...] = ()
    genre: str = ""
    seed: int = 0

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> "ForgetRequest":
        """Parse the CLI form ``kind:selector:value`` (``users:random:0.05``, ``items:genre:Horror``)."""
        parts = text.split(":", 2)
        if len(parts) != 3:
            raise RequestError(f"forget request {text!r} must look like kind:selector:value, e.g. users:random:0.05")
        kind, selector, value = (p.strip() for p in parts)
        _check_kind(kind, selector)
        if selector == "ids":
            ids = tuple(v.strip() for v in value.split(",") if v.strip())
            return cls(kind, selector, 0.0, ids=ids, seed=seed)
        if selector == "genre":
            return cls(kind, selector, 0.0, genre=value, seed=seed)
        try:
            fraction = float(value)
        except ValueError:
            raise RequestError(f"{kind}:{selector} needs a fraction such as 0.05, got {value!r}") from None
        return cls(kind, selector, fraction, seed=seed)

    def validate(self) -> None:
        """Checks that need no data (kind, selector, fraction range)."""
        _check_kind(self.kind, self.selector)
        if self.selector in ("random", "core", "edge", "popular") and not 0.0 < self.fraction < 1.0:
            raise RequestError(f"fraction must be between 0 and 1 (exclusive), got {self.fraction}")
        if self.selector == "genre" and not self.genre.strip():
            raise RequestError("name the genre to forget")

    def describe(self) -> str:
        if self.selector == "ids":
            shown = ",".join(self.ids[:5]) + ("…" if len(self.ids) > 5 else "")
            return f"{self.kind}: {len(self.ids)} chosen ({shown})"
        if self.selector == "genre":
            return f"{self.kind}: every {self.genre} item"
        return f"{self.kind}: {self.selector} {self.fraction:.1%}"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "selector": self.selector,
            "fraction": self.fraction,
            "ids": list(self.ids),
            "genre": self.genre,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class ResolvedRequest:
    """A request applied to one split: the rows it removes and who they belong to."""

    request: ForgetRequest
    removed_rows: np.ndarray  # train rows to forget (sorted)
    retained_rows: np.ndarray  # train minus removed (sorted)
    forget_users: np.ndarray  # users who lost rows (the forget group)
    forget_items: np.ndarray  # items touched by the removed rows
    target_users: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # user-level only
    target_items: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # item-level only

    def as_dict(self) -> dict:
        return {
            **self.request.as_dict(),
            "description": self.request.describe(),
            "n_removed_rows": int(len(self.removed_rows)),
            "n_forget_users": int(len(self.forget_users)),
            "n_forget_items": int(len(self.forget_items)),
        }


def resolve_request(dataset: Dataset, split: Split, request: ForgetRequest) -> ResolvedRequest:
    """Turn a request into removed train rows; errors name what is wrong."""
    request.validate()
    train = split.train
    rng = np.random.default_rng(request.seed)
    train_users = dataset.users[train]
    train_items = dataset.items[train]
    target_users = np.zeros(0, np.int64)
    target_items = np.zeros(0, np.int64)

    if request.kind == "users":
        target_users = _select_users(dataset, split, request, rng)
        removed_mask = np.isin(train_users, target_users)
    elif request.kind == "items":
        target_items = _select_items(dataset, split, request, rng)
        removed_mask = np.isin(train_items, target_items)
    else:
        removed_mask = _select_interactions(dataset, split, request, rng)

    removed = np.sort(train[removed_mask])
    if len(removed) == 0:
        raise RequestError(f"the request ({request.describe()}) removes no training interaction")
    retained = np.sort(train[~removed_mask])
    if len(retained) == 0:
        raise RequestError("the request would remove every training interaction")
    retained_users = unique(dataset.users[retained])
    if len(retained_users) == 0 or len(unique(dataset.items[retained])) == 0:
        raise RequestError("the request would remove every user or every item")
    return ResolvedRequest(
        request=request,
        removed_rows=removed,
        retained_rows=retained,
        forget_users=unique(dataset.users[removed]),
        forget_items=unique(dataset.items[removed]),
        target_users=target_users,
        target_items=target_items,
    )


def _check_kind(kind: str, selector: str) -> None:
    if kind not in KINDS:
        raise RequestError(f"request kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if selector not in SELECTORS[kind]:
        raise RequestError(f"selector {selector!r} does not apply to {kind}; use one of {', '.join(SELECTORS[kind])}")


def _count(fraction: float, population: int, what: str) -> int:
    n = int(round(fraction * population))
    if n < 1:
        raise RequestError(f"{fraction:.2%} of {population} {what} selects nobody; raise the fraction")
    if n >= population:
        raise RequestError(f"{fraction:.2%} of {population} {what} would remove every one of them")
    return n


def _select_users(dataset: Dataset, split: Split, request: ForgetRequest, rng) -> np.ndarray:
    counts = dataset.user_counts(split.train)
    eligible = np.flatnonzero(counts > 0)  # outsiders have no train rows
    if request.selector == "ids":
        if not request.ids:
            raise RequestError("the request names no user")
        chosen = np.unique(dataset.user_index(request.ids))
        outside = np.setdiff1d(chosen, eligible)
        if len(outside):
            names = ", ".join(str(dataset.user_ids[u]) for u in outside[:10])
            raise RequestError(f"user(s) {names} have no training interactions (held-out outsiders?)")
        if len(chosen) >= len(eligible):
            raise RequestError("the request would remove every user")
        return chosen
    n = _count(request.fraction, len(eligible), "users")
    if request.selector == "random":
        return np.sort(rng.choice(eligible, size=n, replace=False))
    # core: most active; edge: least active (ties broken by the seeded random key)
    key = rng.random(len(eligible))
    activity = counts[eligible]
    order = np.lexsort((key, -activity if request.selector == "core" else activity))
    return np.sort(eligible[order[:n]])


def _select_items(dataset: Dataset, split: Split, request: ForgetRequest, rng) -> np.ndarray:
    counts = dataset.item_counts(split.train)
    eligible = np.flatnonzero(counts > 0)
    if request.selector == "ids":
        if not request.ids:
            raise RequestError("the request names no item")
        chosen = np.unique(dataset.item_index(request.ids))
    elif request.selector == "genre":
        genres = dataset.item_genres()
        if not any(genres):
            raise RequestError("this dataset has no genre information")
        wanted = request.genre.strip().lower()
        chosen = np.asarray([i for i, gs in enumerate(genres) if wanted in (g.lower() for g in gs)], np.int64)
        if len(chosen) == 0:
            known = ", ".join(dataset.all_genres()[:20])
            raise RequestError(f"no item has genre {request.genre!r}; known genres: {known}")
    else:
        n = _count(request.fraction, len(eligible), "items")
        if request.selector == "random":
            chosen = rng.choice(eligible, size=n, replace=False)
        else:  # popular
            chosen = eligible[np.argsort(-counts[eligible], kind="stable")[:n]]
    chosen = np.sort(chosen)
    if len(np.setdiff1d(eligible, chosen)) == 0:
        raise RequestError("the request would remove every item")
    return chosen


def _select_interactions(dataset: Dataset, split: Split, request: ForgetRequest, rng) -> np.ndarray:
    train = split.train
    if request.selector == "random":
        n = _count(request.fraction, len(train), "training interactions")
        mask = np.zeros(len(train), dtype=bool)
        mask[rng.choice(len(train), size=n, replace=False)] = True
        return mask
    if not request.ids:
        raise RequestError("the request names no interaction")
    pairs = []
    for text in request.ids:
        if "|" not in text:
            raise RequestError(f"interaction {text!r} must be written user|item")
        u, i = text.split("|", 1)
        pairs.append((u, i))
    users = dataset.user_index([p[0] for p in pairs])
    items = dataset.item_index([p[1] for p in pairs])
    key = dataset.users[train] * dataset.n_items + dataset.items[train]
    wanted = users * dataset.n_items + items
    mask = np.isin(key, wanted)
    found = np.isin(wanted, key)
    if not found.all():
        missing = [f"{pairs[k][0]}|{pairs[k][1]}" for k in np.flatnonzero(~found)[:10]]
        raise RequestError(f"not training interactions: {', '.join(missing)}")
    return mask
