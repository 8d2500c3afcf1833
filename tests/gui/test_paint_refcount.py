"""Issue 23: PySide6 6.12.0 dropped a reference to ``None`` on every Python ``paintEvent``
override, and the window aborted (``none_dealloc``) minutes into a run. The live charts are
repainted thousands of times here and ``None`` must not lose a single reference."""

from __future__ import annotations

import sys

import pyqtgraph as pg
import pytest

from cragru_gui.charts import MetricsChart

REPAINTS = int(__import__("os").environ.get("CRAGRU_REPAINTS", "5000"))


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12: nothing to count")
def test_live_charts_repaint_5000_times_without_losing_none(qtbot, monkeypatch):
    painted = {"n": 0}
    original = pg.GraphicsView.paintEvent

    def counted(self, event):
        painted["n"] += 1
        return original(self, event)

    monkeypatch.setattr(pg.GraphicsView, "paintEvent", counted)
    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.resize(640, 420)  # every plot at about its minimum size (and inside the window, so it paints)
    chart.show()
    qtbot.waitExposed(chart)
    qtbot.wait(20)
    views = [plot.viewport() for plot in chart.plots().values()]  # a view paints through its viewport
    chart.training.add("base", "train", 0, {"loss": 1.0, "valid_ndcg10": 0.01})
    views[0].repaint()
    before = sys.getrefcount(None)
    step = 1
    while painted["n"] < REPAINTS and step < 4 * REPAINTS:  # a view that never paints fails below
        if step % 100 == 0:
            chart.reset()  # a new run: curves stay short, so each paint stays cheap
        chart.training.add("base", "train", step % 100, {"loss": 1.0 / (step + 1), "valid_ndcg10": 0.01})
        for view in views:
            view.repaint()  # now, through Qt's C++ paint path into the Python override
        step += 1
    after = sys.getrefcount(None)
    assert painted["n"] >= REPAINTS
    assert after >= before, f"None lost {before - after} references over {painted['n']} paints"


def test_the_pinned_pyside6_is_not_the_broken_release():
    import PySide6

    assert not PySide6.__version__.startswith("6.12.0"), "pyproject.toml excludes PySide6 6.12.0 (issue 23)"
