"""RecEraser (Chen et al., WWW 2022): balanced user shards plus a learned attention aggregator.

``prepare`` (one-off, timed apart): the user partition (:mod:`.partition`), one sub-model
per shard, each on its own rows (:mod:`core.methods.common.shards`), and the attention
aggregator over them (:mod:`.aggregator`).

``unlearn`` retrains from scratch the shards holding removed rows, then a fresh
aggregator on the retained rows (the old one was fitted on the forgotten data). The
aggregator is a large share of the unlearning time on a CPU.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core.methods.common.shard_cache import prepared_part, prepared_shards, reuse_extras
from core.methods.common.shards import (
    ShardedEmbeddings,
    retrain_touched_shards,
    shard_extras,
)
from core.methods.receraser.aggregator import AggregatorSettings, RecEraserModel, train_aggregator
from core.methods.receraser.partition import user_partition
from core.methods.registry import UnlearnContext, UnlearnOutcome

SIDES = ("user_side", "item_side")


@dataclass
class RecEraserState:
    user_shard: np.ndarray
    shards: ShardedEmbeddings
    model: RecEraserModel
    partition: str
    reuse: dict = field(default_factory=dict)  # set-up reused from the cache (reuse_extras), for the cost


def _fit_aggregator(
    ctx: UnlearnContext, params: dict, model: RecEraserModel, rows, valid_rows, reporter, stage: str
) -> int:
    ds, config = ctx.dataset, ctx.model_config
    settings = AggregatorSettings(
        epochs=params["agg_epochs"],
        lr=params["agg_lr"],
        reg=config.reg,
        batch_size=params["agg_batch"],
        seed=ctx.seed,
        patience=config.patience,
    )
    return train_aggregator(
        model, ds.users[rows], ds.items[rows], settings, (ds.users[valid_rows], ds.items[valid_rows]), reporter, stage
    )


def _aggregator_state(model: RecEraserModel) -> dict[str, torch.Tensor]:
    """The aggregator's trained tensors (the frozen shards are kept apart)."""
    return {f"{side}.{name}": value for side in SIDES for name, value in getattr(model, side).state_dict().items()}


def _load_aggregator(model: RecEraserModel, tensors: dict[str, torch.Tensor]) -> None:
    for side in SIDES:
        own = {name.split(".", 1)[1]: value for name, value in tensors.items() if name.split(".", 1)[0] == side}
        getattr(model, side).load_state_dict(own)


def prepare(ctx: UnlearnContext, params: dict) -> RecEraserState:
    ds, split, k = ctx.dataset, ctx.split, params["n_shards"]
    user_shard, how = user_partition(ctx, params)
    started = time.perf_counter()
    stack, cached, first = prepared_shards(ctx, params, user_shard, ctx.reporter.sub(0.0, 0.4), "receraser")
    load_s = time.perf_counter() - started
    if cached:
        ctx.reporter.log("receraser: shards trained earlier on the same data and settings reused")
    shards = ShardedEmbeddings(k, ds.n_users, ds.n_items, ctx.model_config.dim, ctx.device)
    shards.replace(stack)
    model = RecEraserModel(copy.deepcopy(shards), params["attention_dim"], ctx.seed)

    def fit() -> dict[str, torch.Tensor]:
        _fit_aggregator(ctx, params, model, split.train, split.valid, ctx.reporter.sub(0.4, 0.5), "aggregator")
        return _aggregator_state(model)

    tensors, agg_cached, agg_first, agg_s = prepared_part(
        ctx, params, user_shard, "receraser", "aggregator", fit, ctx.reporter
    )
    if agg_cached:
        _load_aggregator(model, tensors)
        ctx.reporter.log("receraser: aggregator fitted earlier on the same shards and settings reused")
        load_s, first = load_s + agg_s, first + agg_first
    reuse = reuse_extras(cached or agg_cached, load_s if cached else agg_s, first if cached else agg_first)
    return RecEraserState(user_shard, shards, model.eval(), how, reuse)


def unlearn(ctx: UnlearnContext, params: dict, state: RecEraserState) -> UnlearnOutcome:
    k = params["n_shards"]
    affected, stack = retrain_touched_shards(ctx, params, state.user_shard, ctx.reporter.sub(0.5, 0.9), "unlearn shard")
    shards = copy.deepcopy(state.shards)
    shards.replace(stack)
    model = RecEraserModel(shards, params["attention_dim"], ctx.seed)
    agg_epochs = _fit_aggregator(
        ctx, params, model, ctx.retained_rows, ctx.retrain_valid_rows, ctx.reporter.sub(0.9, 1.0), "unlearn aggregator"
    )
    sizes = np.bincount(state.user_shard[state.user_shard >= 0], minlength=k)
    return UnlearnOutcome(
        model=model,
        extras={
            **shard_extras(affected, k, stack),
            "aggregator_epochs": float(agg_epochs),
            "largest_shard_users": float(sizes.max()),
            **state.reuse,
        },
        notes=[f"retrained {len(affected)} of {k} shards and the aggregator", f"partition: {state.partition}"],
    )
