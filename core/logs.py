"""The log file the command line writes: full tracebacks go there, one line goes to the user.

Same folder as the window's log (``$CRAGRU_HOME/logs`` when set, else the platform's user
log folder); a folder that cannot be written means no log file, never a failure.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

from core.paths import APP_NAME

_handlers: dict[str, Path] = {}


class SafeFormatter(logging.Formatter):
    """Every log line redacted (:func:`core.redact.redact`) and with non-printable characters
    escaped; one record's message is cut to :data:`core.safe_text.LINE_LIMIT` characters, so
    a 20 MB field never lands in the log and a key never does."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        from core.redact import redact
        from core.safe_text import safe_line

        return safe_line(redact(super().formatMessage(record)))

    def format(self, record: logging.LogRecord) -> str:
        from core.redact import redact
        from core.safe_text import safe_block

        return safe_block(redact(super().format(record)))


def log_dir() -> Path:
    home = os.environ.get("CRAGRU_HOME")
    return Path(home) / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_to_file(name: str) -> Path | None:
    """Send the root logger to ``<log dir>/<name>.log`` (once per name); None when it cannot be written."""
    path = log_dir() / f"{name}.log"
    if _handlers.get(name) == path:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    _handlers[name] = path
    return path
