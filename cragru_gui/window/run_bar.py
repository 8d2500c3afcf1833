"""Run bar: Start, Cancel, the progress bar with the current stage and an ETA."""

from __future__ import annotations

import statistics

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QProgressBar, QPushButton, QWidget

from core.events import StepRate
from core.reporting.numbers import format_seconds


def format_duration(seconds: float) -> str:
    """Elapsed time and time left, in whole seconds (the catalogue's one duration format)."""
    return format_seconds(seconds, clock=True)


class EtaEstimator(StepRate):
    """The run's elapsed time and time left: the engine's own rule (:class:`core.events.StepRate`:
    the current step's measured rate, re-estimated on every tick so it never freezes)."""

    def reset(self) -> None:
        self.run_start, self.fraction = self._clock(), 0.0
        self.start_step()


class SmoothedTimeLeft:
    """The time left as shown: the raw estimate counts down between ticks and is blended in
    slowly; "estimating…" until enough of the run is seen and the raw estimates agree (issue 23:
    the raw figure swung from 2 min to 1 h 19 min within one run)."""

    ALPHA = 0.25  # weight of a new estimate
    SETTLE_S = 8.0  # seen at least this long
    AGREE = 0.35  # raw estimates within ±35 % of the shown value
    WINDOW = 5  # the median of the last five raw estimates is what gets blended: one wild one is ignored

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.value: float | None = None
        self.at: float | None = None
        self.raw: list[float] = []
        self.seen_s = 0.0

    def update(self, raw: float | None, now: float) -> float | None:
        """Feed the raw estimate at ``now`` (seconds since the run started); returns the value to
        show, or None (estimating)."""
        self.seen_s = now
        if raw is None:
            return self.shown()
        if raw <= 0:
            self.value, self.at = 0.0, now
            return 0.0
        self.raw = (self.raw + [raw])[-self.WINDOW :]
        robust = statistics.median_low(self.raw)
        if self.value is None:
            self.value = robust
        else:
            predicted = max(self.value - (now - (self.at or now)), 0.0)
            self.value = predicted + self.ALPHA * (robust - predicted)
        self.at = now
        return self.shown()

    def stable(self) -> bool:
        """Seen long enough, and all but one of the recent raw estimates agree with the value."""
        if self.value is None or self.seen_s < self.SETTLE_S or len(self.raw) < 3:
            return False
        agree = sum(abs(r - self.value) <= self.AGREE * max(self.value, 1.0) for r in self.raw)
        return agree >= len(self.raw) - 1

    def shown(self) -> float | None:
        return self.value if self.stable() else None


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
        self.cancel_button.setToolTip("Stop the run within about a second; nothing half-done is stored (Shift+Esc)")
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
        self.time_left = SmoothedTimeLeft()
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
            self.time_left.reset()
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
        elapsed = self.eta.elapsed()
        shown = self.time_left.update(self.eta.remaining(), elapsed)
        text = f"elapsed {format_duration(elapsed)}"
        if shown is None:
            text += " · estimating time left…"
        elif shown > 0:
            text += f" · about {format_duration(shown)} left"
        self.eta_label.setText(text)

    def set_stopped(self, how: str) -> None:
        """The run ended without a result: the bar keeps where it stopped and says so."""
        self._clock.stop()
        self.progress_bar.setFormat(f"{how} at %p%")

    def set_finished(self, message: str) -> None:
        self.set_running(False)
        self.stage_label.setText(message)
        self.eta_label.setText(f"took {format_duration(self.eta.elapsed())}")
