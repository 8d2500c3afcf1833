"""Full-sort evaluation: score every item, mask known items, take the top K.

Work is batched over users and done with tensor ops; the only Python loop is over
batches.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from core.cancel import cancel_point
from core.evaluation.metrics import DEFAULT_KS, metric_names, ranking_metrics
from core.scorer import Scorer


class RowSets:
    """Per-user item sets (a CSR matrix, canonical: sorted, no duplicates).

    Evaluation reads a batch's entries as (row, item) index pairs — to fill scores in
    place and to look ranked items up — so no ``[batch, n_items]`` bool array is built."""

    def __init__(self, matrix: sp.csr_matrix) -> None:
        matrix = matrix.tocsr()
        if not matrix.has_canonical_format:
            matrix = matrix.copy()
            matrix.sum_duplicates()
        self.matrix = matrix
        self.sizes = np.diff(self.matrix.indptr)

    @classmethod
    def from_rows(cls, dataset, rows: np.ndarray) -> "RowSets":
        return cls(dataset.matrix(rows))

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def entries(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, items)``: every stored entry of ``users``' sets, ``rows`` the position in
        ``users`` (ascending, items ascending within a row)."""
        users = np.asarray(users, dtype=np.int64)
        lengths = self.sizes[users]
        rows = np.repeat(np.arange(len(users)), lengths)
        indptr, indices = self.matrix.indptr, self.matrix.indices
        if len(users) and users[-1] - users[0] == len(users) - 1 and (len(users) == 1 or (np.diff(users) == 1).all()):
            return rows, indices[indptr[users[0]] : indptr[users[-1] + 1]].astype(np.int64)  # a run of users: a slice
        shift = np.repeat(indptr[users] - (np.cumsum(lengths) - lengths), lengths)
        return rows, indices[np.arange(len(rows)) + shift].astype(np.int64)

    def fill_(self, scores: torch.Tensor, users: np.ndarray, value: float) -> torch.Tensor:
        """Set ``scores[j, i] = value`` for every item ``i`` in ``users[j]``'s set, in place."""
        rows, items = self.entries(users)
        if len(rows):
            index = (torch.as_tensor(rows, device=scores.device), torch.as_tensor(items, device=scores.device))
            scores.index_put_(index, torch.tensor(value, dtype=scores.dtype, device=scores.device))
        return scores

    def contains(self, users: np.ndarray, ranked: torch.Tensor) -> torch.Tensor:
        """Bool like ``ranked`` ``[len(users), k]``: whether ``ranked[j, r]`` is in ``users[j]``'s
        set (a sorted-key search over the batch's entries, not a dense lookup table)."""
        rows, items = self.entries(users)
        if len(rows) == 0:
            return torch.zeros(ranked.shape, dtype=torch.bool, device=ranked.device)
        n_items = self.matrix.shape[1]
        keys = torch.as_tensor(rows * n_items + items, device=ranked.device)  # ascending: by row, then item
        wanted = torch.arange(len(users), device=ranked.device).unsqueeze(1) * n_items + ranked
        at = torch.searchsorted(keys, wanted).clamp_(max=len(keys) - 1)
        return keys[at] == wanted

    def dense(self, users: np.ndarray, device: torch.device) -> torch.Tensor:
        """Bool ``[len(users), n_items]`` (for callers that need the whole array)."""
        rows, items = self.entries(users)
        out = torch.zeros(len(users), self.matrix.shape[1], dtype=torch.bool, device=device)
        if len(rows):
            out[torch.as_tensor(rows, device=device), torch.as_tensor(items, device=device)] = True
        return out


def score_with_fallback(model: Scorer, users_t: torch.Tensor) -> torch.Tensor:
    """The model's scores (a tensor the caller may write to), with popularity for users the
    model has no representation of."""
    scores = model.score(users_t).float()
    if scores._is_view() or not scores.is_contiguous():
        scores = scores.contiguous().clone()  # never write into a scorer's own storage
    known = model.known_users
    if known is not None:
        unknown = ~known[users_t]
        if bool(unknown.any()):
            pop = model.popularity.to(scores.device).float()
            scores[unknown] = pop.unsqueeze(0).expand(int(unknown.sum()), -1)
    return scores


_SERIAL_CELLS = 32_000  # below torch's parallel grain (32768): small ops skip the thread pool's barrier


def batch_rows(n_items: int, floor: int = 1024, cells: int = 1 << 23) -> int:
    """Users per evaluation batch: at least ``floor``, more while the ``[batch, n_items]``
    scores stay within ``cells`` floats (32 MiB): fewer batches, bounded memory."""
    return max(floor, cells // max(1, n_items))


def _masked_scores(model: Scorer, batch: np.ndarray, mask: RowSets | None) -> torch.Tensor:
    users_t = torch.as_tensor(batch, device=model.device, dtype=torch.long)
    scores = score_with_fallback(model, users_t)
    if mask is not None:
        mask.fill_(scores, batch, float("-inf"))
    return scores


@torch.no_grad()
def top_k(
    model: Scorer,
    users: np.ndarray,
    mask: RowSets | None,
    k: int,
    batch_size: int | None = None,
) -> np.ndarray:
    """Top-``k`` item indices ``[len(users), k]`` with ``mask``'s items excluded."""
    users = np.asarray(users, dtype=np.int64)
    out = np.zeros((len(users), k), dtype=np.int64)
    step = batch_size or batch_rows(_n_items(model, mask))
    for start in range(0, len(users), step):
        cancel_point()
        batch = users[start : start + step]
        scores = _masked_scores(model, batch, mask)
        out[start : start + len(batch)] = torch.topk(scores, k, dim=1).indices.cpu().numpy()
    return out


def _n_items(model: Scorer, mask: RowSets | None) -> int:
    if mask is not None:
        return mask.shape[1]
    return int(len(model.popularity)) if model.popularity is not None else 1


@torch.no_grad()
def evaluate_users(
    model: Scorer,
    users: np.ndarray,
    truth: RowSets,
    mask: RowSets | None,
    ks=DEFAULT_KS,
    batch_size: int | None = None,
) -> dict[str, np.ndarray]:
    """Per-user metrics over ``users`` (NaN where a user has no ground truth).

    Batches only score, mask and rank; the hit matrix ``[len(users), max K]`` is kept and
    the metrics are computed once at the end (a few dozen small tensor ops per batch
    cost more than the ranking itself when the cores are shared)."""
    users = np.asarray(users, dtype=np.int64)
    max_k = min(max(ks), truth.shape[1])
    hits = np.zeros((len(users), max_k), dtype=bool)
    step = batch_size or batch_rows(truth.shape[1])
    for start in range(0, len(users), step):
        cancel_point()
        batch = users[start : start + step]
        top = torch.topk(_masked_scores(model, batch, mask), max_k, dim=1).indices
        hits[start : start + len(batch)] = truth.contains(batch, top).cpu().numpy()
    out = {name: np.zeros(len(users), dtype=np.float32) for name in metric_names(ks)}
    n_truth = torch.as_tensor(truth.sizes[users])
    rows = max(1, _SERIAL_CELLS // max_k)
    for start in range(0, len(users), rows):  # chunks small enough that torch stays on one thread
        part = slice(start, start + rows)
        for name, values in ranking_metrics(torch.from_numpy(hits[part]), n_truth[part], ks).items():
            out[name][part] = values.numpy()
    return out


def mean_metrics(per_user: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean over users with a ground truth (NaN-aware); NaN when nobody qualifies."""
    out = {}
    for name, values in per_user.items():
        valid = values[~np.isnan(values)]
        out[name] = float(valid.mean()) if len(valid) else float("nan")
    return out
