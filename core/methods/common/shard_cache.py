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
    split = ctx.split
    return _kept_or_computed(
        ctx,
        _key(ctx, params, user_shard, method),
        method,
        reporter,
        compute=lambda: train_shards_from_params(
            ctx, params, user_shard, split.train, np.arange(params["n_shards"]), split.valid, reporter, "shard"
        ),
        decode=lambda payload: _from_payload(payload, params["n_shards"], ctx.device),
        encode=_as_payload,
        copy=_copy,
        meta={"shards": params["n_shards"]},
    )


def _kept_or_computed(ctx, key: str, method: str, reporter: Reporter, *, compute, decode, encode, copy, meta):
    """``(value, from_cache, first_s)``: the value remembered in this process, else the one in the
    disk cache (``decode(payload)``, None when unusable), else ``compute()``'s, then kept in both
    (``encode(value, first_s)``); ``first_s`` is what ``compute()`` took when first run. Callers get
    a copy of what is remembered, so changing it never touches the kept one."""
    if ctx.use_cache and key in _MEMORY:
        value, first = _MEMORY.get(key)
        return copy(value), True, first
    path = cached_path(key, CACHE_KIND)
    if ctx.use_cache:
        payload, warning = load_entry(path, key, map_location="cpu")
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
        first = _first_s(payload)
        value = decode(payload) if payload is not None else None
        if value is not None:
            _MEMORY.put(key, (copy(value), first))
            return value, True, first
    started = time.perf_counter()
    value = compute()
    first = time.perf_counter() - started
    if ctx.use_cache:
        _MEMORY.put(key, (copy(value), first))
        warning = save_entry(path, key, encode(value, first), meta)
        if warning:
            reporter.log(f"{method}: {warning}", "warning")
    return value, False, first


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
    tensors, cached, first = _kept_or_computed(
        ctx,
        key,
        method,
        reporter,
        compute=lambda: {k: v.detach().cpu().clone() for k, v in compute().items()},
        decode=_tensors_of,
        encode=lambda tensors, first: {**tensors, FIRST_S: torch.tensor(float(first), dtype=torch.float64)},
        copy=lambda tensors: {k: v.clone() for k, v in tensors.items()},
        meta={"shards": params["n_shards"], "part": part},
    )
    return tensors, cached, first, time.perf_counter() - started


def _tensors_of(payload) -> dict[str, torch.Tensor] | None:
    ok = isinstance(payload, dict) and payload and all(isinstance(v, torch.Tensor) for v in payload.values())
    return payload if ok else None
