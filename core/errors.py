"""Errors the engine raises for bad input; each names the problem so the GUI and CLI can show it as is."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator


class CragruError(Exception):
    """Base of every error meant to be shown to a user (no traceback needed)."""


class DatasetError(CragruError):
    """A data file cannot be read: names the file, the line when known, and the problem."""

    def __init__(self, problem: str, path: str | None = None, line: int | None = None) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + problem)


class RequestError(CragruError):
    """A forget request is invalid (unknown IDs, empty, removes everything...)."""


class ConfigError(CragruError):
    """A parameter or configuration value is missing or out of range."""


class Cancelled(CragruError):
    """Raised inside engine code when the user asked to stop; nothing half-done is written."""


class MethodFailed(CragruError):
    """One method failed mid-run; ``partial`` is the run's result with every model that had
    finished before it (base and the earlier methods), so they are shown and saved, not lost."""

    def __init__(self, method: str, cause: BaseException, partial) -> None:
        self.method = method
        self.cause = cause
        self.partial = partial
        super().__init__(f"method {method!r} failed: {cause}")


@contextmanager
def keeping_finished(method: str, partial: Callable[[], object]) -> Iterator[None]:
    """Run one method's step; a failure (not a cancellation) becomes :class:`MethodFailed`
    carrying ``partial()``, the models finished so far. The run loop wraps each method::

        with keeping_finished(spec.name, lambda: self._result(run_id, started)):
            self._run_method(spec, values, base, sub)
    """
    try:
        yield
    except (Cancelled, KeyboardInterrupt, MethodFailed):
        raise
    except Exception as exc:
        raise MethodFailed(method, exc, partial()) from exc
