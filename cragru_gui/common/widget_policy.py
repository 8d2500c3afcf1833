"""Two rules every input of the window follows (issue 23):

* a number box or list ignores the mouse wheel unless it has the keyboard focus, so scrolling
  a long form scrolls the form (History budget 10 → 9, unnoticed, before);
* every interactive widget has an accessible name for screen readers: Qt's own (a button's
  words, a label's buddy), else the form label beside it, its tooltip's first sentence, its
  placeholder or, last, its object name in words.

:func:`apply` walks a widget tree once (the window calls it when built and when the method
list and a dataset arrive); :func:`interactive` and :func:`accessible_name` are what the test
that walks the whole window uses.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QAbstractItemView,
    QAbstractSlider,
    QTextEdit,
    QPlainTextEdit,
    QTabBar,
)
WHEEL_GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


def _is_part(widget: QWidget) -> bool:
    """A piece Qt builds inside another widget (a spin box's line edit, a combo box's popup
    list, a table's headers and corner button, a tab bar's scroll arrows, scroll bars): it is
    named and reached through its owner."""
    if widget.objectName().startswith("qt_") or isinstance(widget, (QScrollBar, QHeaderView)):
        return True
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractSpinBox, QComboBox, QTabBar, QLineEdit)):  # QLineEdit: its clear button
            return True
        if type(parent).__name__ in ("QComboBoxPrivateContainer",):
            return True
        parent = parent.parentWidget()
    return False


def interactive(root: QWidget) -> list[QWidget]:
    """Every widget under ``root`` a person can operate (Qt's inner parts left out)."""
    found = [w for w in root.findChildren(QWidget) if isinstance(w, INTERACTIVE) and not _is_part(w)]
    return found


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader announces."""
    interface = QAccessible.queryAccessibleInterface(widget)
    name = interface.text(QAccessible.Text.Name) if interface is not None else ""
    return (name or widget.accessibleName() or "").strip()


def _plain(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text).replace("&nbsp;", " ").replace("&", "")
    return " ".join(text.split()).rstrip(":").strip()


def _first_sentence(text: str, limit: int = 80) -> str:
    first = re.split(r"(?<=[.;:!?])\s|\n", _plain(text) if "<" in text else " ".join(text.split()), maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _buddy_label(widget: QWidget) -> str:
    parent = widget.parentWidget()
    if parent is None:
        return ""
    for label in parent.findChildren(QLabel):
        if label.buddy() is widget and label.text():
            return _plain(label.text())
    return ""


def _words(object_name: str) -> str:
    name = re.sub(r"^(param|method|methodCheck)_", "", object_name)
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ")
    return name.strip().lower()


def name_for(widget: QWidget) -> str:
    """A name for a widget that has none: label, tooltip, placeholder, object name."""
    for candidate in (
        _buddy_label(widget),
        _first_sentence(widget.toolTip()) if widget.toolTip() else "",
        widget.placeholderText() if isinstance(widget, QLineEdit) else "",
        _words(widget.objectName()),
    ):
        if candidate:
            return candidate
    return ""


class _WheelGuard(QObject):
    """Drops wheel events on an unfocused number box or list; the event goes on to the form
    that holds it, which scrolls."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # not accepted: Qt passes it to the parent (the scroll area)
            return True
        return False


_GUARD = _WheelGuard()


def guard_wheel(widget: QWidget) -> None:
    """The wheel changes ``widget`` only once it has the focus (a click or Tab gives it)."""
    if widget.property("wheelGuarded"):
        return
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel no longer gives it the focus
    widget.installEventFilter(_GUARD)
    widget.setProperty("wheelGuarded", True)


def apply(root: QWidget) -> int:
    """Both rules over ``root``'s widgets; returns how many names it had to supply."""
    supplied = 0
    for widget in interactive(root):
        if isinstance(widget, WHEEL_GUARDED):
            guard_wheel(widget)
        if not accessible_name(widget):
            name = name_for(widget)
            if name:
                widget.setAccessibleName(name)
                supplied += 1
    return supplied
