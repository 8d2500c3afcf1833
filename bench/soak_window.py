"""Soak test of the live charts (issue 23; not in CI): the Charts tab fed like a run for a long
time, offscreen, watching the references to ``None`` (PySide6 6.12.0 dropped one per Python
paint call and the window aborted with ``none_dealloc`` 10-20 minutes into a run).

    QT_QPA_PLATFORM=offscreen nice -n 19 .venv/bin/python bench/soak_window.py --minutes 15

Every 50 ms a curve point arrives and every plot repaints; every 10 s a model result; every
2 min the charts reset as for a new run. Once a minute it prints the paints so far, the
references to ``None`` (they must not fall), resident memory and the machine load. Exit 0:
it ran the whole time and ``None`` never lost references.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import PySide6  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def resident_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--guard", action="store_true", help="install the None guard (cragru_gui.none_guard)")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    import pyqtgraph as pg

    from core.events import MetricEvent, ModelResultEvent
    from cragru_gui.charts import MetricsChart

    guard = None
    if args.guard:
        from cragru_gui import none_guard

        guard = none_guard.install(app)
    paints = {"n": 0}
    original = pg.GraphicsView.paintEvent

    def counted(self, event):
        paints["n"] += 1
        return original(self, event)

    pg.GraphicsView.paintEvent = counted
    chart = MetricsChart()
    chart.resize(1280, 720)
    chart.show()
    views = [plot.viewport() for plot in chart.plots().values()]
    rng = np.random.default_rng(0)
    state = {"step": 0, "started": time.monotonic(), "low": sys.getrefcount(None), "run": 0}
    start_refs = sys.getrefcount(None)
    print(
        f"PySide6 {PySide6.__version__}, Python {sys.version.split()[0]}, {args.minutes:g} min, "
        f"guard {'on' if guard else 'off'}; None refs at start {start_refs}",
        flush=True,
    )

    def tick() -> None:
        state["step"] += 1
        step = state["step"]
        for model in ("base", "retrain"):
            loss = 1.0 / (1 + step % 400) + rng.random() * 0.01
            chart.add_metric(MetricEvent(model=model, stage="train", step=step % 400, values={"loss": loss}))
        if step % 200 == 0:  # every 10 s: a model finished
            groups = {g: {"hit@10": rng.random() * 0.3, "ndcg@10": rng.random() * 0.1} for g in ("retain", "forget")}
            extras = {"time_s": rng.random() * 5, "prep_s": rng.random(), "forgotten_recall@10": rng.random() * 0.1}
            chart.add_model_result(ModelResultEvent(model=f"method {step // 200 % 6}", groups=groups, extras=extras))
        if step % 2400 == 0:  # every 2 min: a new run
            chart.reset()
            state["run"] += 1
        for view in views:
            view.repaint()
        state["low"] = min(state["low"], sys.getrefcount(None))

    def report() -> None:
        minutes = (time.monotonic() - state["started"]) / 60
        print(
            f"{minutes:5.1f} min  paints {paints['n']:>8,}  None refs {sys.getrefcount(None)} (lowest {state['low']})"
            f"  RSS {resident_mb():.0f} MB  runs {state['run']}  load {os.getloadavg()[0]:.2f}",
            flush=True,
        )

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(50)
    minute = QTimer()
    minute.timeout.connect(report)
    minute.start(60_000)
    QTimer.singleShot(int(args.minutes * 60_000), app.quit)
    app.exec()
    report()
    if guard is not None:  # the guard's reserve is spent first, then it holds None at its start level
        level = guard.levels[0]
        ok = state["low"] > level // 2
        print(
            f"{'OK' if ok else 'FAIL'}: {paints['n']:,} paints in {args.minutes:g} min with the guard; None's "
            f"references stayed at or above {state['low']} (guard level {level}, {guard.added:,} given back)"
        )
        return 0 if ok else 1
    lost = start_refs - state["low"]
    ok = lost <= 0
    print(
        f"{'OK' if ok else 'FAIL'}: {paints['n']:,} paints in {args.minutes:g} min; None lost {max(lost, 0)} references"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
