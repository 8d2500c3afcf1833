"""The local Ray cluster's processes, found and stopped after their driver died.

``ray.init()`` starts the GCS, the raylet, the dashboard, the log monitor and, under the
raylet, the dashboard and runtime-env agents and the workers. A ``kill -9`` of the driver
leaves some of them running. Before the local cluster starts, the driver puts a tag
(``CRAGRU_RAY_OWNER=<pid>-<start time>``) in its environment, which those processes
inherit, and starts a small reaper (``python -m core.cluster.processes``) that, while
the driver lives, records every process under it (the agents rewrite their environment
with their process title, so the tag alone does not find them) in
``<data dir>/ray/<tag>.json``; once the driver is gone it stops each recorded and each
tagged process. The next sweep does the same for any record or tag whose driver is dead
(:func:`stop_leftovers`), should the reaper itself have been killed. Linux reads
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


def _parents() -> dict[int, int]:
    """PID → parent PID of every process (empty where /proc is missing)."""
    found: dict[int, int] = {}
    if not Path("/proc/self/stat").exists():
        return found
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return found


def descendants(root: int) -> list[int]:
    """Every process under ``root`` (children, their children…)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    out, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def _is_ray(pid: int) -> bool:
    """One of Ray's processes (its binaries, scripts or ``ray::`` titles), not another
    child of the driver (a viewer the window opened) that must outlive it."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"ray" in command.lower() and b"core.cluster.processes" not in command


def record_dir() -> Path:
    from core.paths import data_dir

    return data_dir() / "ray"


def _record_path(tag: str) -> Path:
    return record_dir() / f"{tag}.json"


def _read_record(path: Path) -> dict[int, str]:
    import json

    try:
        return {int(pid): str(start) for pid, start in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_record(path: Path, recorded: dict[int, str]) -> None:
    import json

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps({str(p): s for p, s in recorded.items()}))
        os.replace(partial, path)
    except OSError:
        pass  # no record: the tag still finds most of them


def _still_same(recorded: dict[int, str]) -> list[int]:
    """The recorded PIDs that still name the process recorded (not a reused PID)."""
    return [pid for pid, start in recorded.items() if _start_time(pid) == start]


def stop_leftovers(only_tag: str | None = None) -> list[int]:
    """Stop every recorded or tagged process whose driver is dead (or, with ``only_tag``,
    that driver's)."""
    mine = own_tag()
    dead = (lambda tag: tag == only_tag) if only_tag else (lambda tag: tag != mine and not _tag_alive(tag))
    doomed = {pid for pid, tag in tagged_processes().items() if dead(tag)}
    records = sorted(record_dir().glob("*.json")) if record_dir().is_dir() else []
    for path in records:
        if dead(path.stem):
            doomed.update(_still_same(_read_record(path)))
    stopped = stop_tagged(sorted(doomed)) if doomed else []
    for path in records:
        if dead(path.stem):
            path.unlink(missing_ok=True)
    return stopped


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
            [sys.executable, "-m", "core.cluster.processes", tag],
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
    """Record the driver's processes while it lives; stop them once it is gone."""
    driver = int(tag.split("-", 1)[0])
    path, recorded = _record_path(tag), {}
    while _tag_alive(tag):
        found = {pid: _start_time(pid) for pid in descendants(driver) if _is_ray(pid)}
        new = {pid: start for pid, start in found.items() if start is not None and recorded.get(pid) != start}
        if new:
            recorded.update(new)
            _write_record(path, recorded)
        time.sleep(poll_s)
    time.sleep(poll_s)  # let a normal ray.shutdown() finish first
    stop_leftovers(only_tag=tag)


if __name__ == "__main__":
    _reap(sys.argv[1])
