"""Application start-up: Qt application, style, icon, logging, exception hook, window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from PySide6.QtWidgets import QApplication  # noqa: E402  (PySide6 before pyqtgraph)

from cragru_gui import errors  # noqa: E402
from cragru_gui.look import app_icon, style_sheet  # noqa: E402

ORGANISATION = "cragru"
APPLICATION = "CRAGRU Studio"
DESKTOP_ID = "io.cragru.Studio"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="cragru", description="CRAGRU Studio: recommendation unlearning, made visible."
    )
    parser.add_argument("--demo", action="store_true", help="open on the built-in demo dataset")
    parser.add_argument("--data", default=None, help="open this dataset folder or file")
    parser.add_argument("--reset-settings", action="store_true", help="forget window layout and last parameters")
    return parser.parse_args(argv)


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or sys.argv[:1]))
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    # No application display name: the platform appends it to every window title, and the title
    # read "CRAGRU Studio — demo — CRAGRU Studio" (issue 23). The window names itself.
    app.setDesktopFileName(DESKTOP_ID)
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())
    if not hasattr(app, "none_guard"):
        from cragru_gui import none_guard

        app.none_guard = none_guard.install(app)  # PySide6 6.12.0's paint bug, where present
    return app


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    log_path = errors.setup_logging()
    logging.getLogger("cragru_gui").info("starting CRAGRU Studio (log: %s)", log_path)
    app = create_app([sys.argv[0]])
    splash = _splash(app)
    _probe("splash")
    from cragru_gui.settings import Settings
    from cragru_gui.window.main_window import MainWindow

    settings = Settings()
    if args.reset_settings:
        settings.clear()
    window = MainWindow(settings=settings)
    errors.install_excepthook(lambda: window)
    window.show()
    if splash is not None:
        splash.finish(window)
    window.initial_dataset(demo=args.demo, path=args.data)
    if os.environ.get(PROBE_ENV):
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: (_probe("window"), app.quit()))  # first turn of the event loop
    return app.exec()


PROBE_ENV = "CRAGRU_STARTUP_PROBE"
"""Set (bench/bench_demo.py): print ``splash=`` and ``window=`` seconds since the process
started, and quit once the window is usable (the event loop's first turn)."""


def process_age() -> float:
    """Seconds since this process started (Linux: /proc; elsewhere: since this module loaded)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            started = int(stat.read().rsplit(")", 1)[1].split()[19]) / ticks
            return float(uptime.read().split()[0]) - started
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _LOADED


_LOADED = time.monotonic()


def _probe(what: str) -> None:
    if os.environ.get(PROBE_ENV):
        print(f"{what}={process_age():.3f}", flush=True)


def _splash(app: QApplication):
    """A start-up picture while torch and the engine import (several seconds on a slow machine)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QSplashScreen

    pixmap = app_icon().pixmap(256, 256)
    if pixmap.isNull():
        return None
    splash = QSplashScreen(pixmap)
    splash.showMessage(
        "Starting CRAGRU Studio…", Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter, Qt.GlobalColor.white
    )
    splash.show()
    splash.raise_()
    _until_exposed(app, splash)  # issue 23: seen in 1 of 4 starts when the first paint came before the map
    splash.repaint()  # drawn now, before torch and the engine are imported (several seconds)
    app.processEvents()
    return splash


def _until_exposed(app: QApplication, widget, limit_s: float = 0.5) -> bool:
    """Let the window system map ``widget`` (at most ``limit_s``): a splash painted before its
    window is mapped is never seen, and the heavy imports that follow leave no event loop to
    paint it later."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        app.processEvents()
        handle = widget.windowHandle()
        if handle is not None and handle.isExposed():
            return True
        time.sleep(0.005)
    return False
