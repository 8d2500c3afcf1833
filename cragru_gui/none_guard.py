"""A guard against PySide6 6.12.0's reference bug: every call of a Python ``paintEvent`` override
drops one reference to ``None`` (and calls of other overrides drop references to ``True`` and
``False``); on Python 3.11 a count reaches zero minutes into a run and the process aborts
(``Fatal Python error: none_dealloc`` or ``bool_dealloc``, issue 23).

``pyproject.toml`` excludes that release; this guard covers an environment that has it
anyway. At start-up a tiny probe paints a widget a few times: if ``None`` loses references,
a timer keeps handing ``None``, ``True`` and ``False`` back the references they lost, so no
count falls. It costs well under a millisecond per 200 ms, and nothing at all where the bug
is absent (any other release, or Python ≥ 3.12, where ``None`` is immortal).
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QWidget

PROBE_PAINTS = 20
RESERVE = 100_000  # references held from the start: several seconds of the worst drop seen
TOP_UP_MS = 200


class _Probe(QWidget):
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name); the override is the point
        return None


def paint_drops_none(paints: int = PROBE_PAINTS) -> bool:
    """Whether painting a widget with a Python ``paintEvent`` loses references to ``None``."""
    if sys.version_info >= (3, 12):
        return False  # None is immortal: its count cannot reach zero
    probe = _Probe()
    probe.resize(8, 8)
    pixmap = QPixmap(8, 8)
    probe.render(pixmap)  # the first paint may create caches holding None
    before = sys.getrefcount(None)
    for _ in range(paints):
        probe.render(pixmap)
    dropped = before - sys.getrefcount(None)
    probe.deleteLater()
    return dropped >= paints // 2


GUARDED = (None, True, False)  # the singletons whose deallocation aborts the interpreter


class NoneGuard(QObject):
    """Gives ``None``, ``True`` and ``False`` back the references they lost, every 200 ms, up to
    the level seen at start (plus a reserve given once). The references are added with
    ``Py_IncRef`` and never taken back: a list holding them would hand them back at exit, and
    the interpreter would abort while shutting down."""

    def __init__(self, parent: QObject | None = None, reserve: int = RESERVE) -> None:
        super().__init__(parent)
        self.levels = [sys.getrefcount(value) for value in GUARDED]
        for value in GUARDED:
            _incref(value, reserve)
        self.added = 0
        self._timer = QTimer(self)
        self._timer.setInterval(TOP_UP_MS)
        self._timer.timeout.connect(self.top_up)
        self._timer.start()

    def top_up(self) -> int:
        """Give back what was lost since the last call; returns how many references were added."""
        added = 0
        for level, value in zip(self.levels, GUARDED):
            missing = level - sys.getrefcount(value)
            if missing > 0:
                _incref(value, missing)
                added += missing
        self.added += added
        return added


def _incref(value, times: int) -> None:
    """``times`` references to ``value`` that are never released (the ones PySide6 lost)."""
    target = ctypes.py_object(value)
    incref = ctypes.pythonapi.Py_IncRef
    for _ in range(times):
        incref(target)


def install(parent: QObject) -> NoneGuard | None:
    """A :class:`NoneGuard` owned by ``parent`` where this PySide6 has the bug, else None."""
    return NoneGuard(parent) if paint_drops_none() else None
