"""Cancellation points inside long numeric stages, without threading a reporter through.

The runner (or a bench) wraps a run in ``with cancellable(reporter.check):``; loops over
batches call :func:`cancel_point` once per batch, which raises ``Cancelled`` when a stop
was requested. Outside such a block it does nothing. A context variable, so two runs
in two threads each see their own hook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_HOOK: ContextVar[Callable[[], None] | None] = ContextVar("cragru_cancel_hook", default=None)


@contextmanager
def cancellable(check: Callable[[], None]) -> Iterator[None]:
    """Within this block, :func:`cancel_point` calls ``check`` (e.g. ``Reporter.check``)."""
    token = _HOOK.set(check)
    try:
        yield
    finally:
        _HOOK.reset(token)


def cancel_point() -> None:
    """Raise if the enclosing run was asked to stop; call once per batch of work."""
    hook = _HOOK.get()
    if hook is not None:
        hook()
