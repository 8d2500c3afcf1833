"""Full-sort evaluation: score every item, mask known items, take the top K.

Work is batched over users and done with tensor ops; the only Python loop is over
batches.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from core.cancel import cancel_point
from core.evaluation.metrics import DEFAULT_KS, ranking_metrics
from core.models.base import Scorer


class RowSets:
    """Per-user item sets (a CSR matrix) that can be densified for a batch of users."""

    def __init__(self, matrix: sp.csr_matrix) -> None:
        self.matrix = matrix.tocsr()
        self.sizes = np.diff(self.matrix.indptr)

    @classmethod
    def from_rows(cls, dataset, rows: np.ndarray) -> "RowSets":
        return cls(dataset.matrix(rows))

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def dense(self, users: np.ndarray, device: torch.device) -> torch.Tensor:
        """Bool ``[len(users), n_items]``."""
        sub = self.matrix[users]
        rows = np.repeat(np.arange(len(users)), np.diff(sub.indptr))
        out = torch.zeros(len(users), self.matrix.shape[1], dtype=torch.bool, device=device)
        if len(rows):
            out[torch.as_tensor(rows, device=device), torch.as_tensor(sub.indices, device=device, dtype=torch.long)] = True
        return out


def score_with_fallback(model: Scorer, users_t: torch.Tensor) -> torch.Tensor:
    """The model's scores, with popularity for users the model has no representation of."""
    scores = model.score(users_t).float()
    known = model.known_users
    if known is not None:
        unknown = ~known[users_t]
        if bool(unknown.any()):
            pop = model.popularity.to(scores.device).float()
            scores[unknown] = pop.unsqueeze(0).expand(int(unknown.sum()), -1)
    return scores


@torch.no_grad()
def top_k(
    model: Scorer,
    users: np.ndarray,
    mask: RowSets | None,
    k: int,
    batch_size: int = 1024,
) -> np.ndarray:
    """Top-``k`` item indices ``[len(users), k]`` with ``mask``'s items excluded."""
    device = model.device
    out = np.zeros((len(users), k), dtype=np.int64)
    for start in range(0, len(users), batch_size):
        cancel_point()
        batch = users[start : start + batch_size]
        users_t = torch.as_tensor(batch, device=device, dtype=torch.long)
        scores = score_with_fallback(model, users_t)
        if mask is not None:
            scores = scores.masked_fill(mask.dense(batch, device), float("-inf"))
        out[start : start + len(batch)] = torch.topk(scores, k, dim=1).indices.cpu().numpy()
    return out


@torch.no_grad()
def evaluate_users(
    model: Scorer,
    users: np.ndarray,
    truth: RowSets,
    mask: RowSets | None,
    ks=DEFAULT_KS,
    batch_size: int = 1024,
) -> dict[str, np.ndarray]:
    """Per-user metrics over ``users`` (NaN where a user has no ground truth)."""
    users = np.asarray(users, dtype=np.int64)
    max_k = max(ks)
    per_user: dict[str, list[np.ndarray]] = {}
    device = model.device
    for start in range(0, len(users), batch_size):
        cancel_point()
        batch = users[start : start + batch_size]
        users_t = torch.as_tensor(batch, device=device, dtype=torch.long)
        scores = score_with_fallback(model, users_t)
        if mask is not None:
            scores = scores.masked_fill(mask.dense(batch, device), float("-inf"))
        top = torch.topk(scores, min(max_k, scores.shape[1]), dim=1).indices
        truth_dense = truth.dense(batch, device)
        hits = torch.gather(truth_dense, 1, top)
        n_truth = torch.as_tensor(truth.sizes[batch], device=device)
        for name, values in ranking_metrics(hits, n_truth, ks).items():
            per_user.setdefault(name, []).append(values.cpu().numpy())
    if not per_user:
        from core.evaluation.metrics import metric_names

        return {name: np.zeros(0) for name in metric_names(ks)}
    return {name: np.concatenate(parts) for name, parts in per_user.items()}


def mean_metrics(per_user: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean over users with a ground truth (NaN-aware); NaN when nobody qualifies."""
    out = {}
    for name, values in per_user.items():
        valid = values[~np.isnan(values)]
        out[name] = float(valid.mean()) if len(valid) else float("nan")
    return out
