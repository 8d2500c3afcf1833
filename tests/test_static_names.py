"""Every name the code uses is defined: pyflakes over the engine, the GUI, the benches and the tests.

The benchmark scripts have no unit tests of their own (they need real data and minutes),
so a refactor that drops an import only shows when someone runs them; this catches it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pyflakes_api = pytest.importorskip("pyflakes.api")
from pyflakes import messages  # noqa: E402
from pyflakes.reporter import Reporter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("core", "cragru_gui", "bench", "tests", "packaging")
FATAL = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport)


class _Collect(Reporter):
    def __init__(self) -> None:
        super().__init__(None, None)
        self.found: list[str] = []

    def flake(self, message) -> None:
        if isinstance(message, FATAL):
            self.found.append(str(message))

    def syntaxError(self, filename, msg, lineno, offset, text) -> None:  # noqa: N802 (pyflakes' API)
        self.found.append(f"{filename}:{lineno}: syntax error: {msg}")

    def unexpectedError(self, filename, msg) -> None:  # noqa: N802
        self.found.append(f"{filename}: {msg}")


def test_no_undefined_names():
    files = [p for folder in FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 50
    reporter = _Collect()
    for path in files:
        pyflakes_api.checkPath(str(path), reporter)
    assert reporter.found == []


def test_the_check_sees_an_undefined_name(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from dataclasses import field\n\ndef f(x):\n    return replace(x, a=1)\n")
    reporter = _Collect()
    pyflakes_api.checkPath(str(bad), reporter)
    assert len(reporter.found) == 1 and "replace" in reporter.found[0]
