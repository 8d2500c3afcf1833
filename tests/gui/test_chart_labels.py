"""Issue 23: the cost chart's words sat one row off their bars. Each label must lie on its own
bar's row: its vertical centre inside its bar, nearer its bar than any other."""

from __future__ import annotations

import pytest

from core.events import ModelResultEvent
from cragru_gui.charts import MetricsChart
from cragru_gui.charts.plotting import FIXED, PALETTE

TIMES = {  # model -> (set-up, request) seconds, as a full demo reports them
    "base": (0.0, 4.2),
    "retrain": (0.0, 3.9),
    "cragru": (0.6, 0.05),
    "sisa": (1.1, 0.9),
    "dual_memory": (0.11, 1.28),
    "e2urec": (0.0, 2.4),
    "unlearnrec": (0.3, 0.4),
    "cragru_slow": (24.88, 0.001),  # the longest bar: its words must still fit inside the plot
}


@pytest.mark.parametrize("size", [(640, 420), (1280, 720), (1900, 1000)])
def test_each_cost_label_sits_on_its_own_bar(qtbot, size):
    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.resize(*size)
    chart.show()
    qtbot.waitExposed(chart)
    for model, (prep, seconds) in TIMES.items():
        groups = {"retain": {"hit@10": 0.2, "ndcg@10": 0.1}}
        extras = {"time_s": seconds, "prep_s": prep, "forgotten_recall@10": 0.05}
        chart.add_model_result(ModelResultEvent(model=model, groups=groups, extras=extras))
    chart.draw_now()
    qtbot.wait(30)
    time = chart.bars.time
    bars = {name: time.bars[name].sceneBoundingRect() for name in TIMES}
    view = time.plot.getViewBox().sceneBoundingRect()
    assert list(chart.bars.order) == list(TIMES)
    for name in TIMES:
        label = time.labels[name].sceneBoundingRect()
        centre = label.center().y()
        own = bars[name]
        assert own.top() <= centre <= own.bottom(), (
            f"{name}: label at y={centre:.0f}, its bar {own.top():.0f}-{own.bottom():.0f}"
        )
        nearest = min(bars, key=lambda other: abs(bars[other].center().y() - centre))
        assert nearest == name, f"{name}'s label is nearest {nearest}'s bar"
        assert label.left() >= own.right() - 1, f"{name}: label overlaps its bar"
        assert label.right() <= view.right() + 1, f"{name}: label cut off at the plot's edge"


def test_every_method_of_a_run_gets_its_own_colour():
    from cragru_gui.charts.plotting import ModelColours

    colours = ModelColours()
    methods = ["cragru", "sisa", "receraser", "dual_memory", "e2urec", "finetune", "neggrad", "unlearnrec"]
    seen = [colours(m) for m in ["base", "retrain", *methods]]
    assert len(set(seen)) == len(seen)
    assert set(PALETTE).isdisjoint(FIXED.values())
