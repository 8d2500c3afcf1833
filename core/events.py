"""The one event family that both the Qt worker and the CLI consume.

Engine code never talks to a UI: it calls a :class:`Reporter`, which forwards small frozen
dataclasses to a sink and turns a cancel request into :class:`~core.errors.Cancelled`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from core.errors import Cancelled


@dataclass(frozen=True)
class Event:
    """Base class: every event carries the wall-clock time it was made."""

    at: float = field(default_factory=time.time, kw_only=True, compare=False)


@dataclass(frozen=True)
class StageEvent(Event):
    """A new stage began (``index`` of ``total``, 1-based); ``name`` is shown to the user."""

    name: str
    index: int = 0
    total: int = 0


@dataclass(frozen=True)
class ProgressEvent(Event):
    """Progress of the run: ``fraction`` in [0, 1]; ``eta_s``: seconds left, estimated from
    the measured rate of the current step (:class:`StepRate`; None before any is measured).
    A heartbeat repeats the last fraction with a fresh ``eta_s`` when nothing else moved."""

    fraction: float
    text: str = ""
    eta_s: float | None = None


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


@dataclass(frozen=True)
class SeedStarted(Event):
    """Seed ``index`` (1-based) of ``total`` of a several-seed run starts, with split seed ``seed``."""

    index: int
    total: int
    seed: int


@dataclass(frozen=True)
class CellFinished(Event):
    """One cell of a sweep is over (``done``, ``skipped``, ``failed`` or ``cancelled``)."""

    index: int  # 1-based count of cells over so far
    total: int
    cell_id: str
    status: str
    seconds: float
    error: str = ""


@dataclass(frozen=True)
class StreamStep(Event):
    """One method after one request of a request stream (also kept in the stream's result)."""

    method: str
    step: int  # 1-based
    mode: str  # "incremental" (sequential_requests) or "from base" (every request so far, again)
    latency_s: float  # this request's unlearning wall time
    cumulative_s: float  # set-up + every latency so far
    removed_rows: int  # training rows forgotten so far
    retain_ndcg: float  # retain/ndcg@10
    forgotten_recall: float  # forgotten_recall@10 over every user forgotten so far
    drift_ndcg: float  # retain/ndcg@10 minus retraining's at this step
    drift_top10: float  # 1 − mean top-10 Jaccard with retraining's lists, retained users


EVENT_TYPES: tuple[type[Event], ...] = (
    StageEvent,
    ProgressEvent,
    MetricEvent,
    ModelResultEvent,
    AttackResultEvent,
    LogEvent,
    SeedStarted,
    CellFinished,
    StreamStep,
)
"""The whole family: every event the engine sends is one of these."""

EventSink = Callable[[Event], None]
StopFlag = Callable[[], bool]
STRICT_ENV = "CRAGRU_STRICT_EVENTS"
"""Set to 1 (the test suite does) and an event outside :data:`EVENT_TYPES` raises."""


class UnknownEvent(TypeError):
    """An event that is not of the family reached a dispatcher (an error in the tests)."""


class Dispatcher:
    """The one way events are routed: a handler per event type; types a consumer does not
    handle are passed over, and anything outside the family is an error in the tests (and
    one warning per type elsewhere), never silently dropped."""

    def __init__(self, handlers: Mapping[type, Callable[[Any], None]], *, strict: bool | None = None) -> None:
        unknown = [kind for kind in handlers if kind not in EVENT_TYPES]
        if unknown:
            raise UnknownEvent(f"no such event type: {', '.join(k.__name__ for k in unknown)}")
        self.handlers = dict(handlers)
        self.strict = os.environ.get(STRICT_ENV) == "1" if strict is None else strict
        self._warned: set[type] = set()

    def __call__(self, event: object) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(event)
        elif type(event) not in EVENT_TYPES:
            self._unknown(event)

    def _unknown(self, event: object) -> None:
        kind = type(event)
        if self.strict:
            raise UnknownEvent(f"{kind.__name__} is not an engine event (core.events.EVENT_TYPES)")
        if kind not in self._warned:
            self._warned.add(kind)
            logging.getLogger("cragru").warning("ignored an object that is not an engine event: %s", kind.__name__)


HEARTBEAT_SECONDS = 1.0
"""A reporter whose progress has not moved for this long repeats it (with a fresh ETA) at
its next cancel check, so a view never looks frozen while a step works."""


class StepRate:
    """Time left from the measured rate of the *current step* (not of the whole run).

    ``start_step`` marks a step boundary (a new stage); ``update(fraction)`` feeds the run's
    overall fraction. The rate is the fraction gained since the step began divided by the
    time since it began, *now included*: between updates the estimate grows, so a stalled
    step shows a rising number instead of a frozen one, and a step that moves shows the
    remaining run at its own pace. Before a step has moved, the whole run's rate is used.
    The GUI's run bar and the engine's progress events use this one rule.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.run_start = clock()
        self.fraction = 0.0
        self.start_step()

    def start_step(self) -> None:
        self.step_start, self.step_fraction = self._clock(), self.fraction

    def update(self, fraction: float) -> None:
        self.fraction = max(self.fraction, min(max(float(fraction), 0.0), 1.0))

    def elapsed(self) -> float:
        return self._clock() - self.run_start

    def remaining(self) -> float | None:
        """Seconds left (None: nothing measured yet; 0 when done)."""
        if self.fraction >= 1.0:
            return 0.0
        if self.fraction < 0.01:
            return None  # too little of the run to extrapolate from
        now = self._clock()
        gained, spent = self.fraction - self.step_fraction, now - self.step_start
        if gained <= 1e-6 or spent <= 0.5:
            gained, spent = self.fraction, now - self.run_start
            if spent < 1.0:
                return None
        return (1.0 - self.fraction) * spent / gained


class _Pulse:
    """What every reporter derived from one root shares: the last progress sent, when, and
    the step rate, so a heartbeat from any of them repeats the run's true state."""

    def __init__(self) -> None:
        self.rate = StepRate()
        self.last_emit = time.monotonic()
        self.value, self.text = 0.0, ""


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
        pulse: _Pulse | None = None,
    ) -> None:
        self.model = model
        self._pulse = pulse or _Pulse()
        self._sink = sink or _ignore
        self._should_stop = should_stop or _never
        self._start = start
        self._span = span
        self._min_step = min_step
        self._last = -1.0

    # -- cancellation -------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`Cancelled` if a stop was requested. Call once per step (at least
        every second: it also sends the heartbeat that keeps the views moving)."""
        if self._should_stop():
            raise Cancelled("cancelled by the user")
        pulse = self._pulse
        if time.monotonic() - pulse.last_emit >= HEARTBEAT_SECONDS:
            self._send(pulse.value, pulse.text)

    def stop_requested(self) -> bool:
        """The stop flag alone (no exception, no event): for code that must wind down
        cleanly first, e.g. a corpus iterator read by a library's worker thread."""
        return bool(self._should_stop())

    def _send(self, value: float, text: str) -> None:
        pulse = self._pulse
        pulse.rate.update(value)
        pulse.value, pulse.text, pulse.last_emit = value, text, time.monotonic()
        self._sink(ProgressEvent(value, text, eta_s=pulse.rate.remaining()))

    # -- events --------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        self._sink(event)

    def stage(self, name: str, index: int = 0, total: int = 0) -> None:
        self.check()
        self._pulse.rate.start_step()
        self._sink(StageEvent(name, index, total))

    def progress(self, fraction: float, text: str = "") -> None:
        value = self._start + self._span * min(max(fraction, 0.0), 1.0)
        visible = value - self._last >= self._min_step or fraction >= 1.0 or fraction <= 0.0
        if not visible:  # throttled, but the next heartbeat repeats the latest state
            self._pulse.value, self._pulse.text = value, text or self._pulse.text
        self.check()
        if visible:
            self._last = value
            self._send(value, text)

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

    def without_curves(self) -> "Reporter":
        """This reporter, dropping curve points: for models trained many times over (the
        reference ensemble), whose curves would crowd the run's own; progress, logs and
        cancellation go through as before."""
        own = self._sink

        def no_metrics(event: Event) -> None:
            if not isinstance(event, MetricEvent):
                own(event)

        return self._derived(sink=no_metrics)

    def _derived(self, **changes) -> "Reporter":
        fields = dict(sink=self._sink, start=self._start, span=self._span, model=self.model, pulse=self._pulse)
        fields.update(changes)
        return Reporter(fields.pop("sink"), self._should_stop, min_step=self._min_step, **fields)


NULL_REPORTER = Reporter()
