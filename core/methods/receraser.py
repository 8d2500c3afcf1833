"""RecEraser (Chen et al., WWW 2022): balanced user shards plus a learned attention aggregator.

``prepare`` (one-off, timed apart):
1. *Balanced partition* (the paper's UBP): k-means on the base model's pre-trained user
   embeddings where every shard holds at most ⌈n/K⌉ users. The paper assigns
   (user, anchor) pairs greedily in order of distance; here each round lets every
   unassigned user propose to its nearest non-full shard and each shard accept its
   closest proposers up to capacity — a vectorised variant of that rule (at most K
   rounds; assignments can differ from the pair-by-pair greedy where capacities bind).
   Shards are balanced in users, not in interactions: k-means puts heavy users
   together (2.4k to 12.6k training rows per shard on ML-100K), and the batched pass
   runs as many steps as the largest retrained shard needs.
2. One sub-model per shard, all shards trained in one batched pass
   (:mod:`core.methods.sharded`).
3. An attention aggregator over the shard embeddings: per shard a linear map into a
   common space, then attention weights ``softmax_k(h·tanh(W e_k + b))`` for users and
   items separately; score = aggregated user · aggregated item. It is trained with BPR
   while the shard models stay frozen (shard isolation: the published code let the
   aggregator's optimizer update the shard embeddings too, so "untouched" shards were
   not untouched). Attention only looks at shards trained on the user or item: the
   other shards hold their random initial vectors for them.

``unlearn`` retrains from scratch the shards holding removed rows, then a fresh
aggregator on the retained rows (the old one was fitted on the forgotten data). The
aggregator maps every distinct user and item of a batch through K d×d transforms, so
on a CPU it is a large share of the unlearning time; big aggregator batches
(``agg_batch``) keep it down, since a few thousand rows already touch most items.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.evaluation.full_sort import evaluate_users
from core.events import Reporter
from core.methods.registry import MethodSpec, ParamSpec, UnlearnContext, UnlearnOutcome, register
from core.methods.sharded import (
    ShardedEmbeddings, n_shards_param, retrain_touched_shards, shard_extras, shard_training_params,
    train_shards_from_params,
)
from core.methods.sisa import random_user_shards
from core.models.negative_sampling import NegativeSampler
from core.models.training import row_sets


# -- balanced partition -----------------------------------------------------------------
def capacity_assign(dist: np.ndarray, capacity: int) -> np.ndarray:
    """Shard per row of ``dist`` ``[n, K]``, nearest first, no shard above ``capacity``."""
    n, k = dist.shape
    if capacity * k < n:
        raise ValueError(f"{k} shards of {capacity} cannot hold {n} users")
    labels = np.full(n, -1, dtype=np.int64)
    remaining = np.full(k, capacity, dtype=np.int64)
    while (labels < 0).any():
        free = np.flatnonzero(labels < 0)
        d = np.where(remaining[None, :] > 0, dist[free], np.inf)
        choice = d.argmin(1)
        closeness = d[np.arange(len(free)), choice]
        order = np.lexsort((closeness, choice))
        sorted_choice = choice[order]
        starts = np.searchsorted(sorted_choice, np.arange(k))
        rank = np.arange(len(order)) - starts[sorted_choice]
        accepted = order[rank < remaining[sorted_choice]]
        labels[free[accepted]] = choice[accepted]
        remaining -= np.bincount(choice[accepted], minlength=k)
    return labels


def balanced_partition(embeddings: np.ndarray, n_shards: int, iterations: int, seed: int) -> np.ndarray:
    """Balanced k-means labels for the rows of ``embeddings`` (shard sizes ≤ ⌈n/K⌉)."""
    emb = np.asarray(embeddings, dtype=np.float64)
    n = len(emb)
    capacity = math.ceil(n / n_shards)
    rng = np.random.default_rng([int(seed), 0x52455241])
    anchors = emb[rng.choice(n, size=n_shards, replace=False)]
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(max(1, iterations)):
        dist = (emb**2).sum(1, keepdims=True) - 2 * emb @ anchors.T + (anchors**2).sum(1)[None, :]
        labels = capacity_assign(dist, capacity)
        sums = np.zeros_like(anchors)
        np.add.at(sums, labels, emb)
        sizes = np.bincount(labels, minlength=n_shards)
        anchors = np.where(sizes[:, None] > 0, sums / np.maximum(sizes, 1)[:, None], anchors)
    return labels


# -- aggregator -----------------------------------------------------------------------
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


def train_aggregator(
    model: RecEraserModel,
    users: np.ndarray,
    items: np.ndarray,
    *,
    epochs: int,
    lr: float,
    reg: float,
    batch_size: int,
    seed: int,
    valid: tuple[np.ndarray, np.ndarray] | None,
    patience: int,
    reporter: Reporter,
    series: str,
) -> int:
    """BPR on the aggregator only (shards frozen); best validation state kept. Returns epochs run."""
    device = model.device
    users_t = torch.as_tensor(np.asarray(users, dtype=np.int64), device=device)
    items_t = torch.as_tensor(np.asarray(items, dtype=np.int64), device=device)
    sampler = NegativeSampler(users, items, model.n_users, model.n_items, device)
    generator = torch.Generator(device=device).manual_seed(int(seed) + 0xA66)
    params = list(model.user_side.parameters()) + list(model.item_side.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    check = None
    if valid is not None:
        v_users = np.asarray(valid[0], dtype=np.int64)
        known = model.known_users.cpu().numpy()
        keep = known[v_users]
        if keep.any():
            check = (np.unique(v_users[keep]), row_sets(v_users[keep], valid[1][keep], model.n_users, model.n_items),
                     row_sets(users, items, model.n_users, model.n_items))
    best, best_state, stale, epoch = -np.inf, None, 0, 0
    n = len(users_t)
    for epoch in range(1, epochs + 1):
        reporter.check()
        order = torch.randperm(n, generator=generator, device=device)
        total = torch.zeros((), device=device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            u, i = users_t[idx], items_t[idx]
            j = sampler.sample(u, generator)
            # aggregate each distinct user / item of the batch once (K·d² work per vector)
            uu, u_at = torch.unique(u, return_inverse=True)
            ii, i_at = torch.unique(torch.cat([i, j]), return_inverse=True)
            eu = model.user_vectors(uu)[u_at]
            item_vec = model.item_vectors(ii)
            ei, ej = item_vec[i_at[: len(i)]], item_vec[i_at[len(i) :]]
            loss = -F.logsigmoid((eu * (ei - ej)).sum(-1)).mean()
            penalty = (eu.pow(2).sum() + ei.pow(2).sum() + ej.pow(2).sum()) / (2 * len(idx))
            objective = loss + reg * penalty
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            optimizer.step()
            total += objective.detach() * len(idx)
        mean_loss = float(total) / max(1, n)
        if check is None:
            reporter.metric(series, epoch, loss=mean_loss)
            reporter.progress(epoch / epochs, f"aggregator epoch {epoch}: loss {mean_loss:.4f}")
            continue
        model.eval()
        values = evaluate_users(model, check[0], check[1], check[2], ks=(10,))["ndcg@10"]
        score = float(np.nanmean(values)) if np.isfinite(values).any() else -np.inf
        reporter.metric(series, epoch, loss=mean_loss, valid_ndcg10=score)
        reporter.progress(epoch / epochs, f"aggregator epoch {epoch}: loss {mean_loss:.4f}, valid ndcg@10 {score:.4f}")
        if score > best:
            best, stale = score, 0
            best_state = [p.detach().clone() for p in params]
        else:
            stale += 1
            if stale >= patience:
                break
    if best_state is not None:
        with torch.no_grad():
            for p, b in zip(params, best_state):
                p.copy_(b)
    model.eval()
    return epoch


# -- method -----------------------------------------------------------------------------
@dataclass
class RecEraserState:
    user_shard: np.ndarray
    shards: ShardedEmbeddings
    model: RecEraserModel
    partition: str


def _user_partition(ctx: UnlearnContext, params: dict) -> tuple[np.ndarray, str]:
    """Balanced k-means on the base model's user embeddings (random when it has none)."""
    ds = ctx.dataset
    train_users = np.unique(ds.users[ctx.split.train])
    k = params["n_shards"]
    embeddings = getattr(ctx.base_model, "embeddings", None)
    if embeddings is None:
        return random_user_shards(train_users, ds.n_users, k, ctx.seed), "random (base model has no embeddings)"
    with torch.no_grad():
        user_emb = embeddings()[0][torch.as_tensor(train_users, device=ctx.base_model.device)].float().cpu().numpy()
    labels = balanced_partition(user_emb, k, params["partition_iters"], ctx.seed)
    out = np.full(ds.n_users, -1, dtype=np.int64)
    out[train_users] = labels
    return out, "balanced k-means on base user embeddings"


