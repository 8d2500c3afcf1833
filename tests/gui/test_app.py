"""Start-up pieces: resources found from the package, the app's style and icon, the command line."""

from __future__ import annotations

import subprocess
import sys

from cragru_gui.look import ICON_SIZES, app_icon, resource_dir, style_sheet


def test_resources_ship_inside_the_package():
    icons = resource_dir() / "icons"
    assert (icons / "cragru.svg").is_file()
    for size in ICON_SIZES:
        assert (icons / f"cragru-{size}.png").is_file()
    assert "#startButton" in style_sheet()


def test_create_app_sets_name_icon_and_style(qapp):
    from cragru_gui.app import APPLICATION, create_app

    app = create_app()
    assert app is qapp
    assert app.applicationName() == APPLICATION
    assert not app_icon().isNull()
    assert "QProgressBar" in app.styleSheet()


def test_command_line_options():
    from cragru_gui.app import parse_args

    args = parse_args(["--demo"])
    assert args.demo and args.data is None
    out = subprocess.run([sys.executable, "-m", "cragru_gui", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--demo" in out.stdout


def test_log_file_goes_under_the_app_home(monkeypatch, tmp_path):
    from cragru_gui import errors

    monkeypatch.setenv("CRAGRU_HOME", str(tmp_path))
    assert errors.log_dir() == tmp_path / "logs"


def test_the_window_holds_no_training_or_metric_code():
    """Numbers come from core: the GUI package neither imports torch nor calls trainers/evaluators."""
    from pathlib import Path

    import cragru_gui

    forbidden = (
        "import torch",
        "from torch",
        "train_recommender",
        "evaluate_model",
        "evaluate_users",
        "ranking_metrics",
    )
    for path in Path(cragru_gui.__file__).parent.rglob("*.py"):
        text = path.read_text()
        for word in forbidden:
            assert word not in text, f"{path.name} contains {word!r}"
