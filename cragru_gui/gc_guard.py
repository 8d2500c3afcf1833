"""Python's cyclic garbage collection on the GUI thread only.

The collector runs on whichever thread happens to allocate when a threshold is crossed. The
engine allocates heavily on the task runner's worker threads, so a collection there may free
a cycle holding a Qt wrapper and delete its C++ object off the GUI thread, which Qt does not
allow: a random crash, or a hang with the GUI thread blocked in C++ where no Python timeout
can reach it. The usual remedy for PyQt/PySide programs with Python threads: switch automatic
collection off and run it from a timer on the GUI thread, with the same thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

CHECK_MS = 250


class GuiThreadCollector(QObject):
    """Collects, on the GUI thread, whichever generations crossed their thresholds since the
    last check (what the automatic collector would have done, a quarter second later)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.collections = 0
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect the oldest generation whose count passed its threshold; the generation collected, or -1."""
        counts = gc.get_count()
        generation = max((g for g in range(3) if counts[g] > self.thresholds[g]), default=-1)
        if generation >= 0:
            gc.collect(generation)
            self.collections += 1
        return generation

    def stop(self) -> None:
        """Hand collection back to the interpreter (the application is ending)."""
        self._timer.stop()
        gc.enable()


def install() -> GuiThreadCollector | None:
    """The application's collector, created on first call (needs a running QCoreApplication)."""
    app = QCoreApplication.instance()
    if app is None:
        return None
    collector = app.findChild(GuiThreadCollector)
    if collector is None:
        collector = GuiThreadCollector(app)
        app.aboutToQuit.connect(uninstall)
    return collector


def uninstall() -> None:
    """Collect once more here, then give collection back to the interpreter (tests, quitting)."""
    app = QCoreApplication.instance()
    collector = app.findChild(GuiThreadCollector) if app is not None else None
    if collector is not None:
        collector.stop()
        collector.setParent(None)
        collector.deleteLater()
    gc.collect()
