"""The engine must import no Qt: checked in a fresh interpreter, over every core module."""

import pkgutil
import subprocess
import sys

import core


def test_importing_all_of_core_pulls_in_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(core.__path__, "core.")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'cragru_gui', 'shiboken6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"core imported Qt modules: {out.stdout.strip()}"
    assert len(modules) > 10
