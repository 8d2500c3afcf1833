"""The shards a sharded method trains in preparation, kept between runs.

Preparation trains every shard on the whole training data: the same data, split, model
settings, partition and seed give the same shards, so a rerun reuses them (in memory
within a process, from a keyed, checksummed cache entry across processes). The
per-request retraining of touched shards is never cached: it is the method's cost.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import torch

from core.events import Reporter
from core.methods.common.shards import ShardStack, train_shards_from_params
from core.methods.registry import UnlearnContext
from core.model_cache import MemoryCache, cache_key, cached_path, load_entry, save_entry

CACHE_KIND = "shards"
CACHE_VERSION = "shards-v1"
_MEMORY = MemoryCache(4)


def _key(ctx: UnlearnContext, params: dict, user_shard: np.ndarray, method: str) -> str:
    partition = hashlib.sha256(np.ascontiguousarray(user_shard, dtype=np.int64).tobytes()).hexdigest()
    settings = {k: params[k] for k in ("n_shards", "epochs", "scale_batch")}
    return cache_key(
        ctx.dataset.fingerprint(),
        ctx.split.as_dict(),
        dataclasses.asdict(ctx.model_config),
        settings,
        partition,
        ctx.device.type,
        ctx.seed,
        CACHE_VERSION,
        method,
    )


_ARRAYS = ("shards", "epochs")  # numpy fields, stored as tensors (the cache loads tensors only)


def _as_payload(stack: ShardStack) -> dict:
    return {f.name: torch.as_tensor(getattr(stack, f.name)).cpu() for f in dataclasses.fields(ShardStack)}


def _from_payload(payload, k: int, device: torch.device) -> ShardStack | None:
    names = [f.name for f in dataclasses.fields(ShardStack)]
    if (
        not isinstance(payload, dict)
        or sorted(payload) != sorted(names)
        or not all(isinstance(v, torch.Tensor) for v in payload.values())
        or len(payload["shards"]) != k
    ):
        return None
    return ShardStack(**{n: payload[n].numpy() if n in _ARRAYS else payload[n].to(device) for n in names})


def _copy(stack: ShardStack) -> ShardStack:
    """A copy the caller may change without touching the remembered shards."""
    return ShardStack(
        **{
            f.name: getattr(stack, f.name).copy() if f.name in _ARRAYS else getattr(stack, f.name).clone()
            for f in dataclasses.fields(ShardStack)
        }
    )


def prepared_shards(
    ctx: UnlearnContext, params: dict, user_shard: np.ndarray, reporter: Reporter, method: str
) -> tuple[ShardStack, bool]:
    """Every shard trained on the training rows, or reused; ``(stack, from_cache)``."""
    key = _key(ctx, params, user_shard, method)
    if ctx.use_cache and key in _MEMORY:
        return _copy(_MEMORY.get(key)), True
    path = cached_path(key, CACHE_KIND)
    if ctx.use_cache:
        payload, warning = load_entry(path, key, map_location="cpu")
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
        stack = _from_payload(payload, params["n_shards"], ctx.device) if payload is not None else None
        if stack is not None:
            _MEMORY.put(key, _copy(stack))
            return stack, True
    split = ctx.split
    stack = train_shards_from_params(
        ctx, params, user_shard, split.train, np.arange(params["n_shards"]), split.valid, reporter, "shard"
    )
    if ctx.use_cache:
        _MEMORY.put(key, _copy(stack))
        warning = save_entry(path, key, _as_payload(stack), {"shards": params["n_shards"]})
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
    return stack, False
