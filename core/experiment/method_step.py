"""One method, one request: its context, its timed set-up and its timed unlearning step.

The one method loop: the experiment, request streams, seeds, sweeps and the reference
ensemble all run a method through :func:`run_method_step`, so the cache switch, the
timing (set-up apart from the request, the GPU synchronised before the clock stops) and
the peak memory are measured the same way everywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from core.config import ExperimentConfig
from core.events import Reporter
from core.experiment.base_model import Trainer
from core.experiment.data import Prepared
from core.forget_request import ResolvedRequest
from core.methods.registry import MethodSpec, UnlearnContext, UnlearnOutcome
from core.models.base import Scorer


@dataclass
class MethodStep:
    """What one step of a method gave: its outcome and what it cost."""

    outcome: UnlearnOutcome
    prepared_state: Any  # the set-up's output, handed back so a stream can reuse it
    prep_s: float  # set-up time paid in this step (0 when the state was handed in)
    seconds: float  # the unlearning step itself: the per-request cost
    peak_memory_mb: float | None  # GPU peak of the unlearning step (None on the CPU)


def method_context(
    config: ExperimentConfig,
    prepared: Prepared,
    base: Scorer,
    device: torch.device,
    reporter: Reporter,
    *,
    request: ResolvedRequest | None = None,
) -> UnlearnContext:
    """The context a method reads: ``prepared``'s data, groups and targets, ``request`` (by
    default ``prepared``'s) and the run's cache switch."""
    return UnlearnContext(
        dataset=prepared.dataset,
        split=prepared.split,
        request=request if request is not None else prepared.request,
        groups=prepared.groups,
        base_model=base,
        model_config=config.model,
        device=device,
        reporter=reporter,
        seed=config.split.seed,
        train_model=Trainer(config, prepared, device),
        targets=prepared.targets,
        retrain_valid_rows=prepared.retrain_valid_rows,
        use_cache=config.use_cache,
    )


def synchronise(device: torch.device) -> None:
    """Wait for queued GPU work, so a clock read after it counts that work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, fn, *args) -> tuple[Any, float]:
    """``fn(*args)`` and its wall time, the device synchronised before the clock stops."""
    start = time.perf_counter()
    out = fn(*args)
    synchronise(device)
    return out, time.perf_counter() - start


def run_method_step(
    spec: MethodSpec, values: dict, ctx: UnlearnContext, prepared_state: Any = None, *, set_up: bool = True
) -> MethodStep:
    """``spec.prepare`` (timed apart; skipped when ``set_up`` is false, e.g. a stream's later
    steps, which hand back the state of the first), then ``spec.unlearn`` (the request's cost)."""
    device = ctx.device
    prep_s = 0.0
    if set_up and spec.prepare is not None:
        prepared_state, prep_s = timed(device, spec.prepare, ctx, values)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    outcome, seconds = timed(device, spec.unlearn, ctx, values, prepared_state)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return MethodStep(outcome, prepared_state, prep_s, seconds, peak)
