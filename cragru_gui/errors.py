"""Readable error dialogs, yes/no questions, the log file and the exception hook.

``show_error`` and ``ask`` are looked up through this module at call time
(``errors.show_error(...)``), so tests replace them with ``monkeypatch.setattr``.
A :class:`~core.errors.CragruError` is the user's to fix: its message is shown without a
traceback. Anything else is a bug: it is logged with its traceback and shown with the
traceback under "Show Details…" — never a silent exit.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.errors import CragruError
from core.logs import log_dir, log_to_file  # noqa: F401 - log_dir: the window's Help names it

log = logging.getLogger("cragru_gui")


# -- dialogs (monkeypatchable) -------------------------------------------------------------
def show_error(parent: QWidget | None, title: str, message: str, details: str | None = None) -> None:
    """A modal error box; ``details`` goes in the expandable "Show Details…" section."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(message)
    if details:
        box.setDetailedText(details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


def ask(parent: QWidget | None, title: str, question: str) -> bool:
    """A yes/no question; True for yes."""
    answer = QMessageBox.question(
        parent,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def user_message(exc: BaseException) -> str:
    """What a person reads: the message of a user error, a short sentence for a bug."""
    if isinstance(exc, CragruError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, (OSError, MemoryError)):
        return f"{type(exc).__name__}: {exc}"
    return f"An unexpected error occurred: {type(exc).__name__}: {exc}"


def format_details(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def report_exception(parent: QWidget | None, exc: BaseException, title: str = "Error") -> None:
    """Show ``exc``: user errors without traceback, anything else logged and with details."""
    if isinstance(exc, CragruError):
        log.info("%s: %s", title, exc)
        show_error(parent, title, user_message(exc), None)
        return
    details = format_details(exc)
    log.error("%s: %s\n%s", title, exc, details)
    path = log_file()
    suffix = f"\n\nThe details were written to {path}." if path else ""
    show_error(parent, title, user_message(exc) + suffix, details)


# -- log file -----------------------------------------------------------------------------
_log_path: Path | None = None


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to ``<log dir>/cragru-studio.log`` (the folder of :func:`core.logs.log_dir`, the
    command line's too); a read-only folder means no log file, never a failure."""
    global _log_path
    if _log_path is None:
        _log_path = log_to_file("cragru-studio")
        root = logging.getLogger()
        if _log_path is not None and root.level > level:
            root.setLevel(level)
    return _log_path


def log_file() -> Path | None:
    return _log_path


# -- exception hook -------------------------------------------------------------------------
class _Relay(QObject):
    """Carries an exception from any thread to the GUI thread."""

    raised = Signal(object)


_relay: _Relay | None = None
_showing = False


def install_excepthook(parent_getter: Callable[[], QWidget | None] = lambda: None) -> None:
    """Route uncaught exceptions (GUI thread and worker threads) to the log and a dialog."""
    global _relay
    app = QApplication.instance()
    _relay = _Relay(app)

    def show(exc: BaseException) -> None:
        global _showing
        if _showing:  # an error inside the error dialog: log only
            return
        _showing = True
        try:
            report_exception(parent_getter(), exc, "Unexpected error")
        finally:
            _showing = False

    _relay.raised.connect(show, Qt.ConnectionType.QueuedConnection)

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        if exc is None:
            exc = exc_type()
        if exc.__traceback__ is None and tb is not None:
            exc = exc.with_traceback(tb)
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        if _relay is not None:
            _relay.raised.emit(exc)

    def thread_hook(args) -> None:
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
