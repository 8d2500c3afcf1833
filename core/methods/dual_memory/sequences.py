"""Item sequences as token matrices for the generative recommender (numpy, no Python loop per row).

Every item is one vocabulary token (``item + ITEM_OFFSET``). An input is the user's
last ``n`` items, left-padded, followed by EOS, so every input (even an empty history)
has at least one token to attend to. Left padding keeps the real tokens' relative
positions the same whatever the history length, which is what T5's relative
attention sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.dataset import Dataset

PAD, EOS = 0, 1
ITEM_OFFSET = 2  # token id of item 0


@dataclass(frozen=True)
class Examples:
    """Next-item training pairs: ``contexts [E, n+1]`` token ids, ``targets [E]`` item indices,
    ``users [E]`` and ``rows [E]`` (the dataset row of each target, for audits)."""

    contexts: np.ndarray
    targets: np.ndarray
    users: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)

    def take(self, index: np.ndarray) -> "Examples":
        return Examples(self.contexts[index], self.targets[index], self.users[index], self.rows[index])

    @staticmethod
    def concat(parts: list["Examples"]) -> "Examples":
        return Examples(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("contexts", "targets", "users", "rows"))
        )


def ordered_rows(dataset: Dataset, rows: np.ndarray) -> np.ndarray:
    """``rows`` sorted by user, then timestamp, then row index: each user's sequence in time order."""
    rows = np.asarray(rows, dtype=np.int64)
    order = np.lexsort((rows, dataset.timestamps[rows], dataset.users[rows]))
    return rows[order]


def _window(items: np.ndarray, users: np.ndarray, ends: np.ndarray, n: int) -> np.ndarray:
    """``[len(ends), n+1]`` token ids: the ``n`` items before position ``ends`` of the same
    user (left-padded) then EOS. ``items``/``users`` are one ordered sequence array."""
    offsets = np.arange(-n, 0)
    idx = ends[:, None] + offsets[None, :]
    valid = idx >= 0
    idx_c = np.clip(idx, 0, max(len(items) - 1, 0))
    if len(items):
        end_users = users[np.clip(ends - 1, 0, len(items) - 1)]
        valid &= users[idx_c] == end_users[:, None]
        tokens = np.where(valid, items[idx_c] + ITEM_OFFSET, PAD)
    else:
        tokens = np.full(idx.shape, PAD)
    eos = np.full((len(ends), 1), EOS)
    return np.concatenate([tokens, eos], axis=1).astype(np.int64)


def next_item_examples(dataset: Dataset, rows: np.ndarray, n: int) -> Examples:
    """Every row that has at least one earlier row of its user, as (previous ``n`` items → item)."""
    rows = ordered_rows(dataset, rows)
    users = dataset.users[rows]
    items = dataset.items[rows]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = users[1:] != users[:-1]
    keep = np.flatnonzero(~first)
    contexts = _window(items, users, keep, n)
    # _window looks at users[end-1]; for a non-first row that is the same user.
    return Examples(contexts, items[keep], users[keep], rows[keep])


def prefix_contexts(dataset: Dataset, history_rows: np.ndarray, targets: np.ndarray, n: int) -> np.ndarray:
    """For each target row (a member of ``history_rows``), the ``n`` items that precede it in
    its user's ordered ``history_rows`` sequence (EOS-only when it is the first)."""
    rows = ordered_rows(dataset, history_rows)
    position = np.empty(dataset.n_interactions, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    ends = position[np.asarray(targets, dtype=np.int64)]
    users = dataset.users[rows]
    items = dataset.items[rows]
    ctx = _window(items, users, ends, n)
    # a first row has no predecessor of its user: _window compared with the previous user's
    # last row, so blank those windows explicitly.
    first = np.ones(len(ends), dtype=bool)
    has_prev = ends > 0
    first[has_prev] = users[ends[has_prev] - 1] != users[ends[has_prev]]
    ctx[first, :-1] = PAD
    return ctx


def serving_contexts(dataset: Dataset, rows: np.ndarray, n: int) -> np.ndarray:
    """``[n_users, n+1]``: each user's last ``n`` items in ``rows`` (what a request carries);
    users without rows get an EOS-only input."""
    rows = ordered_rows(dataset, rows)
    users = dataset.users[rows]
    items = dataset.items[rows]
    out = np.full((dataset.n_users, n + 1), PAD, dtype=np.int64)
    out[:, -1] = EOS
    if len(rows) == 0:
        return out
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = users[:-1] != users[1:]
    ends = np.flatnonzero(last) + 1  # one past each user's last row
    out[users[ends - 1]] = _window(items, users, ends, n)
    return out
