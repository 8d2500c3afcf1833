"""Joining or starting a Ray cluster, for the sweeps and the reference ensemble alike.

``ray.init()`` starts a local cluster (one CPU slot per core) unless ``address`` names an
existing one (probed first, with a bounded wait and one line when nothing answers), or
this process is already connected. Ray's usage reporting stays off; a local cluster's
processes are stopped when this process dies (:mod:`core.cluster.processes`).
"""

from __future__ import annotations

import os
import time

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
    dies (:mod:`core.cluster.processes`), and leftovers of a killed earlier sweep are
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
        from core.cluster.processes import mark_and_watch, stop_leftovers

        stop_leftovers()  # a killed earlier sweep's cluster
        mark_and_watch()
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    return True, time.perf_counter() - t


def _first_line(exc: Exception) -> str:
    from core.safe_text import cut

    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return cut(lines[0] if lines else type(exc).__name__, 200)
