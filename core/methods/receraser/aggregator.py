"""RecEraser's attention aggregator over frozen shard embeddings.

Per shard a linear map into a common space, then attention weights
``softmax_k(h·tanh(W e_k + b))`` for users and items separately; score = aggregated user ·
aggregated item. It trains with BPR while the shard models stay frozen (shard isolation:
the published code let the aggregator's optimizer update the shard embeddings too, so
"untouched" shards were not untouched). Attention only looks at shards trained on the
user or item: the other shards hold their random initial vectors for them. Each step
maps every distinct user and item of a batch through K d×d transforms, so big batches
(``agg_batch``) keep it cheap: a few thousand rows already touch most items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.events import Reporter
from core.fit_loop import FitPlan, fit
from core.methods.common.shards import ShardedEmbeddings
from core.models.negative_sampling import NegativeSampler
from core.models.training import row_sets
from core.models.validation import ValidationRanking

SEED_OFFSET = 0xA66


class _Side(nn.Module):
    """Per-shard linear maps into a shared space and an attention over shards (one side)."""

    def __init__(self, n_shards: int, dim: int, att_dim: int, generator: torch.Generator) -> None:
        super().__init__()
        self.transform = nn.Parameter(torch.eye(dim).repeat(n_shards, 1, 1))
        self.shift = nn.Parameter(torch.zeros(n_shards, dim))
        self.att = nn.Parameter(torch.randn(dim, att_dim, generator=generator) * (1.0 / math.sqrt(dim)))
        self.att_bias = nn.Parameter(torch.zeros(att_dim))
        self.query = nn.Parameter(torch.randn(att_dim, generator=generator) * (1.0 / math.sqrt(att_dim)))

    def forward(self, emb: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """``emb`` ``[K, B, d]`` and ``known`` ``[K, B]`` → aggregated ``[B, d]``."""
        mapped = torch.einsum("kbd,kde->kbe", emb, self.transform) + self.shift.unsqueeze(1)
        logits = torch.tanh(mapped @ self.att + self.att_bias) @ self.query  # [K, B]
        nobody = ~known.any(0, keepdim=True)  # no shard trained on it: plain average
        logits = logits.masked_fill(~(known | nobody), float("-inf"))
        alpha = torch.softmax(logits, dim=0)
        return (alpha.unsqueeze(-1) * mapped).sum(0)


class RecEraserModel(nn.Module):
    """Frozen shard embeddings + a trainable aggregator; a :class:`Scorer`."""

    def __init__(self, shards: ShardedEmbeddings, att_dim: int, seed: int) -> None:
        super().__init__()
        self.shards = shards
        for p in self.shards.parameters():
            p.requires_grad_(False)
        dim = shards.users.shape[-1]
        generator = torch.Generator().manual_seed(int(seed) + 0x5EED)
        self.user_side = _Side(shards.n_shards, dim, att_dim, generator)
        self.item_side = _Side(shards.n_shards, dim, att_dim, generator)
        self.to(shards.device)
        self.n_users, self.n_items = shards.n_users, shards.n_items

    @property
    def device(self) -> torch.device:
        return self.shards.device

    @property
    def known_users(self) -> torch.Tensor:
        return self.shards.known_users

    @property
    def popularity(self) -> torch.Tensor:
        return self.shards.popularity

    def user_vectors(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_side(self.shards.users[:, users], self.shards.user_known[:, users])

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        if items is None:
            return self.item_side(self.shards.items, self.shards.item_known)
        return self.item_side(self.shards.items[:, items], self.shards.item_known[:, items])

    @torch.no_grad()
    def score(self, users: torch.Tensor) -> torch.Tensor:
        users = users.to(self.device)
        return self.user_vectors(users) @ self.item_vectors().T

    @torch.no_grad()
    def item_sides(self) -> list[torch.Tensor]:
        """The aggregated item vectors users are scored against (for the fold-in attack)."""
        return [self.item_vectors().detach()]


@dataclass(frozen=True)
class AggregatorSettings:
    epochs: int
    lr: float
    reg: float
    batch_size: int
    seed: int
    patience: int


def train_aggregator(
    model: RecEraserModel,
    users: np.ndarray,
    items: np.ndarray,
    settings: AggregatorSettings,
    valid: tuple[np.ndarray, np.ndarray] | None,
    reporter: Reporter,
    stage: str,
) -> int:
    """BPR on the aggregator only (shards frozen); best validation state kept. Returns epochs run."""
    device, s = model.device, settings
    users_t = torch.as_tensor(np.asarray(users, dtype=np.int64), device=device)
    items_t = torch.as_tensor(np.asarray(items, dtype=np.int64), device=device)
    sampler = NegativeSampler(users, items, model.n_users, model.n_items, device)

    def step(idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        u, i = users_t[idx], items_t[idx]
        j = sampler.sample(u, generator)
        # aggregate each distinct user / item of the batch once (K·d² work per vector)
        uu, u_at = torch.unique(u, return_inverse=True)
        ii, i_at = torch.unique(torch.cat([i, j]), return_inverse=True)
        eu = model.user_vectors(uu)[u_at]
        item_vec = model.item_vectors(ii)
        ei, ej = item_vec[i_at[: len(i)]], item_vec[i_at[len(i) :]]
        loss = -F.logsigmoid((eu * (ei - ej)).sum(-1)).mean()
        return loss + s.reg * (eu.pow(2).sum() + ei.pow(2).sum() + ej.pow(2).sum()) / (2 * len(idx))

    params = list(model.user_side.parameters()) + list(model.item_side.parameters())
    plan = FitPlan(
        epochs=s.epochs, batch_size=s.batch_size, seed=s.seed + SEED_OFFSET, stage=stage, patience=s.patience
    )
    result = fit(
        step,
        params,
        len(users_t),
        plan,
        reporter,
        lr=s.lr,
        module=model,
        device=device,
        validate=_validator(model, users, items, valid),
        small_steps=True,
    )
    return result.epochs


def _validator(model: RecEraserModel, users, items, valid):
    """Validation NDCG@10 on users some shard knows, training rows masked (None: nothing to check)."""
    if valid is None:
        return None
    v_users, v_items = (np.asarray(a, dtype=np.int64) for a in valid)
    keep = model.known_users.cpu().numpy()[v_users]
    if not keep.any():
        return None
    check_users = np.unique(v_users[keep])
    truth = row_sets(v_users[keep], v_items[keep], model.n_users, model.n_items)
    mask = row_sets(users, items, model.n_users, model.n_items)
    ranking = ValidationRanking(check_users, truth, mask, model.device)  # evaluate_users' NDCG@10, indexed once

    def validate() -> float:
        values = ranking.ndcg(model)
        return float(np.nanmean(values)) if np.isfinite(values).any() else float("-inf")

    return validate
