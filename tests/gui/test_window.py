"""The main window end to end: demo dataset, request summary, a real run, cancel, close, errors."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from core.errors import Cancelled, CragruError
from core.history import RunStore
from core.split import SplitConfig

OBJECT_NAMES = (
    "datasetPanel",
    "forgetPanel",
    "methodPanel",
    "startButton",
    "cancelButton",
    "progressBar",
    "metricsChart",
    "resultsTable",
    "userInspector",
    "historyPanel",
    "exportButton",
)


def _settled(qtbot, window):
    """Wait until the workspace has resolved the latest request (it works off the GUI thread)."""
    qtbot.waitUntil(lambda: not window.workspace.state.busy, timeout=10_000)
    return window.workspace.state


def _eligible_users(window, n):
    """Raw IDs of users with training rows (outsiders cannot be forgotten)."""
    counts = window.dataset.user_counts(window.workspace.state.split.train)
    return [str(window.dataset.user_ids[u]) for u in range(window.dataset.n_users) if counts[u] > 0][:n]


def test_window_opens_on_the_demo_dataset(make_window, shown_errors):
    window = make_window()
    for name in OBJECT_NAMES:
        assert window.findChild(QWidget, name) is not None, name
    assert window.dataset.source == "demo"
    assert window.dataset_panel.figures["n_users"].text() == f"{window.dataset.n_users:,}"
    x0 = window.dataset_panel.bars.opts["x0"]
    assert len(x0) > 3 and sum(window.dataset_panel.bars.opts["height"]) == window.dataset.n_users
    # sensible defaults: 5 % random users, retrain ticked, BPR base, Start ready
    request = window.forget_panel.request()
    assert (request.kind, request.selector, request.fraction) == ("users", "random", 0.05)
    assert window.method_panel.selected_methods() == ["retrain"]
    assert window.method_panel.model_config().name == "bpr"
    assert window.run_bar.start_button.isEnabled()
    assert not window.run_bar.cancel_button.isEnabled()
    assert "Forgetting" in window.forget_panel.summary.text()
    assert not shown_errors


def test_selecting_users_updates_the_request_summary(make_window, qtbot):
    window = make_window()
    panel = window.forget_panel
    chosen = _eligible_users(window, 3)
    panel.select_users(chosen)
    assert panel.kind() == "users" and panel.selector() == "ids"
    assert panel.request().ids == tuple(chosen)
    state = _settled(qtbot, window)
    assert "Forgetting 3 users" in panel.summary.text()
    n_rows = len(state.resolved.removed_rows)
    assert f"{n_rows:,} training interactions" in panel.summary.text()
    assert not panel.banner.isVisibleTo(panel)
    # a held-out outsider cannot be forgotten: the RequestError message is shown as a banner
    counts = window.dataset.user_counts(state.split.train)
    outsider = str(window.dataset.user_ids[int((counts == 0).nonzero()[0][0])])
    panel.select_users([outsider])
    _settled(qtbot, window)
    assert panel.banner.isVisibleTo(panel) and "no training interactions" in panel.banner.text()
    assert not window.run_bar.start_button.isEnabled()
    # quick selector: every item of a genre
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("items"))
    panel.selector_combo.setCurrentIndex(panel.selector_combo.findData("genre"))
    panel.genre_combo.setCurrentIndex(0)
    panel.refresh()
    _settled(qtbot, window)
    genre = panel.genre_combo.currentText()
    n_items = sum(genre in g for g in window.dataset.item_genres())
    assert panel.request().genre == genre and f"Forgetting {n_items} items" in panel.summary.text()
    # share selector: the size follows the spin box
    panel.clear()
    _settled(qtbot, window)
    assert panel.selector() == "random" and panel.is_valid()
    panel.percent_spin.setValue(20.0)
    qtbot.waitUntil(
        lambda: window.workspace.state.ready and window.workspace.state.resolved.request.fraction == 0.2, timeout=3000
    )
    assert window.run_bar.start_button.isEnabled()


def test_retraining_run_fills_charts_results_and_inspector(make_window, qtbot, store_path, shown_errors, tmp_path):
    window = make_window()
    window.method_panel.run_form.set_values({"mia": True, "use_cache": False})  # train base here: its curve
    window.start_run()
    assert window.is_running()
    assert not window.run_bar.start_button.isEnabled() and window.run_bar.cancel_button.isEnabled()
    with qtbot.waitSignal(window.tasks.finished, timeout=180_000, check_params_cb=lambda kind: kind == "run"):
        pass
    qtbot.waitUntil(lambda: not window.is_running() and window.run_bar.start_button.isEnabled(), timeout=10_000)
    assert not shown_errors, shown_errors.calls
    result = window.result
    assert result is not None and set(result.models) == {"base", "retrain"}
    # live curves: one point per epoch for base and retraining
    for series in ("base/train", "retrain/train"):
        x, y = window.charts.curve_points(series, "loss")
        assert 1 <= len(x) <= 3 and all(v > 0 for v in y)
    # grouped bars for both models, MIA bars once the attack ran
    assert set(window.charts.bars.hit.bars) == {"base", "retrain"}
    heights = window.charts.bars.hit.bars["base"].opts["height"]
    assert list(heights) == pytest.approx(
        [result.models["base"].groups[g]["hit@10"] for g in ("retain", "forget", "similar")]
    )
    assert result.config["mia"]  # the attack ran, so its bars must be there (not only "if it ran")
    assert set(window.charts.bars.attack.bars) == {"base", "retrain"}
    assert window.run_bar.progress_bar.value() == window.run_bar.progress_bar.maximum()
    # results table: every metric, with the retrain-vs-base delta column
    table = window.findChild(QWidget, "resultsTable")
    model = table.model()
    assert model.rowCount() > 10
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["base", "retrain", "retrain Δ base"]
    assert window.results_view.export_button.isEnabled()
    # inspector: two top-10 lists for a forgotten user
    inspector = window.inspector
    assert inspector.before_list.count() == 10 and inspector.after_list.count() == 10
    # stored, and visible in History
    runs = RunStore(store_path).list()
    assert [r.status for r in runs] == ["done"]
    assert window.history_panel.model.rowCount() == 1
    # export: HTML with the charts, CSV and JSON
    task = window.export_report(str(tmp_path / "report.html"))
    assert task.wait(30)
    written = task.value
    assert [p.name for p in written] == ["report.html", "report-metrics.csv", "report.json"]
    html = written[0].read_text()
    assert "data:image/png;base64," in html and result.run_id in html


def test_cancel_stops_the_run_and_keeps_the_store_consistent(make_window, qtbot, store_path):
    window = make_window()
    window.method_panel.set_epochs(500)
    window.method_panel.run_form.set_values({"use_cache": False})
    window.start_run()
    qtbot.waitUntil(lambda: len(window.charts.curve_points("base/train", "loss")[0]) >= 1, timeout=60_000)
    started = time.monotonic()
    with qtbot.waitSignal(window.tasks.finished, timeout=30_000, check_params_cb=lambda kind: kind == "run"):
        qtbot.mouseClick(window.run_bar.cancel_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 10
    qtbot.waitUntil(lambda: window.run_bar.start_button.isEnabled(), timeout=5000)
    assert "Cancelled" in window.run_bar.stage_label.text()
    assert window.result is None
    runs = RunStore(store_path).list()
    assert [r.status for r in runs] == ["cancelled"]
    with pytest.raises(CragruError):
        RunStore(store_path).load(runs[0].run_id)
    assert window.forget_panel.isEnabled() and window.method_panel.isEnabled()


def test_closing_during_a_run_asks_and_cancels_cleanly(make_window, qtbot, store_path, answers):
    window = make_window()
    window.method_panel.set_epochs(500)
    window.method_panel.run_form.set_values({"use_cache": False})
    window.start_run()
    qtbot.waitUntil(lambda: len(window.charts.curve_points("base/train", "loss")[0]) >= 1, timeout=60_000)
    answers.queue.append(False)
    assert not window.close()  # "no": the window stays and the run goes on
    assert window.isVisible() and window.is_running()
    answers.queue.append(True)
    assert window.close()
    assert not window.is_running()
    assert len(answers.asked) == 2
    assert [r.status for r in RunStore(store_path).list()] == ["cancelled"]


def test_a_malformed_dataset_shows_the_error_and_the_app_keeps_working(make_window, qtbot, tmp_path, shown_errors):
    window = make_window()
    bad = tmp_path / "broken.csv"
    bad.write_text("user,item,rating\n1,10,4\n2,11\n3,12,notanumber\n")
    window.load_dataset({"path": str(bad), "fmt": "csv"})
    qtbot.waitUntil(lambda: bool(shown_errors), timeout=20_000)
    call = shown_errors.calls[0]
    assert call["title"] == "Cannot open the dataset"
    assert "broken.csv" in call["message"]
    assert call["details"] is None  # a user error: message, no traceback
    assert window.dataset.source == "demo"
    assert window.dataset_panel.message.isVisibleTo(window.dataset_panel)
    qtbot.waitUntil(lambda: not window.tasks.is_running("load"), timeout=5000)
    # still works: another dataset load and a valid request
    window.load_dataset({"path": "demo"})
    qtbot.waitUntil(lambda: not window.dataset_panel.busy.isVisibleTo(window.dataset_panel), timeout=20_000)
    _settled(qtbot, window)
    assert window.forget_panel.is_valid() and window.run_bar.start_button.isEnabled()


def test_settings_persist_between_sessions(make_window):
    window = make_window()
    window.method_panel.set_epochs(7)
    window.method_panel.model_form.set_values({"name": "lightgcn"})
    window.forget_panel.percent_spin.setValue(12.0)
    window.forget_panel.split_form.set_values({"mode": "loo", "outsider_fraction": 0.2})
    window.close()
    again = make_window(tiny=False)
    assert again.method_panel.model_config().epochs == 7 and again.method_panel.model_config().name == "lightgcn"
    assert again.forget_panel.split_config() == SplitConfig(mode="loo", outsider_fraction=0.2)
    assert again.forget_panel.percent_spin.value() == 12.0
    assert again.settings.last_dataset() == {"path": "demo"}


def test_split_controls_reach_the_split_and_the_run(make_window, qtbot):
    window = make_window()
    form = window.forget_panel.split_form
    assert set(form.editors) == {"mode", "outsider_fraction", "seed"}
    assert form.editors["outsider_fraction"].maximum() < 0.9  # the spec's open bound
    form.set_values({"mode": "chrono", "outsider_fraction": 0.25, "seed": 4})
    qtbot.waitUntil(lambda: window.workspace.state.split_config.mode == "chrono", timeout=3000)
    state = _settled(qtbot, window)
    assert state.split.config == SplitConfig(mode="chrono", outsider_fraction=0.25, seed=4)
    assert len(state.split.outsiders) == round(0.25 * window.dataset.n_users)
    assert state.resolved.request.seed == 4
    seen = []

    def engine(config, on_event, should_stop, dataset=None, store=None):
        seen.append(config)
        raise Cancelled("only the configuration is checked")

    window.experiment_fn = engine
    with qtbot.waitSignal(window.tasks.finished, timeout=10_000):
        window.start_run()
    assert seen[0].split == SplitConfig(mode="chrono", outsider_fraction=0.25, seed=4)
    assert seen[0].request.seed == 4 and seen[0].model.name == "bpr" and seen[0].device == "auto"
    assert "Cancelled" in window.run_bar.stage_label.text()


def test_base_model_and_device_controls_come_from_the_specs(make_window):
    from core.config import RUN_PARAMS
    from core.models.base import MODEL_NAMES, MODEL_PARAMS, model_config
    from core.params import spec_named

    panel = make_window(load_demo=False).method_panel
    combo = panel.model_form.editors["name"]
    assert [combo.itemData(i) for i in range(combo.count())] == list(MODEL_NAMES)
    assert panel.model_form.editors["epochs"].maximum() == spec_named(MODEL_PARAMS, "epochs").high
    device = panel.device_form.editors["device"]
    assert [device.itemData(i) for i in range(device.count())] == list(spec_named(RUN_PARAMS, "device").choices)
    panel.model_form.set_values({"name": "lightgcn", "dim": 32})
    panel.run_form.set_values({"mia": False})
    assert panel.model_config().name == "lightgcn" and panel.model_config().dim == 32
    shown = panel.model_config()
    assert shown == model_config("lightgcn", dim=32, epochs=shown.epochs)  # LightGCN's own lr, batch, patience
    assert panel.run_settings() == {
        "device": "auto",
        "use_cache": True,
        "mia": False,
        "references": panel.n_references(),  # the reference ensemble's size (its own spin box)
    }
