"""What one worker does: train a distinct base model into the cache, or run one cell.

Plain functions of plain arguments, so the same code runs in-process (serial) or as a
Ray task on any node; the driver keeps the run store and the output folder.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from core.config import ExperimentConfig
from core.result import RunResult


@dataclass(frozen=True)
class CellOutcome:
    """A finished cell as the driver sees it: its result, or why it has none."""

    cell_id: str
    status: str  # done / skipped (finished in an earlier run) / failed / cancelled
    result: RunResult | None = None
    error: str = ""
    seconds: float = 0.0  # wall time inside the worker (0 for skipped cells)


def base_key(config: ExperimentConfig) -> str:
    """Cells with the same key share one base model (data, split, model settings)."""
    import json

    return json.dumps(
        [config.data.__dict__, config.split.__dict__, config.model.as_dict(), config.device],
        sort_keys=True,
        default=str,
    )


def _use_cache_dir(cache_dir: str | None) -> None:
    if cache_dir:  # the driver's cache folder: on a cluster, a path every node can read
        os.environ["CRAGRU_CACHE_DIR"] = cache_dir


def train_base_into_cache(config: ExperimentConfig, cache_dir: str | None = None) -> float:
    """Train (or find) the base model of ``config`` in the disk cache; its seconds."""
    import torch

    from core.device import resolve_device
    from core.events import Reporter
    from core.experiment import prepare_data
    from core.experiment.base_model import train_base

    _use_cache_dir(cache_dir)
    torch.manual_seed(config.split.seed)  # as run_experiment does before its base model
    t = time.perf_counter()
    train_base(config, prepare_data(config), resolve_device(config.device), Reporter())
    return time.perf_counter() - t


def run_cell(
    cell_id: str, config: ExperimentConfig, cache_dir: str | None = None, should_stop=None, _after_base=None
) -> CellOutcome:
    """One ordinary experiment; a raised error becomes a ``failed`` outcome (the sweep
    goes on). ``_after_base`` only orders the task after its base model on Ray."""
    from core.errors import Cancelled
    from core.experiment import run_experiment

    _use_cache_dir(cache_dir)
    t = time.perf_counter()
    try:
        result = run_experiment(config, should_stop=should_stop)
    except (Cancelled, KeyboardInterrupt):
        return CellOutcome(cell_id, "cancelled", seconds=time.perf_counter() - t)
    except Exception as exc:  # reported per cell: one bad cell never stops the sweep
        return CellOutcome(cell_id, "failed", error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t)
    return CellOutcome(cell_id, "done", result, seconds=time.perf_counter() - t)
