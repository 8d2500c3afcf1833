"""Opening the run-history SQLite file so that no fault in it ends in a traceback.

A file that is not a database, is malformed or holds another schema is *damaged*: it is
renamed beside itself (``runs.sqlite.damaged-<time>``, never deleted) and a new one is
started, with a note naming both. A file that cannot be written (read-only file or
folder, a folder where the file should be) is a :class:`HistoryError` at once, before
any computation, unless only reading is asked for: then it is opened read-only.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path

from core.errors import CragruError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    started_at  REAL NOT NULL,
    finished_at REAL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
    dataset     TEXT NOT NULL,
    methods     TEXT NOT NULL,
    request     TEXT NOT NULL,
    config      TEXT NOT NULL,
    result      TEXT,
    error       TEXT,
    owner       TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE TABLE IF NOT EXISTS partial_models (
    run_id TEXT NOT NULL,
    name   TEXT NOT NULL,
    report TEXT NOT NULL,
    topk   TEXT,
    PRIMARY KEY (run_id, name)
);
"""
COLUMNS = {
    "run_id",
    "started_at",
    "finished_at",
    "status",
    "dataset",
    "methods",
    "request",
    "config",
    "result",
    "error",
}
"""Columns every history file must have (``owner`` is added to older files)."""

_DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}
_HINT = "run with --no-history, or set CRAGRU_HOME to a writable folder"


class HistoryError(CragruError):
    """The run history cannot be used (not writable, not a file): names the file and what to do."""


class _Damaged(Exception):
    """The file is not a run history this app can use (its reason is the message)."""


def owner_tag() -> str:
    """``host:pid`` of this process: who is running a ``running`` row."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """False only when ``owner`` is a process of this host that no longer exists."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine, or an older row: cannot tell
    try:
        import psutil

        return psutil.pid_exists(int(pid))
    except ImportError:
        if os.name == "nt":  # os.kill(pid, 0) would terminate it there
            return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def connect(path: Path, read_only: bool = False) -> tuple[sqlite3.Connection, list[str], str | None]:
    """A connection to a checked history file (see the module doc), notes for the user (a
    damaged file set aside), and the read-only URI to open it by when it cannot be written."""
    if path.exists() and not path.is_file():
        raise HistoryError(f"the run history {path} is a folder, not a file; {_HINT}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryError(f"cannot create the folder of the run history {path.parent}: {exc.strerror}; {_HINT}")
    try:
        return _open_checked(path), [], None
    except _Damaged as exc:
        if read_only and path.exists():
            raise HistoryError(f"the run history {path} is damaged ({exc}); the next run sets it aside") from None
        return _start_anew(path, str(exc))
    except sqlite3.Error as exc:
        if read_only and path.is_file():
            uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
            return sqlite3.connect(uri, uri=True), [], uri
        raise HistoryError(f"cannot write the run history {path} ({exc}); {_HINT}") from None


def _start_anew(path: Path, reason: str) -> tuple[sqlite3.Connection, list[str], None]:
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        for suffix in ("-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                extra.replace(aside.with_name(aside.name + suffix))
        path.replace(aside)
    except OSError as exc:
        raise HistoryError(
            f"the run history {path} is damaged ({reason}) and cannot be set aside: {exc.strerror}; {_HINT}"
        ) from None
    note = f"the run history {path} was damaged ({reason}); it was set aside as {aside} and a new one started"
    try:
        return _open_checked(path), [note], None
    except (_Damaged, sqlite3.Error) as exc:
        raise HistoryError(f"cannot start a new run history {path} ({exc}); {_HINT}") from None


def _open_checked(path: Path) -> sqlite3.Connection:
    """Open, create the schema, check it and the pages, and prove it can be written."""
    db = sqlite3.connect(path, timeout=10)
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]  # reads only: a damaged file stays as it was
        if problems != ["ok"]:
            raise _Damaged(f"malformed: {problems[0]}")
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        if columns and not COLUMNS <= columns:
            raise _Damaged(f"another schema: its table 'runs' lacks {', '.join(sorted(COLUMNS - columns))}")
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        if columns and "owner" not in columns:
            db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
        db.execute("BEGIN IMMEDIATE")  # a write, rolled back: the read-only error now, not after the run
        db.execute("CREATE TABLE write_probe (x)")
        db.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        db.close()
        if getattr(exc, "sqlite_errorname", "") in _DAMAGED or "malformed" in str(exc):
            raise _Damaged(str(exc)) from None
        raise
    except _Damaged:
        db.close()
        raise
    return db
