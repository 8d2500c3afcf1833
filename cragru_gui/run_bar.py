"""Run bar: Start, Cancel, the progress bar with the current stage and an ETA."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QProgressBar, QPushButton, QWidget

from core.events import StepRate


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class EtaEstimator(StepRate):
    """The run's elapsed time and time left: the engine's own rule (:class:`core.events.StepRate`:
    the current step's measured rate, re-estimated on every tick so it never freezes)."""

    def reset(self) -> None:
        self.run_start, self.fraction = self._clock(), 0.0
        self.start_step()


class RunBar(QFrame):
    startRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runBar")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        self.start_button = QPushButton("▶  Start", self)
        self.start_button.setObjectName("startButton")
        self.start_button.setToolTip(
            "Train the base model, apply the forget request with every ticked method, "
            "and measure what each model still remembers (F5)"
        )
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip("Stop the run within about a second; nothing half-done is stored (Esc)")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%p%")
        self.progress_bar.setToolTip("Progress of the whole run")
        self.stage_label = QLabel("Ready.", self)
        self.stage_label.setObjectName("stageLabel")
        self.stage_label.setWordWrap(True)
        self.eta_label = QLabel("", self)
        self.eta_label.setObjectName("etaLabel")
        self.eta_label.setProperty("role", "hint")
        self.eta_label.setToolTip(
            "Elapsed time and time left, estimated from the pace of the current step. Training "
            "counts up to its maximum epochs, so a model that stops early (no gain on the "
            "validation data) finishes sooner than estimated."
        )
        grid.addWidget(self.start_button, 0, 0)
        grid.addWidget(self.cancel_button, 0, 1)
        grid.addWidget(self.progress_bar, 0, 2)
        grid.addWidget(self.stage_label, 1, 0, 1, 2)
        grid.addWidget(self.eta_label, 1, 2)
        grid.setColumnStretch(2, 1)
        self.eta = EtaEstimator()
        self._clock = QTimer(self)  # elapsed and time left move every second, events or not
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self.running = False
        self._stage = ""
        self.start_button.clicked.connect(self.startRequested.emit)
        self.cancel_button.clicked.connect(self.cancelRequested.emit)

    def set_ready(self, ready: bool, reason: str = "") -> None:
        """Start is enabled when nothing runs and the inputs are valid; ``reason`` says why not."""
        self.start_button.setEnabled(ready and not self.running)
        if not self.running:
            self.stage_label.setText("Ready." if ready else (reason or "Not ready."))

    def set_running(self, running: bool) -> None:
        self.running = running
        if not running:
            self._clock.stop()
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.cancel_button.setText("Cancel")
        if running:
            self._clock.start()
            self.eta.reset()
            self.progress_bar.setFormat("%p%")
            self.progress_bar.setValue(0)
            self.stage_label.setText("Starting…")
            self.eta_label.setText("")

    def set_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.stage_label.setText("Cancelling: stopping at the next check…")

    def set_stage(self, name: str, index: int, total: int) -> None:
        self._stage = f"Step {index} of {total}: {name}" if total else name
        self.eta.start_step()
        self.stage_label.setText(self._stage)
        self._tick()

    def set_progress(self, fraction: float, text: str = "") -> None:
        self.eta.update(fraction)
        self.progress_bar.setValue(int(round(self.eta.fraction * 1000)))
        if text and self._stage:
            self.stage_label.setText(f"{self._stage} — {text}")
        self._tick()

    def _tick(self) -> None:
        remaining = self.eta.remaining()
        text = f"elapsed {format_duration(self.eta.elapsed())}"
        if remaining is not None and remaining > 0:
            text += f" · about {format_duration(remaining)} left"
        self.eta_label.setText(text)

    def set_stopped(self, how: str) -> None:
        """The run ended without a result: the bar keeps where it stopped and says so."""
        self._clock.stop()
        self.progress_bar.setFormat(f"{how} at %p%")

    def set_finished(self, message: str) -> None:
        self.set_running(False)
        self.stage_label.setText(message)
        self.eta_label.setText(f"took {format_duration(self.eta.elapsed())}")
