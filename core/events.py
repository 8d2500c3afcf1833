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
    """One point of a live curve: which ``model`` (``base``, ``retrain`` or a method name),
    which ``stage`` of it (``train``, ``shards``, ``student``...), ``step`` and named values.

    The views draw a value only if a :class:`core.curves.CurveSpec` declares its key for
    that model (base-model curves are declared in :data:`core.curves.BASE_CURVES`)."""

    model: str
    stage: str
    step: int
    values: Mapping[str, float]

    @property
    def series(self) -> str:
        """The key under which a run stores this curve (``model/stage``)."""
        return series_name(self.model, self.stage)


def series_name(model: str, stage: str) -> str:
    """``model/stage``: how stored runs (``RunResult.curves``) name a curve."""
    return f"{model}/{stage}"


def split_series(series: str) -> tuple[str, str]:
    """Inverse of :func:`series_name`, for curves read back from a stored run."""
    model, _, stage = series.partition("/")
    return model, stage or "train"


@dataclass(frozen=True)
class ModelResultEvent(Event):
    """A model (base, retrain or a method) has been evaluated: its grouped metrics, its
    forgotten-item recall and the time of its step (``time_s``) plus one-off ``prep_s``."""

    model: str
    groups: Mapping[str, Mapping[str, float]]
    extras: Mapping[str, float] = field(default_factory=dict)
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # "group/metric" -> (low, high)


@dataclass(frozen=True)
class AttackResultEvent(Event):
    """An attack's figure for one model (AUC, with its 95 % interval when known)."""

    model: str
    attack: str
    value: float
    low: float | None = None
    high: float | None = None


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
        model: str = "base",
    ) -> None:
        self.model = model
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

    def metric(self, stage: str, step: int, **values: float) -> None:
        """One curve point of this reporter's model (see :meth:`for_model`)."""
        self._sink(MetricEvent(self.model, stage, step, {k: float(v) for k, v in values.items()}))

    def log(self, text: str, level: str = "info") -> None:
        self._sink(LogEvent(text, level))

    def tee(self, sink: EventSink) -> "Reporter":
        """This reporter, also handing every event to ``sink`` (e.g. to keep a curve)."""
        own = self._sink

        def both(event: Event) -> None:
            sink(event)
            own(event)

        return self._derived(sink=both)

    def sub(self, start: float, end: float) -> "Reporter":
        """A reporter whose [0, 1] progress fills [start, end] of this one's range."""
        return self._derived(start=self._start + self._span * start, span=self._span * (end - start))

    def for_model(self, model: str) -> "Reporter":
        """This reporter, with curve points attributed to ``model``: the runner hands each
        method one, so a method names only its stages, never itself."""
        return self._derived(model=model)

    def _derived(self, **changes) -> "Reporter":
        fields = dict(sink=self._sink, start=self._start, span=self._span, model=self.model)
        fields.update(changes)
        return Reporter(fields.pop("sink"), self._should_stop, min_step=self._min_step, **fields)


NULL_REPORTER = Reporter()
