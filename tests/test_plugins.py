"""Plug-in methods: the 30-line method of docs/ADDING_A_METHOD.md, copied out of the page
into a folder outside the repository, runs through ``cragru-run --plugin`` (its own
process) with its curve recorded, lists with ``--list-methods``, and a broken plug-in is
refused in one line naming the file and the line. The window's part is in
tests/gui/test_plugin_window.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ADDING_A_METHOD.md"


def plugin_source() -> str:
    """The first Python block of the page, exactly as written there."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/ADDING_A_METHOD.md has no python block"
    return blocks[0]


@pytest.fixture
def plugin_file(tmp_path) -> Path:
    folder = tmp_path / "elsewhere"  # outside the repository
    folder.mkdir()
    path = folder / "shrink_users.py"
    path.write_text(plugin_source(), encoding="utf-8")
    assert ROOT not in path.resolve().parents
    return path


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CRAGRU_HOME=str(home / "home"), CRAGRU_CACHE_DIR=str(home / "cache"))
    env.pop("CRAGRU_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args], cwd=home, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_page_method_is_about_thirty_lines():
    code = [line for line in plugin_source().splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(code) <= 40


def test_a_plugin_file_runs_through_the_cli_with_its_curve(plugin_file, tmp_path):
    out = tmp_path / "result.json"
    argv = ["--plugin", str(plugin_file), "--data", "demo", "--methods", "retrain,shrink_users"]
    done = _cli(*argv, "--epochs", "2", "--no-mia", "--quiet", "--no-history", "--out", str(out), home=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert set(result["models"]) >= {"base", "retrain", "shrink_users"}
    assert result["models"]["shrink_users"]["label"] == "Shrink forgotten users (plug-in example)"
    points = result["curves"]["shrink_users/shrink"]
    norms = [p["forgotten_norm"] for p in points]
    assert [p["step"] for p in points] == [1, 2, 3, 4, 5]
    assert all(b == pytest.approx(a * 0.5, rel=1e-4) for a, b in zip(norms, norms[1:]))  # factor 0.5 each step


def test_list_methods_shows_the_plugin(plugin_file, tmp_path):
    done = _cli("--plugin", str(plugin_file), "--list-methods", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "shrink_users: Shrink forgotten users (plug-in example)" in done.stdout
    assert "steps (int, default 5)" in done.stdout


def test_a_broken_plugin_is_one_line_naming_file_and_line(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import math\n\nraise RuntimeError('no model here')\n", encoding="utf-8")
    done = _cli("--plugin", str(bad), "--data", "demo", home=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.py" in lines[0] and "line 3" in lines[0] and "no model here" in lines[0]
    missing = _cli("--plugin", str(tmp_path / "nowhere.py"), "--list-methods", home=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_a_file_loaded_in_process_registers_once_and_travels_to_workers(plugin_file, monkeypatch):
    from core.methods import plugins
    from core.methods.registry import METHODS, get_method

    monkeypatch.setenv(plugins.PLUGINS_ENV, "")  # setenv, not delenv: an absent variable set later would stay set
    monkeypatch.setattr(plugins, "_loaded_files", {})
    try:
        assert plugins.load_plugin_file(plugin_file) == ["shrink_users"]
        assert plugins.load_plugin_file(plugin_file) == []  # once only
        assert get_method("shrink_users").curves[0].key == "forgotten_norm"
        assert str(plugin_file.resolve()) in os.environ[plugins.PLUGINS_ENV]  # Ray workers load it from here
    finally:
        METHODS.pop("shrink_users", None)


def test_an_installed_entry_point_registers_through_the_same_registry(monkeypatch):
    from core.methods import plugins
    from core.methods.registry import METHODS, MethodSpec, UnlearnOutcome

    spec = MethodSpec("ep_method", "From an entry point", "test", (), lambda ctx, p, s: UnlearnOutcome(ctx.base_model))

    class Point:
        name, value = "ep_method", "somewhere:make"

        def load(self):
            return lambda: spec

    class Broken(Point):
        name = "broken"

        def load(self):
            raise ImportError("missing dependency")

    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: [Point(), Broken()])
    monkeypatch.setenv(plugins.PLUGINS_ENV, "")  # no plug-in file left remembered by another test
    monkeypatch.setattr(plugins, "_entry_points_done", False)
    monkeypatch.setattr(plugins, "problems", [])
    try:
        plugins.load_installed_plugins()
        assert METHODS["ep_method"] is spec
        assert plugins.problems == ["method plug-in 'broken' (somewhere:make) not loaded: missing dependency"]
    finally:
        METHODS.pop("ep_method", None)
