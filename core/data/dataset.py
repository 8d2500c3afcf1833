"""The in-memory dataset every other part of the engine reads.

Interactions are parallel numpy arrays indexed 0..n-1; users and items are contiguous
indices with the raw IDs kept for display and for requests typed by a person.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.errors import DatasetError, RequestError


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    n_users: int
    n_items: int
    n_interactions: int
    density: float
    per_user_min: int
    per_user_median: float
    per_user_mean: float
    per_user_max: int
    has_item_meta: bool
    has_user_meta: bool

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Dataset:
    """Interactions plus optional metadata.

    ``item_meta`` (indexed by item index) may hold ``title``, ``year`` and ``genres``
    (a list of strings per item); ``user_meta`` (indexed by user index) may hold
    ``age``, ``gender``, ``occupation`` and more. Both feed prompts and GUI tables.
    """

    name: str
    users: np.ndarray  # int64, user index of each interaction
    items: np.ndarray  # int64, item index of each interaction
    ratings: np.ndarray  # float32
    timestamps: np.ndarray  # int64 (0 when the source has none)
    user_ids: np.ndarray  # raw user ID (str) of each user index
    item_ids: np.ndarray  # raw item ID (str) of each item index
    item_meta: pd.DataFrame | None = None
    user_meta: pd.DataFrame | None = None
    source: str = ""
    _user_lookup: dict | None = field(default=None, repr=False, compare=False)
    _item_lookup: dict | None = field(default=None, repr=False, compare=False)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        name: str,
        *,
        item_meta: pd.DataFrame | None = None,
        user_meta: pd.DataFrame | None = None,
        source: str = "",
    ) -> "Dataset":
        """Build from a frame with columns user, item[, rating, timestamp] of raw IDs.

        ``item_meta`` / ``user_meta``, when given, are indexed by raw ID (as str); rows
        for IDs that have no interaction are dropped, missing ones become NaN.
        Duplicate (user, item) pairs keep the last occurrence by timestamp.
        """
        if frame.empty:
            raise DatasetError("no interactions", source or None)
        frame = frame.copy()
        frame["user"] = frame["user"].astype(str)
        frame["item"] = frame["item"].astype(str)
        if "rating" not in frame:
            frame["rating"] = 1.0
        if "timestamp" not in frame:
            frame["timestamp"] = 0
        frame = frame.sort_values("timestamp", kind="stable")
        frame = frame.drop_duplicates(["user", "item"], keep="last")
        user_codes, user_ids = pd.factorize(frame["user"], sort=True)
        item_codes, item_ids = pd.factorize(frame["item"], sort=True)
        order = np.lexsort((frame["timestamp"].to_numpy(), user_codes))
        ds = cls(
            name=name,
            users=user_codes[order].astype(np.int64),
            items=item_codes[order].astype(np.int64),
            ratings=frame["rating"].to_numpy(np.float32)[order],
            timestamps=frame["timestamp"].to_numpy(np.int64)[order],
            user_ids=np.asarray(user_ids, dtype=object),
            item_ids=np.asarray(item_ids, dtype=object),
            source=source,
        )
        if item_meta is not None:
            meta = item_meta.copy()
            meta.index = meta.index.astype(str)
            ds.item_meta = meta.reindex(pd.Index(ds.item_ids)).reset_index(drop=True)
        if user_meta is not None:
            meta = user_meta.copy()
            meta.index = meta.index.astype(str)
            ds.user_meta = meta.reindex(pd.Index(ds.user_ids)).reset_index(drop=True)
        return ds

    @classmethod
    def from_codes(
        cls,
        name: str,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        timestamps: np.ndarray,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        *,
        item_meta: pd.DataFrame | None = None,
        user_meta: pd.DataFrame | None = None,
        source: str = "",
    ) -> "Dataset":
        """Build from contiguous indices already in the engine's order — rows sorted by
        user, then time, one row per (user, item) — with metadata in index order.

        What a generator of any size hands over: no raw-ID string per row and no pandas
        pass over the interactions (``from_frame`` takes ~30 s and cannot be interrupted
        at 10M rows). The order and the index ranges are checked; duplicate pairs are
        the caller's promise (checking them would cost a sort)."""
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        ratings, timestamps = np.asarray(ratings, np.float32), np.asarray(timestamps, np.int64)
        if len(users) == 0:
            raise DatasetError("no interactions", source or None)
        if not len(users) == len(items) == len(ratings) == len(timestamps):
            raise ValueError("users, items, ratings and timestamps need one entry per row")
        if users.min() < 0 or users.max() >= len(user_ids) or items.min() < 0 or items.max() >= len(item_ids):
            raise ValueError("user or item index outside the ID lists")
        step, later = np.diff(users), np.diff(timestamps)
        if (step < 0).any() or ((step == 0) & (later < 0)).any():
            raise ValueError("rows must be sorted by user, then by time")
        return cls(
            name=name,
            users=users,
            items=items,
            ratings=ratings,
            timestamps=timestamps,
            user_ids=np.asarray(user_ids, dtype=object),
            item_ids=np.asarray(item_ids, dtype=object),
            item_meta=item_meta,
            user_meta=user_meta,
            source=source,
        )

    # -- sizes --------------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return len(self.users)

    # -- identity -----------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Content hash of the interactions (not the metadata): keys caches and results."""
        h = hashlib.sha256()
        for arr in (self.users, self.items, self.ratings, self.timestamps):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update("\x1f".join(map(str, self.user_ids)).encode())
        h.update("\x1f".join(map(str, self.item_ids)).encode())
        return h.hexdigest()[:16]

    # -- lookups ------------------------------------------------------------------------
    def user_index(self, raw_ids) -> np.ndarray:
        """Indices of raw user IDs; unknown IDs raise :class:`RequestError` naming them."""
        if self._user_lookup is None:
            self._user_lookup = {str(r): i for i, r in enumerate(self.user_ids)}
        return _lookup(self._user_lookup, raw_ids, "user")

    def item_index(self, raw_ids) -> np.ndarray:
        if self._item_lookup is None:
            self._item_lookup = {str(r): i for i, r in enumerate(self.item_ids)}
        return _lookup(self._item_lookup, raw_ids, "item")

    def item_title(self, item: int) -> str:
        if self.item_meta is not None and "title" in self.item_meta:
            title = self.item_meta["title"].iloc[item]
            if isinstance(title, str) and title:
                return title
        return f"item {self.item_ids[item]}"

    def item_genres(self) -> list[list[str]]:
        """Genres per item index (empty lists when the dataset has none)."""
        if self.item_meta is None or "genres" not in self.item_meta:
            return [[] for _ in range(self.n_items)]
        return [g if isinstance(g, list) else [] for g in self.item_meta["genres"]]

    def all_genres(self) -> list[str]:
        return sorted({g for gs in self.item_genres() for g in gs})

    # -- matrices -----------------------------------------------------------------------
    def matrix(self, rows: np.ndarray | None = None) -> sp.csr_matrix:
        """Binary user×item CSR of the chosen interaction rows (all when None)."""
        if rows is None:
            rows = np.arange(self.n_interactions)
        data = np.ones(len(rows), dtype=np.float32)
        m = sp.csr_matrix((data, (self.users[rows], self.items[rows])), shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def user_counts(self, rows: np.ndarray | None = None) -> np.ndarray:
        users = self.users if rows is None else self.users[rows]
        return np.bincount(users, minlength=self.n_users)

    def item_counts(self, rows: np.ndarray | None = None) -> np.ndarray:
        items = self.items if rows is None else self.items[rows]
        return np.bincount(items, minlength=self.n_items)

    # -- summary ------------------------------------------------------------------------
    def summary(self) -> DatasetSummary:
        per_user = self.user_counts()
        return DatasetSummary(
            name=self.name,
            n_users=self.n_users,
            n_items=self.n_items,
            n_interactions=self.n_interactions,
            density=self.n_interactions / max(1, self.n_users * self.n_items),
            per_user_min=int(per_user.min()) if len(per_user) else 0,
            per_user_median=float(np.median(per_user)) if len(per_user) else 0.0,
            per_user_mean=float(per_user.mean()) if len(per_user) else 0.0,
            per_user_max=int(per_user.max()) if len(per_user) else 0,
            has_item_meta=self.item_meta is not None,
            has_user_meta=self.user_meta is not None,
        )


def _lookup(table: dict, raw_ids, kind: str) -> np.ndarray:
    raw = [str(r).strip() for r in raw_ids]
    missing = [r for r in raw if r not in table]
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise RequestError(f"unknown {kind} ID{'s' if len(missing) > 1 else ''}: {shown}")
    return np.asarray([table[r] for r in raw], dtype=np.int64)
