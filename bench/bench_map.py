"""How fast the map of users draws (issue 25: 943 users in < 1 s, 100,000 in < 3 s).

For each size: seeded synthetic user vectors (``--dim``, default 64) and two top-10 lists per
user (a method's and retraining's, sharing about half their items). Timed, median of
``--repeats``:

* ``layout``: the seeded PCA to 2-D (:func:`core.breakdown.map_layout.layout_2d`) — done
  once per run in the engine, not when the map is shown;
* ``colour``: 1 − Jaccard with retraining per user and its colour band;
* ``draw``: :meth:`cragru_gui.inspector.map_view.MapView.draw` (every scatter item's points set);
* ``paint``: the first full paint of the 900 × 650 map widget (``QWidget.grab``) after it;
* ``shown`` = colour + draw + paint: what a person waits for when the map opens;
* ``lasso``: selecting the points inside a 40-vertex polygon.

Offscreen Qt (software raster). Prints the load average beside every line: on a shared,
loaded machine the figures are upper bounds.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_map.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_map.py --sizes 943,100000,1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

TARGETS = {943: 1.0, 100_000: 3.0}


def synthetic(n: int, dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors[:, 0] += np.repeat(np.arange(4), -(-n // 4))[:n]  # a little structure to find
    retrain = np.argsort(rng.random((n, 40)), axis=1)[:, :10]
    method = np.where(rng.random((n, 10)) < 0.5, retrain, retrain + 40)
    return vectors, method, retrain


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def bench_size(view, n: int, dim: int, repeats: int) -> dict[str, float]:
    from core.breakdown.map_layout import inside_polygon, layout_2d, moved_from_retrain
    from cragru_gui.inspector.map_view import USER_BANDS, band_of_moved

    vectors, method, retrain = synthetic(n, dim)
    out = {}
    out["layout"], xy = timed(lambda: layout_2d(vectors, seed=0), repeats)
    out["colour"], bands = timed(lambda: band_of_moved(moved_from_retrain(method, retrain)), repeats)
    marks = {"forgotten": np.arange(0, n, 20), "similar": np.arange(1, n, 20)}

    def draw_and_paint():
        view.draw(xy[:, 0], xy[:, 1], bands, USER_BANDS, marks)
        view.box.autoRange()
        draw = view.last_draw_s
        start = time.perf_counter()
        view.grab()
        return draw, time.perf_counter() - start

    runs = [draw_and_paint() for _ in range(repeats)]
    out["draw"] = statistics.median(r[0] for r in runs)
    out["paint"] = statistics.median(r[1] for r in runs)
    out["shown"] = out["colour"] + out["draw"] + out["paint"]
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    polygon = np.c_[0.5 * np.cos(angles), 0.5 * np.sin(angles)]
    out["lasso"], _ = timed(lambda: inside_polygon(xy[:, 0], xy[:, 1], polygon), repeats)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="943,100000")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from cragru_gui.inspector.affected_view import PeopleList
    from cragru_gui.inspector.map_view import MapView

    app = QApplication.instance() or QApplication([])
    view = MapView(PeopleList(lambda user: None))
    view.resize(900, 650)
    view.show()
    app.processEvents()
    print(f"# map bench: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Qt offscreen")
    print(f"{'users':>9} {'layout':>8} {'colour':>8} {'draw':>8} {'paint':>8} {'shown':>8} {'lasso':>8}  target  load")
    failed = False
    for n in (int(s) for s in args.sizes.split(",")):
        found = bench_size(view, n, args.dim, args.repeats)
        app.processEvents()
        target = TARGETS.get(n)
        verdict = "" if target is None else ("met" if found["shown"] < target else "MISSED") + f" (<{target:g} s)"
        failed |= verdict.startswith("MISSED")
        load = "/".join(f"{v:.1f}" for v in os.getloadavg())
        cells = " ".join(f"{found[k]:8.3f}" for k in ("layout", "colour", "draw", "paint", "shown", "lasso"))
        print(f"{n:>9,} {cells}  {verdict:<12} load {load}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
