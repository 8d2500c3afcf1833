"""The references not in the cache as Ray tasks, one per model (as a sweep's cells run).

The cluster is joined or started as sweeps do (:func:`core.cluster.connect.connect`: a
local one by default, usage reporting off); one started here is shut down afterwards.
The prepared data goes to the object store once; each task trains one reference (writing
the disk cache when the run uses it) and hands back the model on the CPU. A stop request
cancels the tasks still running and raises :class:`~core.errors.Cancelled` as any stage does.
"""

from __future__ import annotations

import os
from typing import Callable

import torch

from core.config import ExperimentConfig
from core.events import Reporter
from core.experiment.data import Prepared
from core.references.ensemble import Task, run_task

POLL_S = 0.2
GPU_PER_TASK = 0.25


def _remote_task(task: Task, config: ExperimentConfig, prepared: Prepared, cache_dir: str | None):
    """In a worker: one reference, trained (or found) there, returned on the CPU."""
    from core.device import resolve_device

    if cache_dir:
        os.environ["CRAGRU_CACHE_DIR"] = cache_dir
    model, seconds, cached = run_task(task, config, prepared, resolve_device(config.device), Reporter())
    return model.to("cpu"), seconds, cached


def run_on_ray(
    tasks: list[Task],
    config: ExperimentConfig,
    prepared: Prepared,
    device: torch.device,
    reporter: Reporter,
    consume: Callable[[str, object], object],
) -> dict[Task, tuple]:
    """Task -> (``consume(kind, model on device)``, seconds, from_cache) for every task, each
    consumed as it arrives."""
    import ray

    from core.cluster.connect import connect
    from core.errors import Cancelled
    from core.paths import cache_dir

    started_here, startup_s = connect(None, None)
    reporter.log(f"reference ensemble: {len(tasks)} models as Ray tasks (start-up {startup_s:.1f} s)")
    try:
        gpus = GPU_PER_TASK if ray.cluster_resources().get("GPU", 0.0) > 0 and device.type == "cuda" else 0.0
        remote = ray.remote(_remote_task).options(num_cpus=1, num_gpus=gpus, max_retries=0)
        shared = ray.put(prepared)
        pending = {remote.remote(task, config, shared, str(cache_dir())): task for task in tasks}
        done: dict[Task, tuple] = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
            for ref in ready:
                task = pending.pop(ref)
                model, seconds, cached = ray.get(ref)
                done[task] = (consume(task.kind, model.to(device)), seconds, cached)
                del model
                reporter.progress(len(done) / len(tasks), f"reference {task.kind} (model seed {task.seed}) done")
            try:
                reporter.check()
            except Cancelled:
                for ref in pending:
                    ray.cancel(ref)
                raise
        return done
    finally:
        if started_here:
            ray.shutdown()
