"""Make ``docs/who_was_affected.png`` and ``docs/affected_map.png`` (issue 25), offscreen.

One ML-100K run (the README table's command, in-process, so its top-10 lists are kept for the
map; cached models make it quick), then the window's *Who was affected* tab with a real
Inspector behind it: the small multiples for one method with one bar's people listed, and the
users' map coloured by the same method with a lasso selection.

    QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 .venv/bin/python bench/grab_affected.py \
        --data /work/shared/data/ml-100k --forget users:edge:0.05 --show neggrad
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def _settle(app, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--forget", default="users:edge:0.05")
    parser.add_argument("--methods", default="retrain,finetune,neggrad,sisa,ids_only")
    parser.add_argument("--show", default="neggrad", help="the method drawn")
    parser.add_argument("--bar", default="age:50+", help="ATTRIBUTE:GROUP whose people are listed")
    parser.add_argument("--size", default="1400x860")
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args(argv)

    from core.cli_args import build_parser, config_from_args
    from core.data.loaders import load_dataset
    from core.experiment import run_experiment

    run_args = build_parser().parse_args(
        ["--data", args.data, "--forget", args.forget, "--methods", args.methods, "--no-history", "--quiet"]
    )
    config = config_from_args(run_args)
    dataset = load_dataset(args.data)
    result = run_experiment(config, dataset=dataset)

    from cragru_gui.app import create_app
    from cragru_gui.inspector.affected_view import AffectedTab
    from cragru_gui.inspector.user_inspector import UserInspector

    app = create_app()
    inspector = UserInspector()
    inspector.set_run(result, dataset)
    tab = AffectedTab(inspector, lambda: None)
    width, height = (int(v) for v in args.size.split("x"))
    tab.resize(width, height)
    tab.show()
    tab.refresh()
    view = tab.by_group
    view.model_combo.setCurrentIndex(view.model_combo.findData(args.show))
    attribute, group = args.bar.split(":", 1)
    ab = result.breakdown.attributes[attribute]
    view._group_clicked(attribute, ab.groups.index(group))
    _settle(app)
    out = Path(args.out)
    tab.grab().save(str(out / "who_was_affected.png"))
    print("sentence:", view.sentence.text())

    tab.pages.setCurrentWidget(tab.map)
    tab.map.model_combo.setCurrentIndex(tab.map.model_combo.findData(args.show))
    _settle(app)
    x, y = tab.map.x, tab.map.y  # a lasso round the densest fifth of the map's width, left of centre
    cx, cy, r = float(np.median(x)) - 0.25, float(np.median(y)), 0.12
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    tab.map._lasso(np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)]))
    _settle(app)
    tab.grab().save(str(out / "affected_map.png"))
    print("map:", tab.map.caption.text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
