"""SISA (Bourtoule et al., 2021) for recommendation: shard the users, retrain only what was touched.

Users are split at random (seeded) into K shards; ``prepare`` trains one sub-model per
shard, each on its own rows only (:mod:`core.methods.common.shards`). A user's scores
are the average of the shard models that were trained on them — with users sharded,
that is their own shard's model. Averaging in the shards that never saw a user (the
published baseline, ``aggregate=all``) mixes in scores from untrained random vectors;
it is kept as an option because it reproduces the published SISA numbers.

Unlearning retrains, from their original seed, only the shards holding removed rows,
on their retained rows; every other shard stays bit-identical, and is what it would be
had the forgotten rows never existed. A user whose shard was retrained without them is
known to no shard and is ranked by popularity, like under full retraining.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core.methods.common.shard_cache import prepared_shards, reuse_extras
from core.methods.common.shards import (
    ShardedEmbeddings,
    random_user_shards,
    retrain_touched_shards,
    shard_extras,
)
from core.methods.registry import UnlearnContext, UnlearnOutcome


class SisaModel(ShardedEmbeddings):
    """A :class:`Scorer` averaging shard models' scores (over owning shards or all shards)."""

    def __init__(
        self, n_shards: int, n_users: int, n_items: int, dim: int, device: torch.device, aggregate: str = "owning"
    ) -> None:
        super().__init__(n_shards, n_users, n_items, dim, device)
        self.aggregate = aggregate

    @torch.no_grad()
    def score(self, users: torch.Tensor) -> torch.Tensor:
        users = users.to(self.device)
        if self.aggregate == "owning":
            weight = self.user_known[:, users].float()  # [K, B]
            weight = weight / weight.sum(0, keepdim=True).clamp(min=1)
        else:
            weight = torch.full((self.n_shards, len(users)), 1.0 / self.n_shards, device=self.device)
        out = torch.zeros(len(users), self.n_items, device=self.device)
        for k in range(self.n_shards):  # loop over shards, not users
            chosen = torch.nonzero(weight[k] > 0).squeeze(1)
            if len(chosen):
                out[chosen] += weight[k, chosen].unsqueeze(1) * (self.users[k, users[chosen]] @ self.items[k].T)
        return out


@dataclass
class SisaState:
    """What ``prepare`` leaves for ``unlearn``: the partition and the trained original shards."""

    user_shard: np.ndarray  # shard of each user (−1: no training rows)
    model: SisaModel
    reuse: dict = field(default_factory=dict)  # set-up reused from the cache (reuse_extras), for the cost


def prepare(ctx: UnlearnContext, params: dict) -> SisaState:
    ds, split = ctx.dataset, ctx.split
    k = params["n_shards"]
    user_shard = random_user_shards(ds.users[split.train], ds.n_users, k, ctx.seed)
    started = time.perf_counter()
    stack, cached, first = prepared_shards(ctx, params, user_shard, ctx.reporter.sub(0.0, 0.5), "sisa")
    reuse = reuse_extras(cached, time.perf_counter() - started, first)
    if cached:
        ctx.reporter.log("sisa: shards trained earlier on the same data and settings reused")
    model = SisaModel(k, ds.n_users, ds.n_items, ctx.model_config.dim, ctx.device, params["aggregate"])
    model.replace(stack)
    return SisaState(user_shard, model.eval(), reuse)


def unlearn(ctx: UnlearnContext, params: dict, state: SisaState) -> UnlearnOutcome:
    affected, stack = retrain_touched_shards(ctx, params, state.user_shard, ctx.reporter.sub(0.5, 1.0), "unlearn shard")
    model = copy.deepcopy(state.model)
    model.replace(stack)
    k = params["n_shards"]
    return UnlearnOutcome(
        model=model.eval(),
        extras={**shard_extras(affected, k, stack), **state.reuse},
        notes=[f"retrained {len(affected)} of {k} shards, each from its own seed on its own retained rows"],
    )
