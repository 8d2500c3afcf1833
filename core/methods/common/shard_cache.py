"""The shards a sharded method trains in preparation, kept between runs.

Preparation trains every shard on the whole training data: the same data, split, model
settings, partition and seed give the same shards, so a rerun reuses them (in memory
within a process, from a keyed, checksummed cache entry across processes); so is what a
method fits on them in preparation (:func:`prepared_part`: RecEraser's aggregator). The
per-request retraining of touched shards (and RecEraser's new aggregator) is never cached:
it is the method's cost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from typing import Callable

import numpy as np
import torch

from core.events import Reporter
from core.methods.common.shards import ShardStack, train_shards_from_params
from core.methods.registry import UnlearnContext
from core.model_cache import MemoryCache, cache_key, cached_path, load_entry, save_entry

CACHE_KIND = "shards"
CACHE_VERSION = "shards-v1"
PART_VERSION = "part-v1"
_MEMORY = MemoryCache(6)  # SISA and RecEraser shards, RecEraser aggregator, with room for a second setting


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


FIRST_S = "fit_s"
"""Payload entry: seconds the shards took to train when first computed (the cost of a reused set-up)."""


def _as_payload(stack: ShardStack, fit_s: float) -> dict:
    out = {f.name: torch.as_tensor(getattr(stack, f.name)).cpu() for f in dataclasses.fields(ShardStack)}
    return {**out, FIRST_S: torch.tensor(float(fit_s), dtype=torch.float64)}


def _first_s(payload) -> float:
    """The stored first-time seconds (0.0: an entry written before they were kept)."""
    found = payload.pop(FIRST_S, None) if isinstance(payload, dict) else None
    return float(found) if isinstance(found, torch.Tensor) and found.numel() == 1 else 0.0


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
) -> tuple[ShardStack, bool, float]:
    """Every shard trained on the training rows, or reused; ``(stack, from_cache, first_s)`` with
    ``first_s`` the seconds the training took when first computed (0.0: not recorded)."""
    key = _key(ctx, params, user_shard, method)
    if ctx.use_cache and key in _MEMORY:
        stack, first = _MEMORY.get(key)
        return _copy(stack), True, first
    path = cached_path(key, CACHE_KIND)
    if ctx.use_cache:
        payload, warning = load_entry(path, key, map_location="cpu")
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
        first = _first_s(payload)
        stack = _from_payload(payload, params["n_shards"], ctx.device) if payload is not None else None
        if stack is not None:
            _MEMORY.put(key, (_copy(stack), first))
            return stack, True, first
    split = ctx.split
    started = time.perf_counter()
    stack = train_shards_from_params(
        ctx, params, user_shard, split.train, np.arange(params["n_shards"]), split.valid, reporter, "shard"
    )
    first = time.perf_counter() - started
    if ctx.use_cache:
        _MEMORY.put(key, (_copy(stack), first))
        warning = save_entry(path, key, _as_payload(stack, first), {"shards": params["n_shards"]})
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
    return stack, False, first


def reuse_extras(cached: bool, load_s: float, first_s: float) -> dict[str, float]:
    """The extras the cost verdict reads when the shards came from the cache: the seconds this run
    spent loading them and what training them took the first time (core/reporting/cost.py)."""
    return {"setup_cached_s": load_s, "setup_first_s": first_s} if cached else {}


def prepared_part(
    ctx: UnlearnContext,
    params: dict,
    user_shard: np.ndarray,
    method: str,
    part: str,
    compute: Callable[[], dict[str, torch.Tensor]],
    reporter: Reporter,
) -> tuple[dict[str, torch.Tensor], bool, float, float]:
    """One more piece of a sharded method's set-up that is fitted on its prepared shards (RecEraser's
    aggregator): ``compute()``'s tensors, or the ones kept from an earlier run.

    Its key is the shards' key plus every parameter of the method's form and ``part``, so it
    is reused exactly when the shards are and its own settings (and the training rows, split
    and seed the shards' key holds) are the same. Returns ``(tensors, from_cache, first_s,
    spent_s)``: ``first_s`` the seconds ``compute`` took when first run, ``spent_s`` this call's."""
    started = time.perf_counter()
    key = cache_key(_key(ctx, params, user_shard, method), part, PART_VERSION, {k: params[k] for k in sorted(params)})
    if ctx.use_cache and key in _MEMORY:
        tensors, first = _MEMORY.get(key)
        return {k: v.clone() for k, v in tensors.items()}, True, first, time.perf_counter() - started
    path = cached_path(key, CACHE_KIND)
    if ctx.use_cache:
        payload, warning = load_entry(path, key, map_location="cpu")
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
        first = _first_s(payload)
        if isinstance(payload, dict) and payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            _MEMORY.put(key, ({k: v.clone() for k, v in payload.items()}, first))
            return payload, True, first, time.perf_counter() - started
    tensors = {k: v.detach().cpu().clone() for k, v in compute().items()}
    first = time.perf_counter() - started
    if ctx.use_cache:
        _MEMORY.put(key, ({k: v.clone() for k, v in tensors.items()}, first))
        stored = {**tensors, FIRST_S: torch.tensor(float(first), dtype=torch.float64)}
        warning = save_entry(path, key, stored, {"shards": params["n_shards"], "part": part})
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
    return tensors, False, first, first
