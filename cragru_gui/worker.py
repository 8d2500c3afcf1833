"""Background work: one :class:`TaskRunner` per window (Orange3's ConcurrentMixin, one life cycle).

``start(kind, fn, on_done=..., on_error=...)`` runs ``fn(task)`` on its own thread; every
callback (``on_event``, ``on_done``, ``on_error``, ``on_cancelled``, ``on_finished``) runs
later on the GUI thread, through one queued signal.

One task per *kind* at a time, latest wins: starting a task while one of its kind runs
asks the running one to stop (``task.should_stop()`` turns True; the engine turns that into
:class:`~core.errors.Cancelled` at its next check), drops everything it would still deliver,
and starts the new one as soon as the old thread has ended. A task started meanwhile
replaces the waiting one. :meth:`TaskRunner.cancel` stops a task but still delivers its
``on_cancelled`` and ``on_finished``; :meth:`TaskRunner.shutdown` (window closing) stops
everything, delivers nothing more and waits for the threads.

:class:`EngineEvents` turns the engine's :mod:`core.events` into typed Qt signals for the views.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from core.errors import Cancelled
from core.events import (
    AttackResultEvent,
    Dispatcher,
    Event,
    LogEvent,
    MetricEvent,
    ModelResultEvent,
    ProgressEvent,
    StageEvent,
)
from cragru_gui import gc_guard

_CALLBACKS = ("on_event", "on_done", "on_error", "on_cancelled", "on_finished")


class Task:
    """One job: ``should_stop()`` and ``emit(event)`` are what ``fn`` may call, from its thread."""

    def __init__(self, runner: "TaskRunner", kind: str, fn: Callable[["Task"], Any], callbacks: dict) -> None:
        self.kind = kind
        self._runner = runner
        self._fn = fn
        self._callbacks = callbacks
        self._stop = threading.Event()
        self.superseded = False  # a newer task of this kind (or shutdown) took over: deliver nothing
        self.thread: threading.Thread | None = None
        self.value: Any = None  # what ``fn`` returned, once it has (also handed to ``on_done``)

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        self._stop.set()

    def emit(self, event: Any) -> None:
        """Hand ``event`` to ``on_event`` on the GUI thread (the engine's ``on_event`` sink)."""
        self._send("event", event)

    def _send(self, what: str, payload: Any) -> None:
        try:
            self._runner._message.emit(self, what, payload)
        except RuntimeError:  # the runner is gone (window closed): nobody listens any more
            pass

    def _run(self) -> None:
        try:
            value = self.value = self._fn(self)
        except (Cancelled, KeyboardInterrupt):
            self._send("cancelled", None)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported, none escapes the thread
            self._send("error", exc)
        else:
            self._send("cancelled" if self.should_stop() and value is None else "done", value)
        finally:
            self._send("finished", None)

    def callback(self, what: str) -> Callable | None:
        return self._callbacks.get(what)

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the thread has ended (True) or ``timeout_s`` passed (False)."""
        if self.thread is not None:
            self.thread.join(timeout_s)
        return not self.is_alive()


class TaskRunner(QObject):
    """Runs tasks off the GUI thread and hands their results back on it."""

    finished = Signal(str)  # kind: a task's on_finished has run (tests wait on this)
    _message = Signal(object, str, object)  # task, what, payload: crosses to the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[str, Task] = {}
        self._waiting: dict[str, Task] = {}
        self._closed = False
        self._message.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def start(self, kind: str, fn: Callable[[Task], Any], **callbacks: Callable) -> Task:
        """Run ``fn(task)`` in the background (see the module docstring for what a newer task does)."""
        unknown = set(callbacks) - set(_CALLBACKS)
        if unknown:
            raise TypeError(f"unknown callbacks: {', '.join(sorted(unknown))}")
        task = Task(self, kind, fn, callbacks)
        if self._closed:
            return task
        running = self._running.get(kind)
        if running is None:
            self._launch(task)
        else:
            running.superseded = True
            running.cancel()
            self._waiting[kind] = task
        return task

    def _launch(self, task: Task) -> None:
        gc_guard.install()  # no cyclic collection on the worker thread (it could free Qt objects there)
        self._running[task.kind] = task
        task.thread = threading.Thread(target=task._run, name=f"cragru-{task.kind}", daemon=True)
        task.thread.start()

    @Slot(object, str, object)
    def _deliver(self, task: Task, what: str, payload: Any) -> None:
        if what == "finished":
            if self._running.get(task.kind) is task:
                del self._running[task.kind]
            quiet = task.superseded or self._closed
            if not quiet and task.callback("on_finished") is not None:
                task.callback("on_finished")()
            waiting = self._waiting.pop(task.kind, None)
            if waiting is not None and not self._closed:
                self._launch(waiting)
            if not quiet:
                self.finished.emit(task.kind)
            return
        if task.superseded or self._closed:
            return
        callback = task.callback(
            {"event": "on_event", "done": "on_done", "error": "on_error", "cancelled": "on_cancelled"}[what]
        )
        if callback is not None:
            callback() if what == "cancelled" else callback(payload)

    # -- asking about and stopping tasks ------------------------------------------------------
    def is_running(self, kind: str | None = None) -> bool:
        """A task of ``kind`` (any kind when None) is running or waiting to run."""
        kinds = [kind] if kind is not None else list({*self._running, *self._waiting})
        return any(k in self._running or k in self._waiting for k in kinds)

    def current(self, kind: str) -> Task | None:
        return self._waiting.get(kind) or self._running.get(kind)

    def cancel(self, kind: str) -> None:
        """Ask the task of ``kind`` to stop; it still reports ``on_cancelled`` and ``on_finished``."""
        self._waiting.pop(kind, None)
        if kind in self._running:
            self._running[kind].cancel()

    def wait(self, kind: str, timeout_s: float | None = None) -> bool:
        """Block until the running task of ``kind`` has ended (its callbacks come later)."""
        task = self._running.get(kind)
        return task.wait(timeout_s) if task is not None else True

    def shutdown(self, timeout_s: float = 30.0) -> bool:
        """Stop every task and wait for the threads (the window is closing); nothing more is
        delivered. True when every thread ended within ``timeout_s``."""
        self._closed = True
        self._waiting.clear()
        tasks = list(self._running.values())
        for task in tasks:
            task.superseded = True
            task.cancel()
        deadline = time.monotonic() + timeout_s
        for task in tasks:
            if task.wait(max(0.0, deadline - time.monotonic())) and self._running.get(task.kind) is task:
                del self._running[task.kind]
        return not self._running


class EngineEvents(QObject):
    """The engine's events as typed signals (call :meth:`dispatch` on the GUI thread)."""

    stage = Signal(str, int, int)  # name, index, total
    progress = Signal(float, str)  # overall fraction, text
    metric = Signal(object)  # MetricEvent
    model_result = Signal(object)  # ModelResultEvent
    attack_result = Signal(object)  # AttackResultEvent
    log = Signal(str, str)  # text, level

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._route = Dispatcher(
            {
                StageEvent: lambda e: self.stage.emit(e.name, e.index, e.total),
                ProgressEvent: lambda e: self.progress.emit(e.fraction, e.text),
                MetricEvent: self.metric.emit,
                ModelResultEvent: self.model_result.emit,
                AttackResultEvent: self.attack_result.emit,
                LogEvent: lambda e: self.log.emit(e.text, e.level),
            }
        )

    def dispatch(self, event: Event) -> None:
        self._route(event)


def experiment_task(config, store=None, dataset=None, experiment_fn: Callable[..., Any] | None = None):
    """The task function of one experiment: ``run_experiment(config, task.emit, task.should_stop, ...)``."""

    def run(task: Task):
        run_experiment = experiment_fn
        if run_experiment is None:
            from core.experiment import run_experiment
        return run_experiment(config, task.emit, task.should_stop, dataset=dataset, store=store)

    return run
