"""The sweep's cells as Ray tasks: one per distinct base model, then one per cell.

``ray.init()`` starts a local cluster (one CPU slot per core) unless ``address`` names
an existing one, or this process is already connected (the caller's cluster is then
left running). A cell asks for ``gpus_per_cell`` of a GPU where the cluster has GPUs and
the cell's device allows one; Ray hides the GPUs from CPU cells.
"""

from __future__ import annotations

import os
import time
from typing import Callable

from core.sweeps.cells import CellOutcome, base_key, run_cell, train_base_into_cache
from core.sweeps.grid import Cell

POLL_S = 0.2  # how often the driver looks at should_stop while cells run


NO_PHONE_HOME = {"RAY_USAGE_STATS_ENABLED": "0"}
"""Nothing leaves the machine at run time: Ray's usage reporting stays off."""


CONNECT_S = 10.0
"""How long a named cluster may take to answer before the sweep gives up on it."""


def parse_address(address: str) -> tuple[str, int] | None:
    """(host, port) of ``host:port`` or ``ray://host:port``; None for ``auto``/``local``
    (Ray finds those itself). A malformed address raises ConfigError naming it."""
    from core.errors import ConfigError
    from core.safe_text import quoted

    text = address.strip()
    if text in ("auto", "local"):
        return None
    bare = text.split("://", 1)[1] if text.startswith("ray://") else text
    host, sep, port = bare.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535 or "/" in host:
        raise ConfigError(
            f"--ray-address {quoted(text)} is not host:port (e.g. 127.0.0.1:6379 or ray://host:10001), auto or local"
        )
    return host, int(port)


_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
"""An HTTP/2 client preface and an empty SETTINGS frame: a Ray cluster (gRPC) answers with
its own SETTINGS frame; anything else (a web server, a silent port) does not."""


def _answers_grpc(sock, end: float) -> bool:
    sock.sendall(_H2_PREFACE)
    got = b""
    while len(got) < 9:
        sock.settimeout(max(0.01, end - time.monotonic()))
        chunk = sock.recv(9 - len(got))
        if not chunk:
            return False
        got += chunk
    return got[3] == 0x04


def probe(address: str, seconds: float | None = None) -> None:
    """Fail in at most ``seconds`` with one line unless a Ray cluster answers at ``address``:
    a closed port, a host that does not answer, or a port where something else listens
    (``ray.init`` itself would wait minutes and print Ray's own log)."""
    import socket

    from core.errors import CragruError

    where = parse_address(address)
    if where is None:
        return
    seconds = CONNECT_S if seconds is None else seconds
    end = time.monotonic() + seconds
    reason, connected = "something listens there but does not speak Ray's protocol", False
    try:
        with socket.create_connection(where, timeout=seconds) as sock:
            connected = True
            if _answers_grpc(sock, end):
                return
    except OSError as exc:
        if not connected:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__).lower()
    raise CragruError(f"no Ray cluster answers at {address.strip()} within {seconds:g} s ({reason})")


def _quiet_ray() -> None:
    """Ray's own loggers at ERROR: one line of ours, not twenty of Ray's."""
    import logging

    for name in ("ray", "ray.worker", "ray._private", "ray.util"):
        logging.getLogger(name).setLevel(logging.ERROR)


def connect(address: str | None, num_cpus: int | None) -> tuple[bool, float]:
    """Start or join a cluster; returns (started here, seconds it took).

    A named cluster is probed first (:func:`probe`: one line, at most :data:`CONNECT_S`);
    a local one is tagged so its processes are stopped when this process dies, however it
    dies (:mod:`core.sweeps.ray_processes`), and leftovers of a killed earlier sweep are
    stopped before it starts."""
    from core.errors import ConfigError, CragruError

    for name, value in NO_PHONE_HOME.items():
        os.environ.setdefault(name, value)
    if num_cpus is not None and num_cpus < 1:
        raise ConfigError(f"--num-cpus must be at least 1, got {num_cpus}")
    import logging

    import ray

    if ray.is_initialized():
        return False, 0.0
    _quiet_ray()
    t = time.perf_counter()
    if address:
        probe(address)
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        except Exception as exc:  # Ray's ConnectionError, ValueError, RuntimeError...
            raise CragruError(f"cannot join the Ray cluster at {address.strip()}: {_first_line(exc)}") from None
    else:
        from core.sweeps.ray_processes import mark_and_watch, stop_leftovers

        stop_leftovers()  # a killed earlier sweep's cluster
        mark_and_watch()
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    return True, time.perf_counter() - t


def _first_line(exc: Exception) -> str:
    from core.safe_text import cut

    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return cut(lines[0] if lines else type(exc).__name__, 200)


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
