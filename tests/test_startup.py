"""Something on screen within 2 s: the splash is drawn before torch and the engine load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_splash_module_imports_no_torch():
    code = "import sys, cragru_gui.app; print('torch' in sys.modules, 'core.experiment' in sys.modules)"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_startup_probe_reports_splash_before_window():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CRAGRU_STARTUP_PROBE="1")
    out = subprocess.run(
        [sys.executable, "-m", "cragru_gui", "--demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    marks = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 0 < float(marks["splash"]) < float(marks["window"])
