"""Presentation mode for demos: full screen, large type (``presentation.qss``), and a strip
over the views telling the run step by step — the request, training and unlearning, the
verdict — with the current step lit and each step's tab brought forward as the run moves."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel

from cragru_gui.look import resource_path

STEPS = (("request", "The request"), ("training", "Training and unlearning"), ("verdict", "The verdict"))


def presentation_sheet() -> str:
    try:
        return resource_path("presentation.qss").read_text(encoding="utf-8")
    except OSError:
        return "QWidget { font-size: 16pt; }"


class Presentation:
    """Turns the window's presentation mode on and off and tells the run's steps."""

    def __init__(self, window) -> None:
        self.w = window
        self.active = False
        self.current = "request"
        self.detail = ""
        self._was_maximised = False
        self.strip = QLabel()
        self.strip.setObjectName("presentationSteps")
        self.strip.setWordWrap(True)
        self.strip.hide()
        self._draw()

    def toggle(self, on: bool | None = None) -> None:
        """Full screen and large type (``on`` None: the opposite of now)."""
        on = (not self.active) if on is None else bool(on)
        if on == self.active:
            return
        self.active = on
        if on:
            self._was_maximised = self.w.isMaximized()
            self.w.setStyleSheet(presentation_sheet())
            self.w.showFullScreen()
        else:
            self.w.setStyleSheet("")
            self.w.showMaximized() if self._was_maximised else self.w.showNormal()
        self.strip.setVisible(on)
        leave = getattr(self.w, "leave_presentation_action", None)
        if leave is not None:
            leave.setEnabled(on)
        action = getattr(self.w, "presentation_action", None)
        if action is not None and action.isChecked() != on:
            action.setChecked(on)
        self._draw()

    def step(self, name: str, detail: str = "") -> None:
        """The run reached step ``name``; in presentation mode its view comes forward."""
        self.current, self.detail = name, detail
        if self.active and name == "request":
            self.w.setup_tabs.setCurrentWidget(self.w.forget_panel)
        elif self.active and name == "training":
            self.w.output_tabs.setCurrentWidget(self.w.charts)
        self._draw()

    def set_detail(self, detail: str) -> None:
        """What the training step is doing now (the run bar's stage)."""
        if self.current == "training":
            self.detail = detail
            self._draw()

    def text(self) -> str:
        return self.strip.text()

    def _draw(self) -> None:
        names = [name for name, _ in STEPS]
        here = names.index(self.current) if self.current in names else 0
        parts = []
        for i, (name, words) in enumerate(STEPS):
            label = f"{i + 1} · {words}"
            if name == self.current and self.detail:
                label += f": {html.escape(self.detail)}"
            colour = "#13243a" if i == here else ("#5d6878" if i < here else "#9aa3af")
            weight = "bold" if i == here else "normal"
            parts.append(f"<span style='color:{colour}; font-weight:{weight}'>{label}</span>")
        self.strip.setText("  →  ".join(parts))
