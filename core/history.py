"""Run history in SQLite: every run's configuration, status, results and timings.

Each state change is one transaction, so a crash leaves either the previous state or
the next, never half a result. A run starts as ``running`` and ends ``done``,
``cancelled`` or ``failed``. Each ``running`` row names its process (``owner``); one whose
process has died (``kill -9``, a crash) is marked failed as *interrupted* when the history
is next opened. Faults in the file itself are handled by :mod:`core.history_file`; a
write that fails during a run (the file locked, the disk full, the file replaced) is a
warning, never a failure of the run.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from core.errors import CragruError
from core.history_file import connect, owner_alive, owner_tag
from core.paths import history_path
from core.result import RunResult, model_json

BUSY_TIMEOUT_S = 10.0
"""How long a write waits for another process's lock before it gives up (a warning)."""


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
    has_result: bool = False  # a run that ended early may still hold the models that finished


class RunStore:
    """The history file, checked when opened (:func:`core.history_file.connect`): a damaged
    file is set aside (``notes`` say so), an unwritable one raises ``HistoryError`` at once;
    ``read_only`` (listing runs) also accepts a file it cannot write."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else history_path()
        db, self.notes, self._uri = connect(self.path, read_only)
        self.problems: list[str] = []
        self.on_problem: Callable[[str], None] | None = None
        """Called with each new problem's warning (the command line prints it)."""
        try:
            if self._uri is None:
                self.notes += _mark_interrupted(db)
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        if self._uri is not None:
            return sqlite3.connect(self._uri, uri=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _write(self, sql: str, args: tuple, *, during_run: bool = True) -> None:
        self._transaction([(sql, [args])], during_run=during_run)

    def _transaction(self, steps: list[tuple[str, list[tuple]]], *, during_run: bool = True) -> None:
        """One transaction of ``(sql, rows)`` steps, every text redacted (no key or URL password
        is stored). During a run a failure (locked, disk full, the file replaced) costs the
        history row, never the run: it becomes a warning (:attr:`problems`, :attr:`on_problem`,
        the log)."""
        from core.redact import redact

        steps = [
            (sql, [tuple(redact(a) if isinstance(a, str) else a for a in args) for args in rows]) for sql, rows in steps
        ]
        try:
            db = self._connect()
            try:
                with db:  # one transaction
                    for sql, rows in steps:
                        db.executemany(sql, rows)
            finally:
                db.close()
        except (sqlite3.Error, OSError) as exc:
            if not during_run:
                raise
            self._problem(exc)

    def _problem(self, exc: Exception) -> None:
        text = (
            f"the history {self.path} could not be written ({type(exc).__name__}: {str(exc)[:200]}); "
            "the run goes on and its results are kept, only its history row is missing or incomplete"
        )
        if text in self.problems:
            return
        self.problems.append(text)
        logging.getLogger("cragru.history").warning(text)
        if self.on_problem is not None:
            self.on_problem(text)

    # -- writes ---------------------------------------------------------------------------
    def begin(self, run_id: str, config: dict, started_at: float | None = None) -> None:
        methods = ",".join(m["name"] for m in config.get("methods", []))
        req = config.get("request", {})
        request = f"{req.get('kind', '?')}:{req.get('selector', '?')}"
        self._write(
            "INSERT INTO runs (run_id, started_at, status, dataset, methods, request, config, owner) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
            (
                run_id,
                started_at or time.time(),
                config.get("data", {}).get("path", "?"),
                methods,
                request,
                json.dumps(config),
                owner_tag(),
            ),
        )

    def finish_done(self, result: RunResult) -> None:
        done = (result.finished_at or time.time(), _stored_json(result), result.run_id)
        self._transaction(
            [
                ("UPDATE runs SET status='done', finished_at=?, result=? WHERE run_id=?", [done]),
                ("DELETE FROM partial_models WHERE run_id=?", [(result.run_id,)]),  # the whole result holds them
            ]
        )

    def save_partial(self, result: RunResult, names: list[str] | None = None, include_topk: bool = True) -> None:
        """The models finished so far, kept while the run goes on: a crash or a kill then
        loses at most the step that was running, and the history can open what finished.
        Each call writes the run's frame (no models) and only the models ``names`` (default:
        all), one row each, so storing model k costs one model, not k."""
        frame = _stored_json(replace(result, models={}, topk={}, partial=True), include_topk=False)
        rows = [
            (
                result.run_id,
                name,
                model_json(result.models[name]),
                json.dumps(result.topk[name].tolist()) if include_topk and name in result.topk else None,
            )
            for name in (names if names is not None else list(result.models))
        ]
        self._transaction(
            [
                ("UPDATE runs SET result=? WHERE run_id=?", [(frame, result.run_id)]),
                ("INSERT OR REPLACE INTO partial_models VALUES (?, ?, ?, ?)", rows),
            ]
        )

    def finish_cancelled(self, run_id: str) -> None:
        self._write("UPDATE runs SET status='cancelled', finished_at=? WHERE run_id=?", (time.time(), run_id))

    def finish_failed(self, run_id: str, error: str) -> None:
        self._write(
            "UPDATE runs SET status='failed', finished_at=?, error=? WHERE run_id=?", (time.time(), error, run_id)
        )

    def delete(self, run_id: str) -> None:
        self._transaction(
            [
                ("DELETE FROM runs WHERE run_id=?", [(run_id,)]),
                ("DELETE FROM partial_models WHERE run_id=?", [(run_id,)]),
            ],
            during_run=False,
        )

    # -- reads ----------------------------------------------------------------------------
    def list(self, limit: int = 200) -> list[RunSummary]:
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT run_id, started_at, finished_at, status, dataset, methods, request, error, "
                "result IS NOT NULL FROM runs ORDER BY started_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        finally:
            db.close()
        return [RunSummary(*row[:-1], has_result=bool(row[-1])) for row in rows]

    def load(self, run_id: str) -> RunResult:
        db = self._connect()
        try:
            row = db.execute("SELECT status, result FROM runs WHERE run_id=?", (run_id,)).fetchone()
        finally:
            db.close()
        if row is None:
            raise CragruError(f"no stored run with ID {run_id!r}")
        status, payload = row
        if payload is None:
            raise CragruError(f"run {run_id} has no results (status: {status})")
        raw = json.loads(payload)
        if status != "done":  # what finished before it ended: the frame and one row per model
            for name, report, topk in self._partial_models(run_id):
                raw.setdefault("models", {})[name] = json.loads(report)
                if topk is not None:
                    raw.setdefault("topk", {})[name] = json.loads(topk)
        result = RunResult.from_dict(raw)
        result.partial = result.partial or status != "done"
        return result

    def _partial_models(self, run_id: str) -> list[tuple]:
        db = self._connect()
        try:
            return db.execute(
                "SELECT name, report, topk FROM partial_models WHERE run_id=? ORDER BY rowid", (run_id,)
            ).fetchall()
        except sqlite3.OperationalError:  # a file from before partial runs, opened read-only
            return []
        finally:
            db.close()


def _stored_json(result: RunResult, include_topk: bool = True) -> str:
    """The result as the history keeps it: the same JSON as :meth:`RunResult.to_json`, without
    its indentation (only ever read back by ``json.loads``). Indented JSON goes through Python's
    pure-Python encoder; this through the C one: 0.07 s instead of 0.22 s of CPU for a demo result."""
    return json.dumps(result.to_dict(include_topk), allow_nan=False)


def _mark_interrupted(db: sqlite3.Connection) -> list[str]:
    """Rows left ``running`` by a process of this machine that no longer exists become
    ``failed`` with the error "interrupted"; one note says how many."""
    rows = db.execute("SELECT run_id, owner FROM runs WHERE status='running'").fetchall()
    dead = [run_id for run_id, owner in rows if owner and not owner_alive(owner)]
    if not dead:
        return []
    with db:
        db.executemany(
            "UPDATE runs SET status='failed', finished_at=?, error=? WHERE run_id=? AND status='running'",
            [(time.time(), "interrupted: the process running it ended without finishing", r) for r in dead],
        )
    return [f"{len(dead)} run(s) left 'running' by a process that ended were marked interrupted: {', '.join(dead)}"]
