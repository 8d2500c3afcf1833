"""The Sweep tab: the grid built from the forms, a tiny sweep to its plots (and skipped on a
rerun), cancel, a short request stream, and whole request numbers on the stream's axes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.config import DataConfig
from core.split import SplitConfig

FAST = {"epochs": 2}  # base model epochs: seconds per cell on the demo data


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One model cache for the module: the base models trained by one test serve the next."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def tab(qtbot, tmp_path, monkeypatch, shown_errors, cache):
    """A Sweep tab on the demo data (no window needed), its own history and results folder."""
    from PySide6.QtWidgets import QWidget

    from core.history import RunStore
    from cragru_gui.sweep.sweep_tab import SweepTab
    from cragru_gui.worker import TaskRunner

    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(cache))
    holder = QWidget()
    qtbot.addWidget(holder)
    tasks = TaskRunner(holder)
    workspace = SimpleNamespace(state=SimpleNamespace(data_config=DataConfig(path="demo"), split_config=SplitConfig()))
    made = SweepTab(tasks, workspace, lambda: RunStore(tmp_path / "runs.sqlite"), parent=holder)
    qtbot.waitUntil(lambda: "finetune" in made.setup.entries, timeout=120_000)
    setup = made.setup
    setup.check_only("retrain", "finetune")
    setup.entries["finetune"].form.set_values({"epochs": 1})
    setup.model_form.set_values(FAST)
    setup.run_form.set_values({"device": "cpu", "mia": False})
    setup.kind_combo.setCurrentIndex(setup.kind_combo.findData("users:random"))
    setup.sizes_edit.setText("0.05, 0.1")
    setup.seeds_spin.setValue(2)
    setup.executor_combo.setCurrentIndex(setup.executor_combo.findData("serial"))
    setup.out_edit.setText(str(tmp_path / "out"))
    yield made
    tasks.shutdown(30)


def test_the_grid_built_from_the_forms_is_the_expected_one(tab):
    from core.errors import ConfigError
    from core.methods.registry import get_method
    from core.models.base import ModelConfig
    from core.sweeps.grid import grid_from_dict
    from cragru_gui.sweep.sweep_setup import parse_sizes

    finetune = {s.name: s.default for s in get_method("finetune").params} | {"epochs": 1}
    expected = grid_from_dict(
        {
            "label": "users:random sizes 0.05, 0.1",
            "requests": ["users:random:{0.05,0.1}"],
            "seeds": 2,
            "device": "cpu",
            "mia": False,
            "data": {"path": "demo"},
            "models": [{"name": "bpr", "epochs": 2, "dim": ModelConfig().dim}],
            "methods": [{"name": "retrain"}, {"name": "finetune", "params": finetune}],
        }
    )
    grid = tab.build_grid()
    assert len(grid.cells) == 2 * 2 * 2
    assert [(c.cell_id, c.config) for c in grid.cells] == [(c.cell_id, c.config) for c in expected.cells]
    stream = tab._stream_config(0.005)
    assert [m.name for m in stream.methods] == ["retrain", "finetune"]
    assert (stream.request.fraction, stream.split.seed, stream.model.epochs) == (0.005, 0, 2)
    assert parse_sizes("0.01 0.02, 0.01") == [0.01, 0.02]
    for bad in ("", "0.1, x", "1.5"):
        with pytest.raises(ConfigError):
            parse_sizes(bad)
    setup = tab.setup
    setup.executor_combo.setCurrentIndex(setup.executor_combo.findData("ray"))
    setup.address_edit.setText(" ray://head:10001 ")
    assert setup.options() == {"executor": "ray", "address": "ray://head:10001", "out": Path(setup.out_edit.text())}
    setup.check_only()
    tab.start()
    assert "tick at least one method" in tab.status.text() and not tab.tasks.is_running("sweep")


def _run(qtbot, tab, timeout=120_000):
    with qtbot.waitSignal(tab.tasks.finished, timeout=timeout):
        tab.start_button.click()


def test_a_tiny_sweep_fills_the_table_and_the_plots_and_a_rerun_skips(qtbot, tab, tmp_path):
    from core.history import RunStore

    _run(qtbot, tab)
    assert tab.table.statuses() == ["done"] * 8
    assert all(tab.table.item(i, tab.table.columnCount() - 1).text() for i in range(8))  # key figures shown
    counts = tab.plots.point_counts()
    assert counts["retain/ndcg@10"] == 2 * 2  # two methods × two sizes, each a mean over two seeds
    assert counts["speedup_vs_retrain"] == 2 * 2  # paired with retraining per seed
    ndcg = next(s for s in tab.series if s.key == "retain/ndcg@10" and s.variant == "finetune")
    assert [p.n for p in ndcg.points] == [2, 2] and all(p.low <= p.mean <= p.high for p in ndcg.points)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert len(summary["cells"]) == 8 and (tmp_path / "out" / "sweep.svg").exists()
    assert len(RunStore(tmp_path / "runs.sqlite").list()) == 8
    _run(qtbot, tab)
    assert tab.table.statuses() == ["skipped"] * 8
    assert tab.plots.point_counts()["retain/ndcg@10"] == 4


def test_cancel_stops_the_pending_cells(qtbot, tab):
    tab.start_button.click()
    qtbot.waitUntil(lambda: "done" in tab.table.statuses(), timeout=120_000)
    with qtbot.waitSignal(tab.tasks.finished, timeout=60_000):
        tab.cancel_button.click()
    statuses = tab.table.statuses()
    assert "waiting" not in statuses and statuses.count("cancelled") >= len(statuses) // 2
    assert tab.start_button.isEnabled() and tab.setup.isEnabled()


def test_a_stream_plots_each_request_with_whole_request_ticks(qtbot, tab):
    view = tab.stream_view
    tab.setup.check_only("finetune")  # retraining is measured as the reference all the same
    view.steps_spin.setValue(3)
    view.size_spin.setValue(0.02)
    with qtbot.waitSignal(tab.tasks.finished, timeout=120_000):
        view.start_button.click()
    assert view.result is not None and len(view.result.steps) == 3
    for (label, key), curve in view.plots.curves.items():
        assert list(curve.xData) == [1.0, 2.0, 3.0], (label, key)
    ticks = view.plots.plots["latency_s"].getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == ["1", "2", "3"]


def test_whole_request_numbers_on_the_stream_svg_and_the_window_ticks():
    from core.sweeps.svg import Line, Panel, panels_svg
    from cragru_gui.sweep.sweep_plots import whole_ticks

    steps = tuple(float(k) for k in range(1, 11))
    svg = panels_svg([Panel("latency", "request", (Line("retrain", steps, (0.0,) * 10),))])
    assert ">3.25<" not in svg and ">5.5<" not in svg and ">3<" in svg
    assert [t for _, t in whole_ticks(10)] == [str(k) for k in range(1, 11)]
    assert [t for _, t in whole_ticks(40)] == [str(k) for k in range(1, 41, 4)]
