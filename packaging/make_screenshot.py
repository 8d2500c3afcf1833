"""Make ``docs/screenshot.png``: a short demo run (retraining, few epochs), then a window grab.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_screenshot.py [--epochs 40] [--out PATH]

The verdict view for reviewers (``docs/verdict_view.png``, 1280×720, methods beside retraining):

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_screenshot.py --tab verdict \
        --size 1280x720 --methods retrain,finetune,neggrad --out docs/verdict_view.png

``QT_SCALE_FACTOR=2`` in the environment gives the same picture at 200 % scaling.

History, cache and settings go to a temporary folder, so a person's own are untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
_tmp = tempfile.mkdtemp(prefix="cragru-screenshot-")
os.environ["CRAGRU_HOME"] = os.path.join(_tmp, "home")
os.environ.setdefault("CRAGRU_CACHE_DIR", os.path.join(_tmp, "cache"))


def _wait(app, condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40, help="max epochs of base and retraining")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--size", default="1600x960", help="window size WIDTHxHEIGHT")
    parser.add_argument(
        "--tab",
        default="charts",
        choices=["verdict", "charts", "results", "inspector"],
        help="right-hand tab shown in the picture",
    )
    parser.add_argument("--methods", default="retrain", help="comma-separated methods to run (registry names)")
    parser.add_argument("--evidence", action="store_true", help="verdict: open the first card's evidence")
    args = parser.parse_args(argv)

    from cragru_gui import errors
    from cragru_gui.app import create_app
    from cragru_gui.settings import Settings
    from cragru_gui.window.main_window import MainWindow

    app = create_app([sys.argv[0]])
    errors.show_error = lambda parent, title, message, details=None: print(
        f"error: {title}: {message}", file=sys.stderr
    )
    window = MainWindow(settings=Settings(os.path.join(_tmp, "settings.ini")))
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    window.initial_dataset(demo=True)
    if not _wait(
        app,
        lambda: window.dataset is not None and window.forget_panel.is_valid() and window.method_panel.methods_ready,
        180,
    ):
        print("the demo dataset did not load", file=sys.stderr)
        return 1
    window.method_panel.check_only(*args.methods.split(","))
    window.method_panel.set_epochs(args.epochs)
    window.setup_tabs.setCurrentWidget(window.forget_panel)
    started = time.monotonic()
    window.start_run()
    if not _wait(app, lambda: not window.is_running() and window.run_bar.cancel_button.isEnabled() is False, 900):
        print("the run did not finish", file=sys.stderr)
        return 1
    _wait(app, lambda: False, 0.5)
    if window.result is None:
        print("the run produced no result", file=sys.stderr)
        return 1
    print(f"run finished in {time.monotonic() - started:.1f} s")
    tab = {
        "verdict": window.verdict_view,
        "charts": window.charts,
        "results": window.results_view,
        "inspector": window.inspector,
    }[args.tab]
    window.output_tabs.setCurrentWidget(tab)
    if args.tab == "inspector":
        window.inspector.select_user(window.result.groups["users"]["forget"][0], "forget")
    if args.tab == "verdict" and args.evidence and window.verdict_view.cards:
        window.verdict_view.cards[0].evidence_button.setChecked(True)
    _wait(app, lambda: False, 0.3)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"wrote {out}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
