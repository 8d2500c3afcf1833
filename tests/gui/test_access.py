"""Issue 23, input and access: every interactive widget of the window has an accessible name,
and a number box ignores the mouse wheel until it has the focus."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from cragru_gui.common import widget_policy


def test_every_interactive_widget_of_the_window_has_an_accessible_name(make_window):
    window = make_window(tiny=False)
    widgets = widget_policy.interactive(window)
    assert len(widgets) > 200  # the whole window was walked: every method's form included
    unnamed = [
        f"{type(w).__name__} {w.objectName() or '(no object name)'} in {w.parentWidget().objectName()}"
        for w in widgets
        if not widget_policy.accessible_name(w)
    ]
    assert not unnamed, f"{len(unnamed)} of {len(widgets)} have no accessible name: {unnamed[:10]}"
    # a form's field is announced by its label, not its long help text
    epochs = window.method_panel.model_form.editors["epochs"]
    assert widget_policy.accessible_name(epochs) == "Max epochs"


def _wheel(widget, up: bool = True) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(QPoint(int(centre.x()), int(centre.y())))),
        QPoint(0, 0),
        QPoint(0, 120 if up else -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_number_boxes_ignore_the_wheel_unless_focused(make_window, qtbot):
    window = make_window(tiny=False)
    window.setup_tabs.setCurrentWidget(window.method_panel)
    window.activateWindow()
    spin = window.method_panel.model_form.editors["epochs"]
    before = spin.value()
    window.run_bar.start_button.setFocus()
    _wheel(spin)
    assert spin.value() == before  # the form scrolls instead; the value is untouched
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    _wheel(spin)
    assert spin.value() == before + spin.singleStep()
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel does not hand it the focus
