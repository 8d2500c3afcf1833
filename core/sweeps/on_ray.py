"""The sweep's cells as Ray tasks: one per distinct base model, then one per cell.

``ray.init()`` starts a local cluster (one CPU slot per core) unless ``address`` names
an existing one, or this process is already connected (the caller's cluster is then
left running). A cell asks for ``gpus_per_cell`` of a GPU where the cluster has GPUs and
the cell's device allows one; Ray hides the GPUs from CPU cells.
"""

from __future__ import annotations

from typing import Callable

from core.cluster.connect import connect
from core.sweeps.cells import CellOutcome, base_key, run_cell, train_base_into_cache
from core.sweeps.grid import Cell

POLL_S = 0.2  # how often the driver looks at should_stop while cells run


def _gpu_share(cell: Cell, per_cell: float, cluster_gpus: float) -> float:
    return per_cell if cluster_gpus > 0 and cell.config.device != "cpu" else 0.0


def _outcome_of(ref, cell: Cell) -> CellOutcome:
    """The task's own outcome, or the failure Ray reports for it (its base failed, a worker died)."""
    import ray
    from ray.exceptions import TaskCancelledError

    try:
        return ray.get(ref)
    except TaskCancelledError:
        return CellOutcome(cell.cell_id, "cancelled")
    except Exception as exc:  # RayTaskError of the base task, a lost worker...
        text = str(exc).strip().splitlines()
        return CellOutcome(cell.cell_id, "failed", error=f"{type(exc).__name__}: {text[-1] if text else ''}")


def run_on_ray(
    cells: list[Cell],
    cache: str,
    options,
    should_stop: Callable[[], bool] | None,
    finish: Callable[[Cell, CellOutcome], None],
) -> tuple[float, float, int]:
    """Submit the bases, then the cells; hand each outcome to ``finish`` as it arrives.
    Returns (start-up seconds, base seconds, slots)."""
    import ray

    started_here, startup_s = connect(options.address, options.num_cpus)
    try:
        gpus = ray.cluster_resources().get("GPU", 0.0)
        base_task = ray.remote(train_base_into_cache)
        cell_task = ray.remote(run_cell)
        bases = {}
        for cell in cells:
            key = base_key(cell.config)
            if cell.config.use_cache and key not in bases:
                bases[key] = base_task.options(
                    num_cpus=options.cpus_per_cell,
                    max_retries=0,
                    num_gpus=_gpu_share(cell, options.gpus_per_cell, gpus),
                ).remote(cell.config, cache)
        pending = {
            cell_task.options(
                num_cpus=options.cpus_per_cell, max_retries=0, num_gpus=_gpu_share(cell, options.gpus_per_cell, gpus)
            ).remote(cell.cell_id, cell.config, cache, None, bases.get(base_key(cell.config))): cell
            for cell in cells
        }
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) // options.cpus_per_cell))
        cancelled = False
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
            for ref in ready:
                cell = pending.pop(ref)
                finish(cell, _outcome_of(ref, cell))
            if not cancelled and should_stop is not None and should_stop():
                cancelled = True
                for ref in pending:
                    ray.cancel(ref)
        base_s = sum(_base_seconds(ref) for ref in bases.values())
        return startup_s, base_s, slots
    finally:
        if started_here:
            ray.shutdown()


def _base_seconds(ref) -> float:
    import ray

    try:
        return float(ray.get(ref))
    except Exception:
        return 0.0
