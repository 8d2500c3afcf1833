"""The Sweep tab's Stream page: K deletion requests of one size applied one after another to
the same model, every ticked method against retraining after each (``core.sweeps.stream``),
drawn as each step is measured. ``stream.json`` and ``stream.svg`` go to the sweep's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from core.errors import CragruError
from core.events import Dispatcher, ProgressEvent, StreamStep
from core.sweeps.stream import MAX_STEPS, StreamResult, run_stream
from core.sweeps.stream_command import stream_panels
from core.sweeps.svg import panels_svg
from cragru_gui import errors
from cragru_gui.sweep.sweep_plots import StreamPlots

KIND = "stream"


def stream_task(config, n_steps: int, out: Path | None = None):
    """The task function: the stream on the task's sinks, then its files under ``out``."""

    def run(task) -> StreamResult:
        result = run_stream(config, n_steps, on_event=task.emit, should_stop=task.should_stop)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "stream.json").write_text(json.dumps(result.as_dict(), indent=1))
            (out / "stream.svg").write_text(
                panels_svg(stream_panels(result), title=f"{n_steps} × {result.request} on {result.dataset}")
            )
        return result

    return run


class StreamView(QWidget):
    """Steps and size, Start/Cancel, the live charts. ``build(size)`` gives the experiment
    (methods, model, data) from the Sweep set-up; ``out()`` the results folder."""

    busyChanged = Signal(bool)

    def __init__(
        self, tasks, build: Callable[[float], object], out: Callable[[], Path], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._route = Dispatcher({StreamStep: self._on_step, ProgressEvent: self._on_progress})
        self.setObjectName("streamView")
        self.tasks, self._build, self._out = tasks, build, out
        self.result: StreamResult | None = None
        self.steps_spin = QSpinBox(self)
        self.steps_spin.setObjectName("streamSteps")
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(10)
        self.steps_spin.setToolTip("How many requests arrive, one after another")
        self.size_spin = QDoubleSpinBox(self)
        self.size_spin.setObjectName("streamSize")
        self.size_spin.setDecimals(4)
        self.size_spin.setRange(0.0001, 0.5)
        self.size_spin.setSingleStep(0.001)
        self.size_spin.setValue(0.005)
        self.size_spin.setToolTip("Each request's size, a share of what is still retained (kind and methods: left)")
        self.start_button = QPushButton("Start stream", self)
        self.start_button.setObjectName("streamStart")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.status = QLabel(
            "Methods that can unlearn a request from their own model of the earlier ones do so "
            "(incremental); the others start again from the base model with every request so far "
            "(from base) and pay for it in latency.",
            self,
        )
        self.status.setWordWrap(True)
        self.status.setProperty("role", "hint")
        self.plots = StreamPlots(self)
        row = QHBoxLayout()
        for widget in (
            QLabel("Requests:"),
            self.steps_spin,
            QLabel("each of size:"),
            self.size_spin,
            self.start_button,
            self.cancel_button,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.plots, 1)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)

    def start(self) -> None:
        if self.tasks.is_running(KIND):
            return
        n_steps, size = self.steps_spin.value(), self.size_spin.value()
        try:
            config = self._build(size)
            out = self._out() / "streams" / f"{n_steps}x{config.request.kind}-{config.request.selector}-{size:g}"
        except CragruError as exc:
            self.status.setText(f"Cannot start the stream: {errors.user_message(exc)}")
            return
        self.result = None
        self.plots.start(n_steps)
        self.status.setText(
            f"{n_steps} × {config.request.describe()} for "
            f"{', '.join(m.name for m in config.methods)}: training the base model…"
        )
        self.tasks.start(
            KIND,
            stream_task(config, n_steps, out),
            on_event=self._on_event,
            on_done=self._done,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            on_finished=self._finished,
        )
        self._set_busy(True)

    def cancel(self) -> None:
        if self.tasks.is_running(KIND):
            self.tasks.cancel(KIND)
            self.status.setText("Cancelling…")

    def _on_event(self, event) -> None:
        self._route(event)

    def _on_step(self, event: StreamStep) -> None:
        self.plots.add_step(event)
        self.status.setText(
            f"request {event.step} of {self.steps_spin.value()}: {event.method} "
            f"{event.latency_s:.2f} s, drift top-10 {event.drift_top10:.3f}"
        )

    def _on_progress(self, event: ProgressEvent) -> None:
        if event.text:
            self.status.setText(event.text)

    def _done(self, result: StreamResult) -> None:
        self.result = result
        totals = ", ".join(f"{m} {result.of(m)[-1].cumulative_s:.1f} s" for m in result.modes if result.of(m))
        self.status.setText(f"Done: cumulative cost {totals}.")

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"The stream failed: {errors.user_message(exc)}")
        errors.report_exception(self, exc, "The stream failed")

    def _cancelled(self) -> None:
        self.status.setText("Stream cancelled.")

    def _finished(self) -> None:
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.busyChanged.emit(busy)