def _fit_aggregator(ctx, params, model, rows, valid_rows, reporter, series) -> int:
    ds = ctx.dataset
    return train_aggregator(
        model, ds.users[rows], ds.items[rows], epochs=params["agg_epochs"], lr=params["agg_lr"],
        reg=ctx.model_config.reg, batch_size=params["agg_batch"], seed=ctx.seed,
        valid=(ds.users[valid_rows], ds.items[valid_rows]), patience=ctx.model_config.patience,
        reporter=reporter, series=series,
    )


def _prepare(ctx: UnlearnContext, params: dict) -> RecEraserState:
    ds, split, k = ctx.dataset, ctx.split, params["n_shards"]
    user_shard, how = _user_partition(ctx, params)
    stack = train_shards_from_params(ctx, params, user_shard, split.train, np.arange(k), split.valid,
                                     ctx.reporter.sub(0.0, 0.4), "shards")
    shards = ShardedEmbeddings(k, ds.n_users, ds.n_items, ctx.model_config.dim, ctx.device)
    shards.replace(stack)
    model = RecEraserModel(copy.deepcopy(shards), params["attention_dim"], ctx.seed)
    _fit_aggregator(ctx, params, model, split.train, split.valid, ctx.reporter.sub(0.4, 0.5),
                    "aggregator")
    return RecEraserState(user_shard, shards, model, how)


