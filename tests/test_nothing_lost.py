"""Issue 16, "work lost": outputs, cache and history are checked before any computation;
a result that cannot be written is printed and saved elsewhere; a damaged history is set
aside; runs left "running" by a dead process are marked interrupted."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from core.cli import main
from core.history import RunStore
from core.history_file import HistoryError
from tests.hostile import corpus, warm

pytestmark = pytest.mark.timeout(30)
warm.engine()  # the lazy imports at collection: a test's time is its own work
QUICK = ["--epochs", "1", "--quiet", "--no-mia", "--methods", "retrain"]


@pytest.fixture
def undo():
    steps: list = []
    yield steps
    for step in reversed(steps):
        step()


def history_file(home) -> Path:
    return home / "home" / "runs.sqlite"


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- outputs checked before any computation -------------------------------------------------
@pytest.mark.parametrize("flag", ["--out", "--report", "--receipt"])
def test_output_into_a_missing_folder_or_a_folder_fails_at_once(capsys, isolated_home, tmp_path, flag):
    for target, words in ((tmp_path / "missing" / "r.json", "does not exist"), (tmp_path, "is a folder")):
        assert main([*QUICK, flag, str(target)]) == 2
        assert words in one_line(capsys.readouterr().err)
    assert RunStore().list() == []  # no run was started


def test_output_into_a_read_only_path_fails_at_once(capsys, isolated_home, tmp_path, undo):
    folder = tmp_path / "ro"
    folder.mkdir()
    corpus.make_read_only(folder, undo)
    assert main([*QUICK, "--out", str(folder / "r.json")]) == 2
    assert "cannot be written" in one_line(capsys.readouterr().err)


def test_a_failed_write_after_the_run_still_prints_and_saves_the_result(capsys, isolated_home, tmp_path, monkeypatch):
    import core.outputs

    monkeypatch.setattr(core.outputs, "check_writable", lambda path, what: path)  # as if it vanished mid-run
    target = tmp_path / "gone" / "result.json"
    assert main([*QUICK, "--out", str(target)]) == 0
    captured = capsys.readouterr()
    assert "retrain" in captured.out and "run " in captured.out  # the summary table
    warning = [line for line in captured.err.splitlines() if "could not be written" in line]
    assert len(warning) == 1 and str(target) in warning[0]
    saved = next((isolated_home / "home" / "unsaved").glob("*-result.json"))
    assert str(saved) in warning[0] and '"models"' in saved.read_text()


def test_an_unwritable_cache_is_a_warning_not_a_failure(capsys, isolated_home, tmp_path, monkeypatch):
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(blocker))
    assert main([*QUICK]) == 0
    err = capsys.readouterr().err
    assert "cache" in err and "cannot be written" in err
    assert RunStore().list()[0].status == "done"


# -- the history file ------------------------------------------------------------------------
@pytest.mark.parametrize("damage", [corpus.random_bytes, corpus.malformed_page, corpus.other_schema])
def test_a_damaged_history_is_set_aside_and_a_new_one_started(capsys, isolated_home, damage):
    path = history_file(isolated_home)
    path.parent.mkdir(parents=True)
    damage(path)
    original = path.read_bytes()
    assert main([*QUICK]) == 0
    err = capsys.readouterr().err
    aside = list(path.parent.glob("runs.sqlite.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == original  # kept, never deleted
    assert str(aside[0]) in err and "set aside" in err
    assert [r.status for r in RunStore().list()] == ["done"]


def test_a_history_path_that_is_a_folder_fails_before_the_run(capsys, isolated_home):
    history_file(isolated_home).mkdir(parents=True)
    assert main([*QUICK]) == 2
    assert "is a folder" in one_line(capsys.readouterr().err)
    assert main(["history"]) == 2
    assert "is a folder" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_history_fails_before_the_run_and_can_still_be_listed(capsys, isolated_home, undo, what):
    path = history_file(isolated_home)
    store = RunStore()
    store.begin("old", {"data": {"path": "demo"}, "methods": [{"name": "retrain"}], "request": {}})
    store.finish_cancelled("old")
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    corpus.make_read_only(path if what == "file" else path.parent, undo)
    assert main([*QUICK]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(path) in line and "--no-history" in line
    assert main(["history"]) == 0
    assert "old" in capsys.readouterr().out
    with pytest.raises(HistoryError):
        RunStore()


def test_runs_left_running_by_a_dead_process_are_marked_interrupted(isolated_home, monkeypatch):
    import core.history

    store = RunStore()
    with monkeypatch.context() as patch:  # a row begun by a process that was then killed
        patch.setattr(core.history, "owner_tag", lambda: f"{socket.gethostname()}:{corpus.dead_pid()}")
        store.begin("killed", {"data": {"path": "demo"}, "methods": [], "request": {}})
    store.begin("alive", {"data": {"path": "demo"}, "methods": [], "request": {}})  # this process: still running
    again = RunStore()
    statuses = {r.run_id: (r.status, r.error) for r in again.list()}
    assert statuses["alive"] == ("running", None)
    assert statuses["killed"][0] == "failed" and statuses["killed"][1].startswith("interrupted")
    assert any("killed" in note for note in again.notes)


def test_an_older_history_without_owners_is_upgraded(isolated_home):
    path = history_file(isolated_home)
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL, "
        "status TEXT NOT NULL, dataset TEXT NOT NULL, methods TEXT NOT NULL, request TEXT NOT NULL, "
        "config TEXT NOT NULL, result TEXT, error TEXT)"
    )
    db.execute("INSERT INTO runs VALUES ('x', 1, NULL, 'running', 'demo', 'retrain', 'users:random', '{}', NULL, NULL)")
    db.commit()
    db.close()
    store = RunStore()
    assert [r.run_id for r in store.list()] == ["x"] and store.notes == []
