"""Presentation mode for demos: full screen, large type (``presentation.qss``), and a strip
over the views telling the run step by step — the request, training and unlearning, the
verdict — with the current step lit and each step's tab brought forward as the run moves."""

from __future__ import annotations

import html
from typing import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QWidget

from cragru_gui.look import resource_path

STEPS = (("request", "The request"), ("training", "Training and unlearning"), ("verdict", "The verdict"))


def presentation_sheet() -> str:
    try:
        return resource_path("presentation.qss").read_text(encoding="utf-8")
    except OSError:
        return "QWidget { font-size: 16pt; }"


class Presentation:
    """Turns the window's presentation mode on and off and tells the run's steps.

    ``top`` is the top-level widget made full screen; ``bring_forward`` maps a step's name to
    what brings its view forward while presenting. ``action`` (F11, checkable) and
    ``leave_action`` (Esc, enabled only while presenting) go in the window's View menu."""

    def __init__(self, top: QWidget, bring_forward: dict[str, Callable[[], None]]) -> None:
        self.top = top
        self.bring_forward = bring_forward
        self.active = False
        self.current = "request"
        self.detail = ""
        self._was_maximised = False
        self.strip = QLabel()
        self.strip.setObjectName("presentationSteps")
        self.strip.setWordWrap(True)
        self.strip.hide()
        self.action = QAction("&Presentation mode", top)
        self.action.triggered.connect(lambda on: self.toggle(on))
        self.action.setShortcut(QKeySequence("F11"))
        self.action.setCheckable(True)
        self.leave_action = QAction("&Leave presentation mode", top)
        self.leave_action.triggered.connect(lambda: self.toggle(False))
        self.leave_action.setShortcut(QKeySequence("Esc"))
        self.leave_action.setEnabled(False)  # only while presenting: Esc means nothing else
        self._draw()

    def toggle(self, on: bool | None = None) -> None:
        """Full screen and large type (``on`` None: the opposite of now)."""
        on = (not self.active) if on is None else bool(on)
        if on == self.active:
            return
        self.active = on
        if on:
            self._was_maximised = self.top.isMaximized()
            self.top.setStyleSheet(presentation_sheet())
            self.top.showFullScreen()
        else:
            self.top.setStyleSheet("")
            self.top.showMaximized() if self._was_maximised else self.top.showNormal()
        self.strip.setVisible(on)
        self.leave_action.setEnabled(on)
        if self.action.isChecked() != on:
            self.action.setChecked(on)
        self._draw()

    def step(self, name: str, detail: str = "") -> None:
        """The run reached step ``name``; in presentation mode its view comes forward."""
        self.current, self.detail = name, detail
        if self.active and name in self.bring_forward:
            self.bring_forward[name]()
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
