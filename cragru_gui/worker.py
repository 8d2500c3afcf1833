"""Background work: the engine's callbacks become Qt signals (superqt-style workers).

:class:`ExperimentWorker` runs ``core.runner.run_experiment`` in a :class:`QThread`;
every :mod:`core.events` event is re-emitted as a signal (delivered on the GUI thread
through queued connections). Cancel sets a flag read by ``should_stop``; the engine
checks it every epoch and every 50 batches, so a run stops within about a second.
:class:`FunctionWorker` runs any other slow call (loading a big dataset) the same way.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.errors import Cancelled
from core.events import AttackResultEvent, Event, LogEvent, MetricEvent, ModelResultEvent, ProgressEvent, StageEvent


class _BaseWorker(QObject):
    started = Signal()
    returned = Signal(object)  # the function's return value
    errored = Signal(object)  # the exception (never Cancelled)
    cancelled = Signal()
    finished = Signal()  # always last, whatever happened

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self.thread: QThread | None = None

    # -- cancellation ---------------------------------------------------------------------
    def quit(self) -> None:
        """Ask the work to stop; it ends at the engine's next check."""
        self._stop.set()

    @property
    def abort_requested(self) -> bool:
        return self._stop.is_set()

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def _work(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            value = self._work()
        except (Cancelled, KeyboardInterrupt):
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure is reported, none escapes the thread
            self.errored.emit(exc)
        else:
            if self._stop.is_set() and value is None:
                self.cancelled.emit()
            else:
                self.returned.emit(value)
        finally:
            self.finished.emit()

    # -- threading -------------------------------------------------------------------------
    def start(self) -> QThread:
        """Move to a fresh QThread and run there; the thread ends itself when done."""
        thread = QThread()
        thread.setObjectName(type(self).__name__)
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # direct: QThread.quit is thread-safe, and a GUI thread blocked in wait() must not deadlock
        self.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread = thread
        thread.start()
        return thread

    def wait(self, msecs: int = -1) -> bool:
        """Block until the thread has ended (True) or ``msecs`` elapsed (False)."""
        if self.thread is None:
            return True
        return self.thread.wait(msecs) if msecs >= 0 else self.thread.wait()

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()


class FunctionWorker(_BaseWorker):
    """Runs ``fn(*args, **kwargs)`` off the GUI thread."""

    def __init__(self, fn: Callable[..., Any], *args, **kwargs) -> None:
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs

    def _work(self) -> Any:
        return self._fn(*self._args, **self._kwargs)


class ExperimentWorker(_BaseWorker):
    """One experiment: ``run_experiment(config, on_event, should_stop, store=...)``."""

    stage = Signal(str, int, int)  # name, index, total
    progress = Signal(float, str)  # overall fraction, text
    metric = Signal(object)  # MetricEvent
    model_result = Signal(object)  # ModelResultEvent
    attack_result = Signal(object)  # AttackResultEvent
    log = Signal(str, str)  # text, level

    def __init__(self, config, store=None, dataset=None, runner: Callable[..., Any] | None = None) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.dataset = dataset
        self._runner = runner

    def on_event(self, event: Event) -> None:
        """Called on the worker thread by the engine; signals cross to the GUI thread."""
        if isinstance(event, StageEvent):
            self.stage.emit(event.name, event.index, event.total)
        elif isinstance(event, ProgressEvent):
            self.progress.emit(event.fraction, event.text)
        elif isinstance(event, MetricEvent):
            self.metric.emit(event)
        elif isinstance(event, ModelResultEvent):
            self.model_result.emit(event)
        elif isinstance(event, AttackResultEvent):
            self.attack_result.emit(event)
        elif isinstance(event, LogEvent):
            self.log.emit(event.text, event.level)

    def _work(self) -> Any:
        runner = self._runner
        if runner is None:
            from core.runner import run_experiment as runner
        return runner(self.config, self.on_event, self.should_stop, dataset=self.dataset, store=self.store)
