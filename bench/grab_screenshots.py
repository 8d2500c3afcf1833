"""Screenshots of every tab at 1280×720, 1366×768 and 1920×1080 at 200 % (issue 23), offscreen,
into docs/screenshots/ (not in CI):

    .venv/bin/python bench/grab_screenshots.py [--out docs/screenshots] [--run-id ID --store PATH]

A small demo run (retrain, fine-tuning and CRAGRU, a few epochs) is made once and stored; each
size then starts the window in its own process on a screen of that size (Qt's offscreen
platform with a screen description), opens the stored run from History and grabs the whole
window with each output tab in front (the set-up tabs taking turns on the left). PNGs are
stored with a 256-colour palette to keep them small.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"1280x720": (1280, 720, 1), "1366x768": (1366, 768, 1), "1920x1080-200": (1920, 1080, 2)}


def make_run(store_path: Path) -> str:
    """A small finished demo run in ``store_path``; its id."""
    from dataclasses import replace

    from core.config import ExperimentConfig, MethodChoice
    from core.data.loaders import load_dataset
    from core.experiment import run_experiment
    from core.forget_request import ForgetRequest
    from core.history import RunStore
    from core.models.base import ModelConfig

    config = ExperimentConfig(
        model=replace(ModelConfig(), epochs=4),
        request=ForgetRequest("users", "random", 0.05),
        methods=(MethodChoice("retrain"), MethodChoice("finetune"), MethodChoice("cragru")),
        mia=True,
    )
    result = run_experiment(config, dataset=load_dataset("demo"), store=RunStore(store_path))
    return result.run_id


def grab(size: str, out: Path, store_path: Path, run_id: str) -> list[Path]:
    """In this process (started with the size's screen): every tab, grabbed."""
    from PySide6.QtWidgets import QApplication, QScrollArea, QTabWidget

    from core.history import RunStore
    from cragru_gui.app import create_app
    from cragru_gui.settings import Settings
    from cragru_gui.window.main_window import MainWindow

    app = create_app()
    window = MainWindow(
        settings=Settings(str(Path(tempfile.mkdtemp()) / "s.ini")), store_factory=lambda: RunStore(store_path)
    )
    window.showMaximized()
    deadline = 600
    while not window.method_panel.methods_ready and deadline:
        app.processEvents()
        QApplication.instance().thread().msleep(100)
        deadline -= 1
    window.initial_dataset(demo=True)
    for _ in range(100):
        app.processEvents()
        QApplication.instance().thread().msleep(50)
        if window.dataset is not None:
            break
    window.open_run(run_id)
    written = []
    tabs = window.output_tabs
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        window.setup_tabs.setCurrentIndex(i % window.setup_tabs.count())
        for _ in range(10):
            app.processEvents()
        name = tabs.tabText(i).lower().replace(" ", "-")
        written.append(_save(window, out / f"{size}-{i + 1:02d}-{name}.png"))
        holder = QTabWidget.widget(tabs, i)
        if isinstance(holder, QScrollArea) and holder.verticalScrollBar().maximum() > 0:  # and its lower part
            holder.verticalScrollBar().setValue(holder.verticalScrollBar().maximum())
            for _ in range(10):
                app.processEvents()
            written.append(_save(window, out / f"{size}-{i + 1:02d}-{name}-lower.png"))
    window.presentation.toggle(True)  # presentation mode: full screen, large type, the steps told
    tabs.setCurrentWidget(window.verdict_view)
    for _ in range(20):
        app.processEvents()
    written.append(_save(window, out / f"{size}-99-presentation.png"))
    window.presentation.toggle(False)
    print(json.dumps({"size": size, "window": list(window.size().toTuple()), "files": [str(p) for p in written]}))
    window.close()
    return written


def _save(window, path: Path) -> Path:
    """The window as a PNG of at most 64 colours, undithered (flat UI colours compress well)."""
    from PySide6.QtCore import QBuffer, QIODevice, Qt

    image = window.grab().toImage()
    try:
        import io

        from PIL import Image
    except ImportError:  # Qt alone: its own palette, without dithering
        flags = Qt.ImageConversionFlag.ThresholdDither | Qt.ImageConversionFlag.AvoidDither
        image.convertToFormat(image.Format.Format_Indexed8, flags).save(str(path), "PNG")
        return path
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    picture = Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")
    picture.quantize(64, dither=Image.Dither.NONE).save(path, optimize=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--store", default=None)
    parser.add_argument("--run-id", default=None)
    parser.add_argument("--size", default=None, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.size:
        grab(args.size, out, Path(args.store), args.run_id)
        return 0
    store = Path(args.store or Path(tempfile.mkdtemp()) / "runs.sqlite")
    run_id = args.run_id or make_run(store)
    for size, (width, height, scale) in SIZES.items():
        screen = Path(tempfile.mkdtemp()) / "screen.json"
        screen.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height}]}))
        env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screen}", QT_SCALE_FACTOR=str(scale))
        command = [sys.executable, __file__, "--out", str(out), "--store", str(store), "--run-id", run_id]
        subprocess.run(command + ["--size", size], env=env, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
