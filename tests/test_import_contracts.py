"""The Qt-free rule and the layers of ``core`` as import-linter contracts (pyproject ``[tool.importlinter]``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    return subprocess.run([exe, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_core_imports_no_qt_and_is_layered_by_contract():
    out = _lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "core is layered" in out.stdout and "BROKEN" not in out.stdout
    assert "the window is layered" in out.stdout
    assert "Contracts: 3 kept, 0 broken." in out.stdout


def test_the_contract_sees_an_import_inside_a_function(tmp_path):
    """Proof the check can fail: a lazy Qt import in a throw-away ``core`` is reported."""
    package = tmp_path / "src" / "core"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sneaky.py").write_text(
        textwrap.dedent("""
        def later():
            import PySide6.QtWidgets  # noqa: F401
    """)
    )
    (tmp_path / ".importlinter").write_text(
        textwrap.dedent("""
        [importlinter]
        root_package = core
        include_external_packages = True

        [importlinter:contract:no-qt]
        name = core imports no Qt
        type = forbidden
        source_modules = core
        forbidden_modules = PySide6
    """)
    )
    out = _lint_imports(tmp_path, tmp_path / "src")
    assert out.returncode != 0 and "BROKEN" in out.stdout, out.stdout + out.stderr


def test_the_layers_contract_sees_a_lower_layer_reaching_up(tmp_path):
    """Proof the layers check can fail: in a throw-away ``core`` the data layer imports the
    experiment, through a lazy import and one module in between."""
    package = tmp_path / "src" / "core"
    for name in ("experiment", "methods", "data"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "methods" / "step.py").write_text("import core.experiment\n")
    (package / "data" / "loader.py").write_text("def later():\n    import core.methods.step  # noqa: F401\n")
    (tmp_path / ".importlinter").write_text(
        textwrap.dedent("""
        [importlinter]
        root_package = core

        [importlinter:contract:layers]
        name = core is layered
        type = layers
        containers = core
        layers =
            experiment
            methods
            data
    """)
    )
    out = _lint_imports(tmp_path, tmp_path / "src")
    assert out.returncode != 0 and "BROKEN" in out.stdout, out.stdout + out.stderr
    assert "core.data is not allowed to import core.methods" in out.stdout
