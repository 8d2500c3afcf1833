"""The local Ray cluster's processes, found and stopped after their driver died.

``ray.init()`` starts the GCS, the raylet, the dashboard, the log monitor and, under the
raylet, the dashboard and runtime-env agents and the workers. A ``kill -9`` of the
driver leaves some of them running. Before the local cluster starts, the driver puts a
tag (``CRAGRU_RAY_OWNER=<pid>-<start time>``) in its environment, which every one of those
processes inherits; a small reaper process (``python -m core.sweeps.ray_processes``)
waits for the driver and stops every tagged process once it is gone, and the next sweep
does the same for any tag whose driver is dead (:func:`stop_leftovers`). Linux reads
``/proc``; elsewhere :mod:`psutil` is used when installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TAG = "CRAGRU_RAY_OWNER"


def _start_time(pid: int) -> str | None:
    """The process's start time (telling a reused PID apart), None when it is gone."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self/stat").exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[19]
        except (OSError, IndexError):
            return None
    try:
        import psutil

        return str(psutil.Process(pid).create_time())
    except Exception:  # psutil missing, or no such process
        return None


def own_tag() -> str:
    pid = os.getpid()
    return f"{pid}-{_start_time(pid)}"


def _tag_alive(tag: str) -> bool:
    pid, _, start = tag.partition("-")
    return pid.isdigit() and _start_time(int(pid)) == start


def tagged_processes() -> dict[int, str]:
    """PID → tag of every process (of this user) that carries a Ray owner tag."""
    found: dict[int, str] = {}
    prefix = f"{TAG}=".encode()
    if Path("/proc/self/environ").exists():
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            for item in environ.split(b"\0"):
                if item.startswith(prefix):
                    found[int(entry.name)] = item[len(prefix) :].decode(errors="replace")
                    break
        return found
    try:
        import psutil
    except ImportError:
        return found
    for proc in psutil.process_iter():
        try:
            tag = proc.environ().get(TAG)
        except Exception:
            continue
        if tag:
            found[proc.pid] = tag
    return found


def stop_tagged(pids: list[int], grace_s: float = 3.0) -> list[int]:
    """SIGTERM, then SIGKILL for those still there after ``grace_s``; returns the PIDs signalled."""
    me = os.getpid()
    pids = [p for p in pids if p != me]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    end = time.monotonic() + grace_s
    while time.monotonic() < end and any(_start_time(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _start_time(pid) is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return pids


def stop_leftovers(only_tag: str | None = None) -> list[int]:
    """Stop every tagged process whose driver is dead (or, with ``only_tag``, that tag's)."""
    doomed = [
        pid
        for pid, tag in tagged_processes().items()
        if (tag == only_tag if only_tag else not _tag_alive(tag)) and tag != own_tag()
    ]
    return stop_tagged(doomed) if doomed else []


def mark_and_watch() -> str:
    """Tag this process's future children, and start the reaper that stops them once this
    process dies (whatever kills it). Returns the tag."""
    tag = own_tag()
    if os.environ.get(TAG) == tag:  # this process already has its reaper (a second sweep)
        return tag
    os.environ[TAG] = tag
    env = {k: v for k, v in os.environ.items() if k != TAG}  # the reaper is not one of them
    try:
        subprocess.Popen(
            [sys.executable, "-m", "core.sweeps.ray_processes", tag],
            env=env,
            cwd=str(Path(__file__).resolve().parents[2]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or a killed process group leaves it running
        )
    except OSError:
        pass  # no reaper: the next sweep's stop_leftovers still cleans up
    return tag


def _reap(tag: str, poll_s: float = 0.5) -> None:
    while _tag_alive(tag):
        time.sleep(poll_s)
    time.sleep(poll_s)  # let a normal ray.shutdown() finish first
    stop_leftovers(only_tag=tag)


if __name__ == "__main__":
    _reap(sys.argv[1])
