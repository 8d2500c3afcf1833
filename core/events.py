"""The one event family that both the Qt worker and the CLI consume.

Engine code never talks to a UI: it calls a :class:`Reporter`, which forwards small frozen
dataclasses to a sink and turns a cancel request into :class:`~core.errors.Cancelled`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from core.errors import Cancelled


@dataclass(frozen=True)
class Event:
    """Base class: every event carries the wall-clock time it was made."""

    at: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class StageEvent(Event):
    """A new stage began (``index`` of ``total``, 1-based); ``name`` is shown to the user."""

    name: str
    index: int = 0
    total: int = 0


@dataclass(frozen=True)
class ProgressEvent(Event):
    """Progress inside the current stage: ``fraction`` in [0, 1]."""

    fraction: float
    text: str = ""


@dataclass(frozen=True)
class MetricEvent(Event):
    """One point of a live curve: ``series`` (e.g. ``train/base``), ``step``, named values."""

    series: str
    step: int
    values: Mapping[str, float]


@dataclass(frozen=True)
class ModelResultEvent(Event):
    """A model (base, retrain or a method) has been evaluated: its grouped metrics so far."""

    model: str
    groups: Mapping[str, Mapping[str, float]]
    extras: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LogEvent(Event):
    """A line for the log pane."""

    text: str
    level: str = "info"


EventSink = Callable[[Event], None]
StopFlag = Callable[[], bool]


def _ignore(_event: Event) -> None:
    return None


def _never() -> bool:
    return False


class Reporter:
    """What engine code holds: emit events, check for cancellation.

    Progress events are throttled to visible steps (1 %) so a tight loop does not flood
    the Qt event queue. ``sub()`` maps a child task's [0, 1] progress into a slice of
    the parent's range, so nested code can report without knowing where it runs.
    """

    def __init__(
        self,
        sink: EventSink | None = None,
        should_stop: StopFlag | None = None,
        *,
        start: float = 0.0,
        span: float = 1.0,
        min_step: float = 0.01,
    ) -> None:
        self._sink = sink or _ignore
        self._should_stop = should_stop or _never
        self._start = start
        self._span = span
        self._min_step = min_step
        self._last = -1.0

    # -- cancellation -------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`Cancelled` if a stop was requested. Call once per step."""
        if self._should_stop():
            raise Cancelled("cancelled by the user")

    @property
    def stop_requested(self) -> bool:
        return bool(self._should_stop())

    # -- events --------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        self._sink(event)

    def stage(self, name: str, index: int = 0, total: int = 0) -> None:
        self.check()
        self._sink(StageEvent(name, index, total))

    def progress(self, fraction: float, text: str = "") -> None:
        self.check()
        value = self._start + self._span * min(max(fraction, 0.0), 1.0)
        if value - self._last >= self._min_step or fraction >= 1.0 or fraction <= 0.0:
            self._last = value
            self._sink(ProgressEvent(value, text))

    def metric(self, series: str, step: int, **values: float) -> None:
        self._sink(MetricEvent(series, step, {k: float(v) for k, v in values.items()}))

    def log(self, text: str, level: str = "info") -> None:
        self._sink(LogEvent(text, level))

    def tee(self, sink: EventSink) -> "Reporter":
        """This reporter, also handing every event to ``sink`` (e.g. to keep a curve)."""
        own = self._sink

        def both(event: Event) -> None:
            sink(event)
            own(event)

        return Reporter(both, self._should_stop, start=self._start, span=self._span, min_step=self._min_step)

    def sub(self, start: float, end: float) -> "Reporter":
        """A reporter whose [0, 1] progress fills [start, end] of this one's range."""
        return Reporter(
            self._sink,
            self._should_stop,
            start=self._start + self._span * start,
            span=self._span * (end - start),
            min_step=self._min_step,
        )


NULL_REPORTER = Reporter()
