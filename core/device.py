"""Device choice in one place: ``auto`` means the GPU when torch sees one, else the CPU.

On the CPU, torch's threads are sized to the cores other programs leave free (issue 23):
on a 2-core laptop where another program keeps one core busy, a second intra-op thread only
waits for its share of that core and slows every parallel step of the run down to it.
"""

from __future__ import annotations

import math
import os
import time

import torch

from core.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda")
THREADS_VARIABLES = ("CRAGRU_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Any of these set: the user chose the thread count; :func:`size_threads` leaves it alone."""
LOAD_DECAY_S = 60.0
"""The time constant of the kernel's 1-minute load average (how fast our own past load fades from it)."""

_TORCH_DEFAULT = torch.get_num_threads()
_last: dict[str, float] = {}  # the last sizing: threads set, wall and CPU clocks then


def resolve_device(choice: str = "auto") -> torch.device:
    choice = (choice or "auto").lower()
    if choice not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {choice!r}")
    if choice == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no GPU on this machine")
    else:
        device = torch.device(choice)
    if device.type == "cpu":
        size_threads()
    return device


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. a container's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def free_cores(cores: int | None = None) -> int:
    """Cores the other programs leave free now: all of them less the 1-minute load average,
    less this process's own share of it (its CPU rate since the last sizing, as far as the
    load average has taken it in), rounded; at least one."""
    cores = cores or usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores
    if _last:
        wall = time.monotonic() - _last["wall"]
        if wall > 0:
            own = (time.process_time() - _last["cpu"]) / wall
            load -= min(own, cores) * (1 - math.exp(-wall / LOAD_DECAY_S))
    return max(1, min(cores, round(cores - max(0.0, load))))


def size_threads() -> int:
    """Set torch's intra-op threads to the free cores; returns the count in use.

    Left alone when the user chose a count (``CRAGRU_THREADS``, which is applied, or
    ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``) or when code set one with
    ``torch.set_num_threads`` (a bench's ``--threads``)."""
    chosen = os.environ.get("CRAGRU_THREADS", "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        torch.set_num_threads(int(chosen))
        return int(chosen)
    current = torch.get_num_threads()
    if any(os.environ.get(v) for v in THREADS_VARIABLES) or current not in (_TORCH_DEFAULT, _last.get("threads")):
        return current
    threads = free_cores()
    if threads != current:
        torch.set_num_threads(threads)
    _last.update(threads=threads, wall=time.monotonic(), cpu=time.process_time())
    return threads


def describe_device(device: torch.device) -> str:
    """Human-readable name: the GPU's model for CUDA, 'CPU (N threads)' otherwise."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


def gpu_name() -> str | None:
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
