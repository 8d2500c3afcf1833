"""Membership-inference features: how a model ranks a user's own items, per item, vectorised.

For every user we compare the scores of the user's *own* items (train items for a
member, removed items for a forgotten user, all items for an outsider) with the scores
of the whole catalogue. Every feature is the *mean over the user's own items* of a
per-item quantity that depends on the model's scores for that user and on the item
alone — never on which other items the user holds — so its expected value does not
depend on how many items
the user has: the three kinds of user hold different numbers (train is 80 % of a
user's rows, an outsider keeps 100 %, an item-level request removes a handful), and a
statistic that drifts with the count — a maximum, a sample quantile, a sample standard
deviation — lets the attack separate users by size instead of by memorisation (we
measured AUC ≈ 0.62 between two never-trained groups that way). The issue's "max" and
"spread" therefore appear as shares of own items above high thresholds (top 1 %, top
10, ...) and as the second moment of the standardised score.

The reference is the whole catalogue (the user's own items included), not "the other
items": excluding a user's own items would shift the reference with the size of the
own set. Comparing with every item rather than a random sample of items is the
"gap to random items" without sampling noise.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from core.evaluation.full_sort import score_with_fallback
from core.models.base import Scorer

FEATURE_NAMES = (
    "z_mean",  # gap to the catalogue's mean score, in its standard deviations
    "z_second_moment",  # spread (mean of z², count-free unlike a sample std)
    "pct_mean",  # mean rank percentile in the catalogue (1 = top)
    "above_median_share",
    "top_decile_share",  # share of own items in the catalogue's top 10 % ...
    "top_percentile_share",  # ... and top 1 %: the count-free stand-in for a maximum
    "top10_share",  # share of own items in the user's top 10 (fewer than 10 items above)
    "top50_share",
)
TOP_KS = (10, 50)
Z_CLIP = 10.0
_ELEMENTS_PER_BATCH = 1 << 22  # ~16 MB of float32 scores per batch


def _dense_rows(matrix: sp.csr_matrix, users: np.ndarray, device: torch.device) -> torch.Tensor:
    sub = matrix[users]
    rows = np.repeat(np.arange(len(users)), np.diff(sub.indptr))
    out = torch.zeros(len(users), matrix.shape[1], dtype=torch.bool, device=device)
    if len(rows):
        out[torch.as_tensor(rows, device=device), torch.as_tensor(sub.indices, dtype=torch.long, device=device)] = True
    return out


@torch.no_grad()
def _batch_features(scores: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
    n_items = scores.shape[1]
    # Standardise by the user's scores over the whole catalogue, so the scale of a
    # model's scores (dot products, popularity counts) does not matter.
    mean = scores.mean(1, keepdim=True)
    std = scores.std(1, unbiased=False, keepdim=True).clamp(min=1e-8)
    z = ((scores - mean) / std).clamp(-Z_CLIP, Z_CLIP)
    # Rank percentile in the catalogue, ties counted half (popularity scores tie a lot).
    ordered = scores.sort(dim=1).values.contiguous()
    values = scores.contiguous()
    below = torch.searchsorted(ordered, values, right=False)
    below_eq = torch.searchsorted(ordered, values, right=True)
    pct = (below + below_eq - 1).float() / (2.0 * max(1, n_items - 1))
    above = n_items - below_eq  # items strictly above

    per_item = [
        z,
        z.pow(2),
        pct,
        (pct >= 0.5).float(),
        (pct >= 0.9).float(),
        (pct >= 0.99).float(),
        *[(above < k).float() for k in TOP_KS],
    ]
    own_f = own.float()
    n_own = own_f.sum(1).clamp(min=1)
    return torch.stack([(v * own_f).sum(1) / n_own for v in per_item], dim=1)


@torch.no_grad()
def membership_features(model: Scorer, users: np.ndarray, own: sp.csr_matrix) -> np.ndarray:
    """Features ``[len(users), len(FEATURE_NAMES)]`` of each user's own items under ``model``.

    ``own`` is a user × item CSR whose row ``u`` holds the items to test for user ``u``.
    Scores follow the evaluator's rule (popularity for users the model does not know),
    so an attack sees exactly what a recommendation would reveal. Users are processed
    in batches; the only Python loop is over batches.
    """
    users = np.asarray(users, dtype=np.int64)
    own = own.tocsr()
    if len(users) and (np.diff(own.indptr)[users] == 0).any():
        raise ValueError("every user needs at least one own item to compute membership features")
    device = model.device
    batch = max(1, min(2048, _ELEMENTS_PER_BATCH // max(1, model.n_items)))
    parts = []
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        users_t = torch.as_tensor(chunk, dtype=torch.long, device=device)
        scores = score_with_fallback(model, users_t).float()
        parts.append(_batch_features(scores, _dense_rows(own, chunk, device)).cpu())
    if not parts:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float64)
    out = torch.cat(parts).double().numpy()
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
