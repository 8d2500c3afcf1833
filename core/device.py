"""Device choice in one place: ``auto`` means the GPU when torch sees one, else the CPU.

On the CPU, torch's threads are sized to the cores this process may use (its affinity: a
container's share, not the machine's count), and OpenMP sleeps instead of spinning while a
thread waits (``OMP_WAIT_POLICY=PASSIVE``, set in ``core/__init__``). Measured beside one busy
program on the shared 2-core machine (issue 23, bench/results/demo_cpu.txt): a second launch of
the demo took 52 s wall / 42 s CPU with two passive threads, 77 s / 85 s with two spinning ones
(the former default) and 104 s / 42 s with one thread (sized to the cores the load left free):
a passive thread costs nothing while it waits, and the scheduler gives two threads two shares,
so the count is not cut for other programs' load.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import torch

from core.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda")
THREADS_VARIABLES = ("CRAGRU_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Any of these set: the user chose the thread count; :func:`size_threads` leaves it alone."""

_TORCH_DEFAULT = torch.get_num_threads()
_last: dict[str, float] = {}  # the last sizing: the threads set


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


def size_threads() -> int:
    """Set torch's intra-op threads to the usable cores; returns the count in use.

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
    threads = usable_cores()
    if threads != current:
        torch.set_num_threads(threads)
    _last["threads"] = threads
    return threads


@contextmanager
def small_step_threads(device: torch.device) -> Iterator[None]:
    """One intra-op thread, on the CPU, for a loop of tiny steps (a recommender's batch of
    embedding rows): a passive OpenMP thread must be woken for every operation, which costs
    more than the half of a 100k-multiply step it would take. Measured on the 2-core machine,
    idle, ML-100K: SISA's request 4.4 s with one thread against 11.8 s with two; LightGCN's
    retraining 30.9 s against 43.2 s; the demo's rerun 9.2 s against 11.4 s. Large steps (the
    LLMs) keep every thread. A count the user chose is left alone."""
    before = torch.get_num_threads()
    if device.type != "cpu" or before == 1 or any(os.environ.get(v) for v in THREADS_VARIABLES):
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def describe_device(device: torch.device) -> str:
    """Human-readable name: the GPU's model for CUDA, 'CPU (N threads)' otherwise."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


def gpu_name() -> str | None:
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
