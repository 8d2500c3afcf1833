"""Validation NDCG@10 for early stopping, with the per-epoch index work done once.

A fit validates after every epoch on the same users, the same ground truth and the same
mask; only the model changes. :func:`core.evaluation.full_sort.evaluate_users` rebuilds
the mask's and the ground truth's index arrays and all 15 metrics on every call; on the
demo that was over half of a validation's Python-side cost (a shard validates ~40
times). :class:`ValidationRanking` keeps them from the first call and computes NDCG@10
alone, with the same tensor operations on the same batches and row chunks, so every
value is bit-identical to ``evaluate_users(model, users, truth, mask, ks=(10,))["ndcg@10"]``
(``tests/test_validation_ranking.py``).
"""

from __future__ import annotations

import numpy as np
import torch

from core.cancel import cancel_point
from core.evaluation.full_sort import RowSets, batch_rows, score_with_fallback
from core.scorer import Scorer

K = 10
CHUNK_CELLS = 32_000
"""Rows of hits are turned into metrics in chunks of this many cells, as evaluate_users does."""


class ValidationRanking:
    """NDCG@10 per user of ``users`` (NaN where a user has no ground truth), ``mask``'s items
    excluded from the ranking. Built once per fit; :meth:`ndcg` is called once per validation."""

    def __init__(
        self,
        users: np.ndarray,
        truth: RowSets,
        mask: RowSets,
        device: torch.device | str,
        batch_size: int | None = None,
    ) -> None:
        users = np.asarray(users, dtype=np.int64)
        device = torch.device(device)
        n_items = truth.shape[1]
        self.max_k = min(K, n_items)
        step = batch_size or batch_rows(n_items)
        self.batches = [
            self._batch(users[s : s + step], truth, mask, n_items, device) for s in range(0, len(users), step)
        ]
        self.n_users = len(users)
        self.n_truth = torch.as_tensor(truth.sizes[users])
        self.chunk_rows = max(1, CHUNK_CELLS // self.max_k)
        self._ideal = [
            self._ideal_of(self.n_truth[s : s + self.chunk_rows]) for s in range(0, len(users), self.chunk_rows)
        ]

    @staticmethod
    def _batch(batch: np.ndarray, truth: RowSets, mask: RowSets, n_items: int, device: torch.device):
        """What one batch needs every call: its users, the mask's (row, item) index, the
        ground truth's sorted keys and each row's key offset."""
        rows, items = mask.entries(batch)
        fill = (torch.as_tensor(rows, device=device), torch.as_tensor(items, device=device)) if len(rows) else None
        t_rows, t_items = truth.entries(batch)
        keys = torch.as_tensor(t_rows * n_items + t_items, device=device) if len(t_rows) else None
        offsets = torch.arange(len(batch), device=device).unsqueeze(1) * n_items
        return torch.as_tensor(batch, device=device, dtype=torch.long), fill, keys, offsets

    def _ideal_of(self, n_truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(discounts, ideal DCG, empty) of a chunk: core.evaluation.metrics.ranking_metrics' values."""
        n_truth = n_truth.float()
        discounts = 1.0 / torch.log2(torch.arange(2, self.max_k + 2, dtype=torch.float32))
        cum_ideal = torch.cumsum(discounts, 0)
        ideal_len = torch.clamp(torch.minimum(n_truth, torch.tensor(float(K))), min=1)
        return discounts[:K], cum_ideal[ideal_len.long() - 1], n_truth <= 0

    @torch.no_grad()
    def hits(self, model: Scorer) -> np.ndarray:
        """Bool ``[n_users, max_k]``: whether each of a user's top items is in their ground truth."""
        out = np.zeros((self.n_users, self.max_k), dtype=bool)
        start = 0
        for users_t, fill, keys, offsets in self.batches:
            cancel_point()
            scores = score_with_fallback(model, users_t)
            if fill is not None:
                scores.index_put_(fill, torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device))
            top = torch.topk(scores, self.max_k, dim=1).indices
            if keys is not None:
                wanted = offsets + top
                at = torch.searchsorted(keys, wanted).clamp_(max=len(keys) - 1)
                out[start : start + len(users_t)] = (keys[at] == wanted).cpu().numpy()
            start += len(users_t)
        return out

    def ndcg(self, model: Scorer) -> np.ndarray:
        """NDCG@10 per user, float32 (NaN: no ground truth)."""
        hits = self.hits(model)
        out = np.zeros(self.n_users, dtype=np.float32)
        for index, start in enumerate(range(0, self.n_users, self.chunk_rows)):
            discounts, idcg, empty = self._ideal[index]
            h = torch.from_numpy(hits[start : start + self.chunk_rows]).float()[:, :K]
            values = (h * discounts).sum(1) / idcg
            values = torch.where(empty, torch.full_like(values, float("nan")), values)
            out[start : start + self.chunk_rows] = values.numpy()
        return out
