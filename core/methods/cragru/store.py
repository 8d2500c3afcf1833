"""The retrieval store: the only place CRAGRU keeps users' interactions.

It holds each user's *training* rows (never valid or test rows), sorted by user and
then by time, as parallel arrays with a CSR-style ``indptr``. Unlearning deletes rows
from it; every cache derived from a user's rows is purged by the owner of the cache
(:class:`~core.methods.cragru.state.CragruState`), so nothing outside the store can
still hold a deleted row. Profiles are kept here too, so a user-level request can
remove them with the history.
"""

from __future__ import annotations

import numpy as np

from core.data.dataset import Dataset


class RetrievalStore:
    """Per-user retained interactions, deletable in milliseconds (vectorised)."""

    def __init__(self, dataset: Dataset, rows: np.ndarray, profiles: list[str]) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.n_users = dataset.n_users
        self.n_items = dataset.n_items
        order = np.lexsort((rows, dataset.timestamps[rows], dataset.users[rows]))
        self._set(
            rows[order],
            dataset.users[rows][order],
            dataset.items[rows][order],
            dataset.ratings[rows][order],
            dataset.timestamps[rows][order],
        )
        self.profiles: dict[int, str] = {u: p for u, p in enumerate(profiles) if p}

    def _set(self, rows, users, items, ratings, timestamps) -> None:
        self.rows, self.users, self.items = rows, users, items
        self.ratings, self.timestamps = ratings, timestamps
        counts = np.bincount(users, minlength=self.n_users)
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.popularity = np.bincount(items, minlength=self.n_items).astype(np.float32)

    # -- reading --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def span(self, user: int) -> slice:
        return slice(int(self.indptr[user]), int(self.indptr[user + 1]))

    def user_rows(self, user: int) -> np.ndarray:
        """Dataset row indices of ``user``'s stored interactions, oldest first."""
        return self.rows[self.span(user)]

    def user_items(self, user: int) -> np.ndarray:
        return self.items[self.span(user)]

    def count(self, user: int) -> int:
        return int(self.indptr[user + 1] - self.indptr[user])

    def items_of(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(row_in_batch, item)`` pairs of every stored item of ``users`` (for masking)."""
        users = np.asarray(users, dtype=np.int64)
        starts, ends = self.indptr[users], self.indptr[users + 1]
        lengths = ends - starts
        batch = np.repeat(np.arange(len(users)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return batch, self.items[np.repeat(starts, lengths) + offsets]

    def profile(self, user: int) -> str | None:
        return self.profiles.get(int(user))

    # -- unlearning -----------------------------------------------------------------
    def delete_rows(self, rows: np.ndarray) -> np.ndarray:
        """Remove these dataset rows; returns the users who lost at least one row."""
        doomed = np.isin(self.rows, np.asarray(rows, dtype=np.int64))
        affected = np.unique(self.users[doomed])
        if doomed.any():
            keep = ~doomed
            self._set(self.rows[keep], self.users[keep], self.items[keep], self.ratings[keep], self.timestamps[keep])
        return affected

    def delete_profiles(self, users: np.ndarray) -> None:
        for u in np.asarray(users, dtype=np.int64).tolist():
            self.profiles.pop(int(u), None)
