"""Small modules with one job (STYLE.md): no module over 400 statements, no function over 60.

Counted as lines on which a statement starts, so the formatter's line wrapping (ruff format,
120 columns) does not change the figure; the sizes are a guide, not a reason to split.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
SOURCES = sorted(p for package in ("core", "cragru_gui") for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_function_sizes(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _statements(tree) <= MAX_MODULE_LINES, f"{path.name}: {_statements(tree)} statements"
    long = [
        f"{node.name} ({_statements(node)} statements, line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _statements(node) > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: {', '.join(long)}"


def _statements(node: ast.AST) -> int:
    """Lines on which a statement starts (a logical line, however it is wrapped)."""
    return len({child.lineno for child in ast.walk(node) if isinstance(child, ast.stmt)})


def test_the_size_check_sees_the_sources():
    assert len(SOURCES) > 50