def _unlearn(ctx: UnlearnContext, params: dict, state: RecEraserState) -> UnlearnOutcome:
    k = params["n_shards"]
    affected, valid, stack = retrain_touched_shards(ctx, params, state.user_shard, ctx.reporter.sub(0.5, 0.9),
                                                    "unlearn shards")
    shards = copy.deepcopy(state.shards)
    shards.replace(stack)
    model = RecEraserModel(shards, params["attention_dim"], ctx.seed)
    agg_epochs = _fit_aggregator(ctx, params, model, ctx.retained_rows, valid, ctx.reporter.sub(0.9, 1.0),
                                 "unlearn aggregator")
    sizes = np.bincount(state.user_shard[state.user_shard >= 0], minlength=k)
    return UnlearnOutcome(
        model=model,
        extras={**shard_extras(affected, k, stack),
                "aggregator_epochs": float(agg_epochs), "largest_shard_users": float(sizes.max())},
        notes=[f"retrained {len(affected)} of {k} shards; partition: {state.partition}"],
    )


register(
    MethodSpec(
        name="receraser",
        label="RecEraser (balanced shards + attention)",
        description=(
            "Partitions users into balanced shards of similar users (k-means on the base "
            "model's embeddings, capped shard size), trains one sub-model per shard and an "
            "attention aggregator over them. Unlearning retrains the shards that held the "
            "forgotten data and the aggregator. Exact, and more accurate than plain SISA."
        ),
        params=(
            n_shards_param(),
            ParamSpec("partition_iters", int, 10, "k-means iterations of the balanced partition.", low=1,
                      high=100, label="Partition iterations"),
            ParamSpec("attention_dim", int, 32, "Hidden size of the attention aggregator.", low=1, high=1024,
                      label="Attention size"),
            ParamSpec("agg_epochs", int, 20, "Epoch budget of the aggregator (early-stopped on validation).",
                      low=1, high=10_000, label="Aggregator epochs"),
            ParamSpec("agg_batch", int, 16384,
                      "Training rows per aggregator step. Each step maps every distinct user and item "
                      "of the batch through K shard transforms, and a few thousand rows already touch "
                      "most items, so large batches are what keeps the aggregator cheap.",
                      low=1, high=10_000_000, label="Aggregator batch"),
            ParamSpec("agg_lr", float, 0.02, "Learning rate of the aggregator (Adam).", low=1e-6, high=1.0,
                      label="Aggregator learning rate"),
            *shard_training_params("Shard epochs"),
        ),
        unlearn=_unlearn,
        prepare=_prepare,
        family="exact",
    )
)
