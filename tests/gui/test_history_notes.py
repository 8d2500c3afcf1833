"""Issue 16 in the window: what opening the run history did (a damaged file set aside, runs
of a dead process marked interrupted) is told once at start, in the log, the status bar and
the History tab; the window logs to core.logs' folder, the command line's."""

from __future__ import annotations

import logging
import socket

from tests.hostile import corpus


def test_a_damaged_history_is_told_at_start(make_window, store_path):
    corpus.random_bytes(store_path)
    window = make_window(load_demo=False, tiny=False)
    aside = list(store_path.parent.glob(f"{store_path.name}.damaged-*"))
    assert len(aside) == 1
    log = window.log_view.toPlainText()
    assert "WARNING: run history:" in log and str(aside[0]) in log
    assert str(aside[0]) in window.statusBar().currentMessage()
    assert str(aside[0]) in window.history_panel.hint.text()
    window.history_panel.refresh()  # told once: the new file has nothing more to say
    assert window.log_view.toPlainText().count("run history:") == log.count("run history:")


def test_runs_marked_interrupted_are_told_at_start(make_window, store_path, monkeypatch):
    import core.history
    from core.history import RunStore

    with monkeypatch.context() as patch:  # a row begun by a process that was then killed
        patch.setattr(core.history, "owner_tag", lambda: f"{socket.gethostname()}:{corpus.dead_pid()}")
        RunStore(store_path).begin("killed-run", {"data": {"path": "demo"}, "methods": [], "request": {}})
    window = make_window(load_demo=False, tiny=False)
    log = window.log_view.toPlainText()
    assert "interrupted" in log and "killed-run" in log
    assert "killed-run" in window.statusBar().currentMessage()


def test_the_window_logs_where_core_logs_says(monkeypatch, tmp_path):
    import core.logs
    from cragru_gui import errors

    monkeypatch.setenv("CRAGRU_HOME", str(tmp_path))
    monkeypatch.setattr(errors, "_log_path", None)
    monkeypatch.setattr(core.logs, "_handlers", {})
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = errors.setup_logging()
        assert errors.log_dir is core.logs.log_dir
        assert path == core.logs.log_dir() / "cragru-studio.log" == tmp_path / "logs" / "cragru-studio.log"
        assert errors.setup_logging() == path  # once
        logging.getLogger("cragru_gui").warning("a note for the log")
        for handler in root.handlers:
            handler.flush()
        assert "a note for the log" in path.read_text()
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
            handler.close()
