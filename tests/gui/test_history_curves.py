"""A run opened from History shows the training curves it showed live."""

from __future__ import annotations

import numpy as np
import pytest

from core.history import RunStore
from core.result import RunResult


def test_opening_a_stored_run_replays_its_curves(make_window, qtbot, store_path, tiny_result, shown_errors):
    result, _dataset, _removed = tiny_result
    assert result.curves.get("retrain/train"), "the runner stores curves"
    store = RunStore(store_path)
    store.begin(result.run_id, result.config, 1.0)
    store.finish_done(result)
    window = make_window(tiny=False)
    window.history_panel.refresh()
    window.history_panel.select_runs([result.run_id])
    window.history_panel.open_button.click()
    assert not shown_errors, shown_errors.calls
    assert window.result is not None and window.result.run_id == result.run_id
    charts = window.charts
    for series, points in result.curves.items():
        for key in ("loss", "valid_ndcg10"):
            expected = [p for p in points if key in p]
            x, y = charts.curve_points(series, key)
            assert list(x) == [p["step"] for p in expected], (series, key)
            assert list(y) == pytest.approx([p[key] for p in expected]), (series, key)
    assert len(charts.curve_points("retrain/train", "loss")[0]) >= 1
    assert not charts.training.panels["loss"].note.item.isVisible()
    # bars as before
    assert set(charts.bars.hit.bars) == set(result.models)


def test_a_run_stored_before_curves_opens_with_empty_curve_charts(qtbot, tiny_result):
    from cragru_gui.charts import MetricsChart

    result, _dataset, _removed = tiny_result
    raw = result.to_dict()
    raw.pop("curves")
    old = RunResult.from_dict(raw)
    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.show_result(result)
    assert chart.training.curves
    chart.show_result(old)  # replaces the previous run's curves
    assert not chart.training.curves and not chart.training.series_data
    assert "recorded" in chart.training.panels["loss"].note.item.textItem.toPlainText()
    x, _y = chart.curve_points("retrain/train", "loss")
    assert np.size(x) == 0
