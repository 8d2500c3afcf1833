"""Run a sweep's cells: on Ray (a local cluster by default, or ``address``) or in-process.

The distinct base models are trained first, one task each, and every cell task waits
on its base's task (Ray orders them through the object reference), so each cell loads
its base from the disk cache. The driver writes one JSON per finished cell under
``out/cells/`` and records it in the run store; a rerun skips cells whose JSON is
there. A failed or cancelled cell is reported and the others go on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.errors import CragruError
from core.events import CellFinished
from core.history import RunStore
from core.paths import cache_dir as default_cache_dir
from core.result import RunResult
from core.sweeps.cells import CellOutcome, base_key, run_cell, train_base_into_cache
from core.sweeps.grid import Cell

EXECUTORS = ("ray", "serial")


@dataclass(frozen=True)
class RayOptions:
    """Where the cells run. ``address`` None starts a local cluster of ``num_cpus`` (all cores)."""

    address: str | None = None
    num_cpus: int | None = None
    cpus_per_cell: float = 1.0
    gpus_per_cell: float = 0.25  # asked only where the cluster has GPUs and the cell may use one


@dataclass(frozen=True)
class SweepReport:
    """Every cell's outcome (in grid order) and where the wall time went."""

    outcomes: tuple[CellOutcome, ...]
    executor: str
    wall_s: float  # the whole sweep, Ray's start-up included
    startup_s: float  # ray.init (0 when serial or already connected)
    base_s: float  # in-worker seconds training the distinct base models
    task_s: float  # in-worker seconds of every cell and base task
    slots: int  # cells that can run at once

    def by_status(self, status: str) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.status == status]


def cell_path(out_dir: Path, cell: Cell) -> Path:
    return out_dir / "cells" / f"{cell.cell_id}.json"


def finished_result(out_dir: Path, cell: Cell) -> RunResult | None:
    """The cell's result from an earlier run of the sweep, if its JSON is there and readable."""
    path = cell_path(out_dir, cell)
    try:
        return RunResult.from_dict(json.loads(path.read_text())) if path.exists() else None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged file: the cell runs again


def _save_cell(out: Path, cell: Cell, text: str) -> None:
    """The cell's JSON whole or not at all (a killed sweep never leaves half a cell for the
    rerun to trip on); a failed write goes to the fallback, named in a warning, and the
    sweep goes on."""
    import logging
    import sys

    from core.outputs import write_or_fallback

    _, warning = write_or_fallback(
        cell_path(out, cell),
        lambda p: p.write_text(text, encoding="utf-8"),
        f"cell {cell.cell_id}",
        f"sweep-cell-{cell.cell_id}.json",
    )
    if warning:
        logging.getLogger("cragru.sweep").warning(warning)
        print(f"cragru-run sweep: warning: {warning}", file=sys.stderr)


def _record(store: RunStore | None, cell: Cell, outcome: CellOutcome) -> None:
    """The driver's copy of a cell in the run history (workers never touch the store)."""
    if store is None or outcome.status == "skipped":
        return
    if outcome.result is not None:
        store.begin(outcome.result.run_id, outcome.result.config, outcome.result.started_at)
        store.finish_done(outcome.result)
        return
    import uuid

    run_id = uuid.uuid4().hex[:12]
    store.begin(run_id, cell.config.to_dict())
    if outcome.status == "cancelled":
        store.finish_cancelled(run_id)
    else:
        store.finish_failed(run_id, outcome.error)


def _distinct_bases(cells: list[Cell]) -> dict[str, Cell]:
    bases: dict[str, Cell] = {}
    for cell in cells:
        if cell.config.use_cache:
            bases.setdefault(base_key(cell.config), cell)
    return bases


def _serial(cells: list[Cell], cache: str, should_stop, finish) -> tuple[float, float]:
    base_s = sum(train_base_into_cache(c.config, cache) for c in _distinct_bases(cells).values())
    for cell in cells:
        if should_stop is not None and should_stop():
            finish(cell, CellOutcome(cell.cell_id, "cancelled"))
        else:
            finish(cell, run_cell(cell.cell_id, cell.config, cache, should_stop))
    return 0.0, base_s


def run_sweep(
    cells: list[Cell] | tuple[Cell, ...],
    out_dir: str | Path,
    *,
    executor: str = "ray",
    ray_options: RayOptions | None = None,
    store: RunStore | None = None,
    on_event: Callable[[object], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SweepReport:
    """Run every cell not already finished under ``out_dir``; see the module docstring."""
    if executor not in EXECUTORS:
        raise CragruError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    started = time.perf_counter()
    out = Path(out_dir)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, CellOutcome] = {}

    def finish(cell: Cell, outcome: CellOutcome) -> None:
        if outcome.result is not None and outcome.status == "done":
            _save_cell(out, cell, outcome.result.to_json(include_topk=False))
        _record(store, cell, outcome)
        outcomes[cell.cell_id] = outcome
        if on_event is not None:
            on_event(
                CellFinished(len(outcomes), len(cells), cell.cell_id, outcome.status, outcome.seconds, outcome.error)
            )

    todo = []
    for cell in cells:
        earlier = finished_result(out, cell)
        if earlier is not None:
            finish(cell, CellOutcome(cell.cell_id, "skipped", earlier))
        else:
            todo.append(cell)
    cache = str(default_cache_dir())
    slots = 1
    if todo and executor == "serial":
        startup_s, base_s = _serial(todo, cache, should_stop, finish)
    elif todo:
        from core.sweeps.on_ray import run_on_ray

        startup_s, base_s, slots = run_on_ray(todo, cache, ray_options or RayOptions(), should_stop, finish)
    else:
        startup_s, base_s = 0.0, 0.0
    ordered = tuple(outcomes[c.cell_id] for c in cells)
    return SweepReport(
        ordered,
        executor,
        time.perf_counter() - started,
        startup_s,
        base_s,
        base_s + sum(o.seconds for o in ordered),
        slots,
    )
