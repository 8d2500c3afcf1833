"""Uniform negative sampling that never returns one of the user's training positives.

Instead of rejection rounds, each draw picks the r-th *non-positive* item of the user
directly, so the sample is exactly uniform over the user's negatives and costs one
``torch.searchsorted`` per batch on the device, with no per-user Python loop.

With the user's positives sorted ``p_0 < p_1 < …`` and ``q_k = p_k − k`` (how many
non-positives precede ``p_k``), the r-th non-positive (0-based) is
``r + #{k : q_k ≤ r}``. The ``q_k`` of all users are stored as sorted int64 keys
``user · n_items + q_k``.
"""

from __future__ import annotations

import numpy as np
import torch

from core.arrays import unique


class NegativeSampler:
    """Draws one negative per (user) entry, excluding that user's positives."""

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        n_users: int,
        n_items: int,
        device: torch.device | str = "cpu",
    ) -> None:
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        self.n_items = int(n_items)
        keys = unique(users * self.n_items + items)  # sorted, duplicates removed
        key_users = keys // self.n_items
        key_items = keys % self.n_items
        counts = np.bincount(key_users, minlength=n_users)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        rank = np.arange(len(keys), dtype=np.int64) - starts[key_users]
        gaps = key_items - rank
        self.device = torch.device(device)
        self._positive_keys = torch.as_tensor(keys, device=self.device)
        self._gap_keys = torch.as_tensor(key_users * self.n_items + gaps, device=self.device)
        self._starts = torch.as_tensor(starts, device=self.device)
        self._n_negatives = torch.as_tensor(self.n_items - counts, device=self.device)

    def sample(self, users: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Item indices ``[len(users)]`` (long, on the sampler's device).

        A user who has every item as a positive has no negative; they get item
        ``n_items − 1`` (a positive) rather than an error.
        """
        users = users.to(self.device, torch.long)
        available = self._n_negatives[users]
        draw = torch.rand(len(users), generator=generator, device=self.device, dtype=torch.float64)
        r = torch.floor(draw * available).long()
        r = torch.minimum(r, (available - 1).clamp(min=0))
        below = torch.searchsorted(self._gap_keys, users * self.n_items + r, right=True) - self._starts[users]
        return (r + below).clamp(max=self.n_items - 1)

    def is_positive(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Bool ``[len(users)]``: whether each (user, item) is a training positive."""
        keys = users.to(self.device, torch.long) * self.n_items + items.to(self.device, torch.long)
        if len(self._positive_keys) == 0:
            return torch.zeros(len(keys), dtype=torch.bool, device=self.device)
        at = torch.searchsorted(self._positive_keys, keys).clamp(max=len(self._positive_keys) - 1)
        return self._positive_keys[at] == keys
