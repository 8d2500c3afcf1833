"""The reference ensemble: R more retrainings and R more base models, other model seeds.

Retraining's own seed noise is the yardstick every verdict needs ("what does retraining
give?"): each reference retraining is the run's "retrain" method step with another model
seed (same retained rows, same validation rows, same timing code), each reference base
model is the run's base model with another seed (trained, or found, through
:func:`~core.experiment.base_model.train_base`, so a base of that seed is shared with any
run that uses it). Each is an independent task cached on disk by what determines its
weights; the ones not in the cache run in this process or, where it pays, as Ray tasks
(:mod:`core.references.on_ray`). Seeds: retrainings ``seed + 1 … seed + R``, bases
``seed + 501 …``; controls use offsets from 1000 on, so no reference is ever the model
under test.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import torch

from core.config import ExperimentConfig
from core.events import Reporter
from core.experiment.data import Prepared
from core.model_cache import cache_key, cached_path, load_entry, save_entry
from core.models.base import Scorer
from core.params import MAX_SEED

RETRAIN = "retrain"
BASE = "base"
RETRAIN_OFFSET = 1
BASE_OFFSET = 501
EXECUTORS = ("auto", "serial", "ray")
EXECUTOR_ENV = "CRAGRU_REFERENCES_EXECUTOR"
"""``serial`` / ``ray`` / ``auto`` (default): where the references not in the cache are trained."""
RAY_MIN_CPUS = 4
RAY_WORTH_S = 60.0
"""``auto`` uses Ray only with at least this many cores and this much expected serial work:
Ray's start-up (measured 6-10 s on the 2-core machine) and one torch thread per task must
be paid back."""


@dataclass(frozen=True)
class Task:
    """One reference model to have: ``kind`` (retrain / base) with model seed ``seed``."""

    kind: str
    seed: int


@dataclass
class Reference:
    kind: str
    seed: int
    model: Any  # the model, or what ``consume`` kept of it (the model itself is then let go)
    seconds: float  # wall time when first computed (0 for a base whose time was never kept)
    from_cache: bool


@dataclass
class Ensemble:
    retrains: list[Reference]
    bases: list[Reference]
    executor: str = "serial"
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def from_cache(self) -> bool:
        return all(ref.from_cache for ref in self.retrains + self.bases)


def reference_seeds(seed: int, r: int) -> tuple[list[int], list[int]]:
    """(retrain seeds, base seeds) of R references around the run's model seed."""
    wrap = MAX_SEED + 1
    return (
        [(seed + RETRAIN_OFFSET + i) % wrap for i in range(r)],
        [(seed + BASE_OFFSET + i) % wrap for i in range(r)],
    )


def tasks_for(config: ExperimentConfig, r: int) -> list[Task]:
    retrains, bases = reference_seeds(config.model.seed, r)
    return [Task(RETRAIN, s) for s in retrains] + [Task(BASE, s) for s in bases]


def seeded(config: ExperimentConfig, seed: int) -> ExperimentConfig:
    """The run's configuration with another model seed (nothing else changes)."""
    return replace(config, model=replace(config.model, seed=int(seed)))


def _rows_digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for array in arrays:
        h.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()


def retrain_key(config: ExperimentConfig, prepared: Prepared, device: torch.device) -> str:
    """Cache key of a reference retraining: the data, split, the exact retained and
    validation rows, the model settings (seed included), the device type."""
    rows = _rows_digest(prepared.request.retained_rows, prepared.retrain_valid_rows)
    ds = prepared.dataset
    return cache_key(
        "reference-retrain", ds.fingerprint(), prepared.split.as_dict(), rows, config.model.as_dict(), device.type
    )


