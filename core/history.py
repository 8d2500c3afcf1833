"""Run history in SQLite: every run's configuration, status, results and timings.

Each state change is one transaction, so a crash leaves either the previous state or
the next, never half a result. A run starts as ``running`` and ends ``done``,
``cancelled`` or ``failed``; a ``running`` row left by a crash is shown as interrupted.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import CragruError
from core.paths import history_path
from core.result import RunResult

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
    error       TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
"""


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    started_at: float
    finished_at: float | None
    status: str
    dataset: str
    methods: str
    request: str
    error: str | None


class RunStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else history_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _write(self, sql: str, args: tuple) -> None:
        db = self._connect()
        try:
            with db:  # one transaction
                db.execute(sql, args)
        finally:
            db.close()

    # -- writes ---------------------------------------------------------------------------
    def begin(self, run_id: str, config: dict, started_at: float | None = None) -> None:
        methods = ",".join(m["name"] for m in config.get("methods", []))
        req = config.get("request", {})
        request = f"{req.get('kind', '?')}:{req.get('selector', '?')}"
        self._write(
            "INSERT INTO runs (run_id, started_at, status, dataset, methods, request, config) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?)",
            (run_id, started_at or time.time(), config.get("data", {}).get("path", "?"), methods, request,
             json.dumps(config)),
        )

    def finish_done(self, result: RunResult) -> None:
        self._write(
            "UPDATE runs SET status='done', finished_at=?, result=? WHERE run_id=?",
            (result.finished_at or time.time(), result.to_json(), result.run_id),
        )

    def finish_cancelled(self, run_id: str) -> None:
        self._write("UPDATE runs SET status='cancelled', finished_at=? WHERE run_id=?", (time.time(), run_id))

    def finish_failed(self, run_id: str, error: str) -> None:
        self._write(
            "UPDATE runs SET status='failed', finished_at=?, error=? WHERE run_id=?", (time.time(), error, run_id)
        )

    def delete(self, run_id: str) -> None:
        self._write("DELETE FROM runs WHERE run_id=?", (run_id,))

    # -- reads ----------------------------------------------------------------------------
    def list(self, limit: int = 200) -> list[RunSummary]:
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT run_id, started_at, finished_at, status, dataset, methods, request, error "
                "FROM runs ORDER BY started_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        finally:
            db.close()
        return [RunSummary(*row) for row in rows]

    def load(self, run_id: str) -> RunResult:
        db = self._connect()
        try:
            row = db.execute("SELECT status, result FROM runs WHERE run_id=?", (run_id,)).fetchone()
        finally:
            db.close()
        if row is None:
            raise CragruError(f"no stored run with ID {run_id!r}")
        status, payload = row
        if status != "done" or payload is None:
            raise CragruError(f"run {run_id} has no results (status: {status})")
        return RunResult.from_dict(json.loads(payload))
