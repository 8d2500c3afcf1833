"""Widgets on their own: table models, generated forms, inspector, results, history, worker, errors."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from core.errors import ConfigError
from core.events import AttackResultEvent, MetricEvent, ModelResultEvent
from core.history import RunStore
from core.methods.registry import ParamSpec
from cragru_gui.common.table_models import (
    SORT_ROLE,
    HistoryTableModel,
    ItemTableModel,
    UserTableModel,
    make_proxy,
)
from cragru_gui.results.metric_table import MetricTableModel


# -- table models -------------------------------------------------------------------------
def test_table_models_pass_qtmodeltester(qtmodeltester, tiny_result, tmp_path):
    result, dataset, _removed = tiny_result
    users = UserTableModel()
    users.set_dataset(dataset, dataset.user_counts())
    items = ItemTableModel()
    items.set_dataset(dataset)
    metrics = MetricTableModel()
    metrics.set_result(result)
    store = RunStore(tmp_path / "runs.sqlite")
    store.begin("abc", result.config, 1.0)
    store.finish_done(result)
    history = HistoryTableModel()
    history.set_runs(store.list())
    for model in (users, items, metrics, history):
        qtmodeltester.check(model, force_py=True)
        qtmodeltester.check(make_proxy(model), force_py=True)
    assert users.rowCount() == dataset.n_users
    assert items.rowCount() == dataset.n_items
    headers = [items.headerData(c, Qt.Orientation.Horizontal) for c in range(items.columnCount())]
    assert {"Title", "Year", "Genres", "Popularity"} <= set(headers)


def test_user_ids_sort_as_numbers_and_search_filters(tiny_result):
    _result, dataset, _removed = tiny_result
    model = UserTableModel()
    model.set_dataset(dataset)
    proxy = make_proxy(model)
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    first = [proxy.index(r, 0).data() for r in range(3)]
    assert first == ["1", "2", "3"]
    proxy.sort(1, Qt.SortOrder.DescendingOrder)
    counts = [proxy.index(r, 1).data(SORT_ROLE) for r in range(5)]
    assert counts == sorted(counts, reverse=True)
    proxy.setFilterFixedString("nobody-has-this-id")
    assert proxy.rowCount() == 0


# -- generated parameter forms -----------------------------------------------------------------
SPECS = (
    ParamSpec("epochs", int, 5, "how many epochs", low=1, high=50),
    ParamSpec("lr", float, 1e-4, "learning rate", low=1e-6, high=1.0),
    ParamSpec("clip", bool, True, "clip gradients"),
    ParamSpec("mode", str, "fast", "speed/quality trade-off", choices=("fast", "exact")),
    ParamSpec("tag", str, "x", "free text"),
)


def test_param_form_builds_typed_editors_from_specs(qtbot):
    from cragru_gui.common.param_form import ParamForm

    form = ParamForm(SPECS)
    qtbot.addWidget(form)
    editors = form.editors
    assert isinstance(editors["epochs"], QSpinBox) and editors["epochs"].maximum() == 50
    assert isinstance(editors["lr"], QDoubleSpinBox) and editors["lr"].value() == pytest.approx(1e-4)
    assert isinstance(editors["clip"], QCheckBox) and editors["clip"].isChecked()
    assert isinstance(editors["mode"], QComboBox) and editors["mode"].count() == 2
    assert isinstance(editors["tag"], QLineEdit)
    assert editors["epochs"].toolTip().startswith("how many epochs")
    assert form.values() == {"epochs": 5, "lr": pytest.approx(1e-4), "clip": True, "mode": "fast", "tag": "x"}
    editors["epochs"].setValue(9)
    editors["mode"].setCurrentText("exact")
    assert form.values()["epochs"] == 9 and form.values()["mode"] == "exact"
    form.set_values({"epochs": 999, "clip": False})  # out of range: refused by coerce, kept as is
    assert form.values()["epochs"] == 9 and form.values()["clip"] is False


def test_method_panel_is_generated_from_the_registry(qtbot):
    from core.methods.registry import list_methods
    from cragru_gui.panels.method_panel import MethodPanel

    panel = MethodPanel()
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.methods_ready, timeout=120_000)
    assert list(panel.entries) == [m.name for m in list_methods()]
    assert panel.selected_methods() == ["retrain"]
    panel.check_only()
    with pytest.raises(ConfigError):
        panel.choices()
    for spec in list_methods():
        entry = panel.entries[spec.name]
        assert set(entry.form.editors) == {p.name for p in spec.params}
    gpu = panel.device_combo.model().item(2)
    from core.device import gpu_name

    assert gpu.isEnabled() == (gpu_name() is not None)


# -- inspector, results, history -----------------------------------------------------------------
def test_inspector_shows_before_and_after_lists(qtbot, tiny_result):
    from cragru_gui.inspector.user_inspector import UserInspector, rank_shifts

    result, dataset, removed = tiny_result
    inspector = UserInspector()
    qtbot.addWidget(inspector)
    inspector.set_run(result, dataset, removed)
    user = result.groups["users"]["forget"][0]
    inspector.select_user(user, "forget")
    before, after = inspector.titles("before"), inspector.titles("after")
    assert len(before) == 10 and len(after) == 10
    first = result.topk["base"][user][0]
    assert dataset.item_title(first) in before[0]
    assert f"User {dataset.user_ids[user]}" in inspector.info.text()
    # the user's removed items are highlighted where they appear
    forgotten = set(map(int, removed[user]))
    marked = [t for t in before if "✕ removed" in t]
    assert len(marked) == len(forgotten & set(result.topk["base"][user]))
    assert rank_shifts([1, 2, 3], [3, 1, 9]) == {3: 2, 1: -1, 9: None}
    # any user at all, via "All users"
    inspector.select_user(0, "all")
    assert inspector.before_list.count() == 10


def test_results_view_shows_every_metric(qtbot, tiny_result):
    from cragru_gui.results.results_view import ResultsView

    result, _dataset, _removed = tiny_result
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_result(result)
    shown = view.proxy.rowCount()
    view.cutoff_combo.setCurrentIndex(view.cutoff_combo.findData(""))
    assert view.proxy.rowCount() > shown  # all cut-offs
    view.search.setText("forgotten-item recall")
    assert view.proxy.rowCount() == 3  # @5, @10, @20 and nothing else
    assert view.export_button.isEnabled()


def test_history_open_compare_delete(qtbot, tiny_result, tmp_path, answers):
    from cragru_gui.panels.history_panel import HistoryPanel
    from cragru_gui.results.compare_view import CompareDialog

    result, _dataset, _removed = tiny_result
    store = RunStore(tmp_path / "runs.sqlite")
    for run_id, when in (("run-a", 1.0), ("run-b", 2.0)):
        store.begin(run_id, result.config, when)
        store.finish_done(type(result).from_dict({**result.to_dict(), "run_id": run_id}))
    store.begin("run-c", result.config, 3.0)
    store.finish_cancelled("run-c")
    panel = HistoryPanel(lambda: RunStore(tmp_path / "runs.sqlite"))
    qtbot.addWidget(panel)
    panel.refresh()
    assert panel.model.rowCount() == 3
    panel.select_runs(["run-a"])
    with qtbot.waitSignal(panel.openRequested) as opened:
        panel.open_button.click()
    assert opened.args == ["run-a"]
    panel.select_runs(["run-a", "run-b"])
    assert panel.compare_button.isEnabled()
    with qtbot.waitSignal(panel.compareRequested) as compared:
        panel.compare_button.click()
    assert sorted(compared.args) == ["run-a", "run-b"]
    dialog = CompareDialog(store.load("run-a"), store.load("run-b"))
    qtbot.addWidget(dialog)
    assert dialog.table.columnCount() == 4 and dialog.table.rowCount() > 5
    panel.select_runs(["run-c"])
    assert not panel.open_button.isEnabled()
    panel.delete_button.click()
    assert [r.run_id for r in store.list()] == ["run-b", "run-a"]


# -- errors ---------------------------------------------------------------------------------------------
def test_excepthook_logs_and_shows_a_dialog(qtbot, shown_errors, monkeypatch, tmp_path):
    from cragru_gui import errors

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    import threading

    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    errors.install_excepthook()
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: bool(shown_errors), timeout=3000)
    call = shown_errors.calls[0]
    assert "ZeroDivisionError" in call["message"] and "Traceback" in call["details"]
    errors.report_exception(None, ConfigError("epochs must be positive"), "Bad input")
    assert shown_errors.calls[1] == {"title": "Bad input", "message": "epochs must be positive", "details": None}


def test_column_dialog_guesses_roles(qtbot, tmp_path):
    from cragru_gui.panels.column_dialog import ColumnMappingDialog

    path = tmp_path / "plays.tsv"
    path.write_text("listener\tsong\tweight\n1\t10\t3\n2\t11\t5\n")
    dialog = ColumnMappingDialog(path)
    qtbot.addWidget(dialog)
    assert dialog.separator() == "\t"
    dialog.role_combos["user"].setCurrentText("listener")
    dialog.role_combos["item"].setCurrentText("song")
    columns, sep = dialog.mapping()
    assert columns == {"user": "listener", "item": "song", "rating": "weight"} and sep == "\t"
    headerless = tmp_path / "raw.csv"
    headerless.write_text("1,10,4,100\n2,11,5,200\n")
    dialog = ColumnMappingDialog(headerless)
    qtbot.addWidget(dialog)
    assert dialog.mapping() == ({"user": 0, "item": 1, "rating": 2, "timestamp": 3}, ",")


# -- charts ------------------------------------------------------------------------------------------
def test_charts_update_items_in_place(qtbot):
    from cragru_gui.charts import MetricsChart

    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.reset(mia_enabled=True)
    drawn = chart.training.curves
    for step in (1, 2, 3):
        chart.add_metric(MetricEvent("base", "train", step, {"loss": 1.0 / step, "valid_ndcg10": 0.1 * step}))
        if step == 1:
            assert ("base/train", "loss") not in drawn  # points are drawn a few times a second, not each
            qtbot.waitUntil(lambda: ("base/train", "loss") in drawn, timeout=2_000)
            curve = drawn[("base/train", "loss")]
    qtbot.waitUntil(lambda: len(drawn[("base/train", "loss")].getData()[0]) == 3, timeout=2_000)
    assert drawn[("base/train", "loss")] is curve  # created once, then setData
    x, y = chart.curve_points("base/train", "valid_ndcg10")
    assert list(x) == [1, 2, 3] and list(y) == pytest.approx([0.1, 0.2, 0.3])
    groups = {g: {"hit@10": 0.5, "ndcg@10": 0.2} for g in ("retain", "forget", "similar")}
    chart.add_model_result(ModelResultEvent("base", groups, {"forgotten_recall@10": 0.3, "time_s": 2.0}))
    chart.add_model_result(ModelResultEvent("retrain", groups, {"forgotten_recall@10": 0.1, "time_s": 3.0}))
    bars = chart.bars
    assert not bars.hit.bars  # live results are drawn a few times a second, not one by one
    chart.draw_now()
    assert set(bars.hit.bars) == {"base", "retrain"} and not bars.attack.bars
    assert "after the attacks" in bars.attack.note.item.textItem.toPlainText()
    assert bars.attack.note.item.isVisible()  # the note stands in for the attack's bars ...
    bar = bars.hit.bars["base"]
    chart.add_attack_result(AttackResultEvent("base", "fold-in", 0.97, 0.9, 1.0))
    qtbot.waitUntil(lambda: set(bars.attack.bars) == {"base"}, timeout=2_000)  # the timer draws them
    assert bars.hit.bars["base"] is bar and set(bars.attack.bars) == {"base"}
    assert not bars.attack.note.item.isVisible()  # ... until they arrive
    assert set(bars.attack.errors) == {"base"}  # the interval is drawn
    chart.add_model_result(ModelResultEvent("base", {}, {"time_s": 2.5}))
    assert bars.models["base"]["extras"]["forgotten_recall@10"] == 0.3  # extras merge, not replace
    assert "base" in chart.legend.text() and "retrain" in chart.legend.text()
    assert set(chart.png_images()) == set(chart.plots())


def test_a_models_stages_share_its_colour(qtbot):
    from cragru_gui.charts import MetricsChart

    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.add_metric(MetricEvent("sisa", "shards", 1, {"loss": 0.5}))
    chart.add_metric(MetricEvent("sisa", "unlearn", 1, {"loss": 0.4}))
    qtbot.waitUntil(lambda: ("sisa/unlearn", "loss") in chart.training.curves, timeout=2_000)
    first = chart.training.curves[("sisa/shards", "loss")].opts["pen"]
    second = chart.training.curves[("sisa/unlearn", "loss")].opts["pen"]
    assert first.color().name() == second.color().name() == chart.colours("sisa")
    assert first.style() != second.style()  # the second stage is dashed


def test_a_methods_declared_curve_is_drawn_and_undeclared_values_are_not(qtbot):
    """Adding a method with a custom curve touches only its own registration."""
    from core.curves import CurveSpec
    from core.methods.registry import METHODS, MethodSpec, UnlearnOutcome, register
    from cragru_gui.charts import MetricsChart

    spec = MethodSpec(
        "toy_curve",
        "Toy",
        "test-only",
        (),
        lambda ctx, params, prep: UnlearnOutcome(None),
        curves=(CurveSpec("forget_gap", "gap on forgotten rows", "diagnostics"),),
    )
    register(spec)
    try:
        chart = MetricsChart()
        qtbot.addWidget(chart)
        for step in (1, 2):
            chart.add_metric(MetricEvent("toy_curve", "unlearn", step, {"forget_gap": 0.1 * step, "noise": 1.0}))
        x, y = chart.curve_points("toy_curve/unlearn", "forget_gap")
        assert list(x) == [1, 2] and list(y) == pytest.approx([0.1, 0.2])
        diagnostics = chart.training.panels["diagnostics"]
        assert chart.training.curves[("toy_curve/unlearn", "forget_gap")] in diagnostics.plot.getPlotItem().items
        assert not diagnostics.note.item.isVisible()
        assert chart.curve_points("toy_curve/unlearn", "noise")[0].size == 0
        assert ("toy_curve/unlearn", "noise") in chart.training.undeclared
    finally:
        METHODS.pop("toy_curve")