def _load_retrain(path, key: str, prepared: Prepared, device: torch.device) -> tuple[Scorer | None, float, str | None]:
    from core.models.persistence import model_from_payload

    payload, warning = load_entry(path, key)
    if payload is None:
        return None, 0.0, warning
    try:
        model, _ = model_from_payload(payload["model"], device)
        ds = prepared.dataset
        if (model.n_users, model.n_items) != (ds.n_users, ds.n_items):
            raise ValueError(f"it holds {model.n_users} × {model.n_items}, the data has {ds.n_users} × {ds.n_items}")
        return model, float(payload["seconds"]), None
    except Exception as exc:  # noqa: BLE001 - a wrong entry is retrained, never used
        return None, 0.0, f"cache entry {path.name} not used: {exc}; training again"


def cached_retrain(config: ExperimentConfig, prepared: Prepared, device: torch.device, seed: int):
    """(model, first-time seconds, warning) of a cached reference retraining; model None when absent."""
    config = seeded(config, seed)
    key = retrain_key(config, prepared, device)
    return _load_retrain(cached_path(key), key, prepared, device)


def train_retrain(config: ExperimentConfig, prepared: Prepared, device: torch.device, seed: int, reporter: Reporter):
    """One reference retraining: the run's ``retrain`` step with model seed ``seed``,
    from the cache when ``config.use_cache`` and it is there. (model, seconds, from_cache)."""
    from core.experiment.method_step import method_context, run_method_step
    from core.methods.registry import get_method
    from core.models.persistence import model_payload

    config = seeded(config, seed)
    key = retrain_key(config, prepared, device)
    path = cached_path(key)
    if config.use_cache:
        model, seconds, warning = _load_retrain(path, key, prepared, device)
        if warning:
            reporter.log(warning, "warning")
        if model is not None:
            return model, seconds, True
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)  # whatever the global stream was: the same model in any process
        step = run_method_step(get_method("retrain"), {}, method_context(config, prepared, None, device, reporter))
    model = step.outcome.model
    if config.use_cache:
        facts = {"kind": "reference-retrain", "seed": seed, "rows": len(prepared.request.retained_rows)}
        warning = save_entry(path, key, {"model": model_payload(model), "seconds": step.seconds}, facts)
        if warning:
            reporter.log(warning, "warning")
    return model, step.seconds, False


def _base_time_key(config: ExperimentConfig, prepared: Prepared, device: torch.device) -> str:
    ds = prepared.dataset
    return cache_key(
        "reference-base-time", ds.fingerprint(), prepared.split.as_dict(), config.model.as_dict(), device.type
    )


def train_reference_base(config: ExperimentConfig, prepared: Prepared, device: torch.device, seed: int, reporter):
    """One reference base model: the run's base model with model seed ``seed`` (its cache entry is
    the one any run with that seed uses). (model, seconds when first trained, from_cache): the
    first-time seconds are kept in a small entry of their own beside it (0 when unknown)."""
    from core.experiment.base_model import train_base

    config = seeded(config, seed)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        model, seconds, cached = train_base(config, prepared, device, reporter)
    if not config.use_cache:
        return model, seconds, cached
    key = _base_time_key(config, prepared, device)
    path = cached_path(key, "reference-times")
    if cached:
        payload, _ = load_entry(path, key)
        return model, float(payload["seconds"]) if isinstance(payload, dict) else 0.0, True
    save_entry(path, key, {"seconds": float(seconds)}, {"kind": "reference-base-time", "seed": seed})
    return model, seconds, False


def cached_base(config: ExperimentConfig, prepared: Prepared, device: torch.device, seed: int) -> bool:
    """Whether the reference base of ``seed`` is in the cache (then it loads, not trains)."""
    ds, model = prepared.dataset, seeded(config, seed).model
    # train_base's key (core/experiment/base_model.py): only decides where to train; train_base decides what loads
    return cached_path(cache_key(ds.fingerprint(), prepared.split.as_dict(), model.as_dict(), device.type)).is_file()


