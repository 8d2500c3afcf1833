"""Ranking metrics from a hit matrix, vectorised over users.

``hits[u, r]`` is True when the item at rank r (0-based) of user u's list is relevant;
``n_truth[u]`` is the size of u's ground truth. NDCG's ideal DCG uses min(|truth|, K)
(the published code of several unlearning papers used K, which is wrong for short
ground truths).
"""

from __future__ import annotations

import torch

DEFAULT_KS = (5, 10, 20)
METRICS = ("hit", "ndcg", "recall", "precision", "mrr")


def metric_names(ks=DEFAULT_KS) -> list[str]:
    return [f"{m}@{k}" for m in METRICS for k in ks]


def ranking_metrics(hits: torch.Tensor, n_truth: torch.Tensor, ks=DEFAULT_KS) -> dict[str, torch.Tensor]:
    """Per-user metrics ``{name: float tensor [B]}``; users with empty truth get NaN."""
    hits = hits.float()
    n_truth = n_truth.float()
    max_k = hits.shape[1]
    discounts = 1.0 / torch.log2(torch.arange(2, max_k + 2, device=hits.device, dtype=torch.float32))
    cum_ideal = torch.cumsum(discounts, 0)
    ranks = torch.arange(1, max_k + 1, device=hits.device, dtype=torch.float32)
    empty = n_truth <= 0
    out: dict[str, torch.Tensor] = {}
    for k in ks:
        if k > max_k:
            raise ValueError(f"asked for @{k} but only {max_k} ranks were computed")
        h = hits[:, :k]
        n_hit = h.sum(1)
        dcg = (h * discounts[:k]).sum(1)
        ideal_len = torch.clamp(torch.minimum(n_truth, torch.tensor(float(k), device=hits.device)), min=1)
        idcg = cum_ideal[ideal_len.long() - 1]
        # amax, not max(dim): the same values, without max's index pass that stalls on a busy thread pool
        first = torch.where(h.any(1), (h * (1.0 / ranks[:k])).amax(1), torch.zeros_like(n_hit))
        values = {
            "hit": (n_hit > 0).float(),
            "ndcg": dcg / idcg,
            "recall": n_hit / n_truth.clamp(min=1),
            "precision": n_hit / k,
            "mrr": first,
        }
        for name, v in values.items():
            out[f"{name}@{k}"] = torch.where(empty, torch.full_like(v, float("nan")), v)
    return out
