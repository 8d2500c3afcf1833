"""`make run`'s first check: missing libraries of Qt's xcb plugin → packages, install or one message."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "qt_system_deps", Path(__file__).parents[1] / "packaging" / "qt_system_deps.py"
)
deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(deps)

LDD = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-cursor.so.0 => not found
\tlibQt6Gui.so.6 => /x/libQt6Gui.so.6 (0x00007f)
\tlibxcb-icccm.so.4 => not found
"""


def _fake_ldd(monkeypatch, outputs):
    calls = []

    def run(args, **kwargs):
        calls.append(args)
        out = outputs.pop(0) if args[0] == "ldd" else ""
        return subprocess.CompletedProcess(args, 0, stdout=out, stderr="")

    monkeypatch.setattr(deps.subprocess, "run", run)
    monkeypatch.setattr(deps, "plugin_path", lambda: Path("/x/libqxcb.so"))
    monkeypatch.setattr(deps.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    return calls


def test_missing_libraries_become_one_message_with_packages_and_command(monkeypatch, capsys):
    _fake_ldd(monkeypatch, [LDD])
    monkeypatch.setattr(deps.os, "geteuid", lambda: 1000)
    assert deps.main([]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in err
    assert "apt-get install -y libxcb-cursor0 libxcb-icccm4" in err


def test_as_root_it_installs_the_packages(monkeypatch):
    calls = _fake_ldd(monkeypatch, [LDD, ""])
    monkeypatch.setattr(deps.os, "geteuid", lambda: 0)
    monkeypatch.setattr(deps.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert deps.main([]) == 0
    install = [c for c in calls if c[0] == "apt-get"]
    assert install and install[0][-2:] == ["libxcb-cursor0", "libxcb-icccm4"]


def test_nothing_missing_or_another_platform_passes(monkeypatch):
    _fake_ldd(monkeypatch, [""])
    assert deps.main([]) == 0
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert deps.main([]) == 0