def run_task(task: Task, config: ExperimentConfig, prepared: Prepared, device: torch.device, reporter: Reporter):
    """The one function every executor runs for a task: (model, seconds, from_cache)."""
    if task.kind == RETRAIN:
        return train_retrain(config, prepared, device, task.seed, reporter)
    return train_reference_base(config, prepared, device, task.seed, reporter)


def is_cached(task: Task, config: ExperimentConfig, prepared: Prepared, device: torch.device) -> bool:
    if not config.use_cache:
        return False
    if task.kind == RETRAIN:
        return cached_path(retrain_key(seeded(config, task.seed), prepared, device)).is_file()
    return cached_base(config, prepared, device, task.seed)


def choose_executor(requested: str | None, n_tasks: int, expected_s: float) -> str:
    """``serial`` or ``ray`` for ``n_tasks`` references to train (``expected_s`` serially).

    ``auto``: Ray when this process drives a cluster it is already connected to (the caller
    chose one; never from inside a Ray task), or with at least :data:`RAY_MIN_CPUS` cores, two tasks or more and
    :data:`RAY_WORTH_S` seconds of expected work; otherwise in this process."""
    choice = (requested or os.environ.get(EXECUTOR_ENV) or "auto").strip().lower()
    if choice not in EXECUTORS:
        from core.errors import ConfigError

        raise ConfigError(f"{EXECUTOR_ENV} must be one of {', '.join(EXECUTORS)}, got {choice!r}")
    if choice != "auto" or n_tasks < 2:
        return choice if n_tasks >= 1 else "serial"
    try:
        import ray
    except ImportError:
        return "serial"
    if ray.is_initialized():  # the caller's cluster; inside a Ray task (a sweep's cell) its slots are the sweep's
        return "serial" if ray.get_runtime_context().worker.mode == ray.WORKER_MODE else "ray"
    return "ray" if (os.cpu_count() or 1) >= RAY_MIN_CPUS and expected_s >= RAY_WORTH_S else "serial"


def build_ensemble(
    config: ExperimentConfig,
    prepared: Prepared,
    device: torch.device,
    r: int,
    reporter: Reporter,
    *,
    executor: str | None = None,
    expected_task_s: float = 0.0,
    consume: Callable[[str, Scorer], Any] | None = None,
) -> Ensemble:
    """The R reference retrainings and R reference bases: cached ones loaded here, the
    others trained serially or on Ray (:func:`choose_executor`). ``consume(kind, model)``,
    when given, is called on each model as it arrives and its answer kept instead of the
    model, so no more than one reference model is held at a time (memory: one model, not 2R)."""
    start = time.perf_counter()
    tasks = tasks_for(config, r)
    todo = [t for t in tasks if not is_cached(t, config, prepared, device)]
    chosen = choose_executor(executor, len(todo), expected_task_s * len(todo))
    keep = consume or (lambda _kind, model: model)
    done: dict[Task, tuple] = {}
    if chosen == "ray" and todo:
        from core.references.on_ray import run_on_ray

        done.update(run_on_ray(todo, config, prepared, device, reporter.sub(0.0, 0.9), keep))
    quiet = reporter.without_curves()
    rest = [t for t in tasks if t not in done]
    for index, task in enumerate(rest):
        sub = quiet.sub(index / len(rest), (index + 1) / len(rest)) if chosen == "serial" else quiet.sub(0.9, 1.0)
        sub.progress(0.0, f"reference {task.kind} (model seed {task.seed})")
        model, seconds, cached = run_task(task, config, prepared, device, sub)
        done[task] = (keep(task.kind, model), seconds, cached)
        del model
    refs = {t: Reference(t.kind, t.seed, *done[t]) for t in tasks}
    return Ensemble(
        retrains=[refs[t] for t in tasks if t.kind == RETRAIN],
        bases=[refs[t] for t in tasks if t.kind == BASE],
        executor=chosen if todo else "serial",
        wall_s=time.perf_counter() - start,
    )
