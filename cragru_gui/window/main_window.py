"""The main window: set-up on the left (Dataset / Forget / Method + run bar), what happened
on the right (Verdict / Charts / Results / Inspector / History / Log).

The data side (dataset, split, request, groups) lives in a Qt-free
:class:`~core.workspace.Workspace` that the panels observe; every slow step (loading,
resolving the request, the run, the method list) goes through the window's one
:class:`~cragru_gui.worker.TaskRunner`, shut down when the window closes. The window holds
no training or metric code — every number comes from ``core``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QSplitter

from core.config import DataConfig, ExperimentConfig
from core.errors import CragruError, MethodFailed
from core.seeds import SeedFailed
from core.workspace import Change, Workspace, removed_for_config
from cragru_gui import errors
from cragru_gui.common import widget_policy
from cragru_gui.look import app_icon
from cragru_gui.panels import plugin_setting
from cragru_gui.panels.dataset_panel import describe_source
from cragru_gui.results import seeds_view
from cragru_gui.results.compare_view import CompareDialog
from cragru_gui.settings import Settings
from cragru_gui.window import exports, screen_fit, window_ui
from cragru_gui.window.run_bar import format_duration
from cragru_gui.window.run_views import CANCELLED, FAILED, RunViews, planned_story
from cragru_gui.worker import EngineEvents, TaskRunner, experiment_task

APP_TITLE = "CRAGRU Studio"
_run_log = logging.getLogger("cragru_gui.run")
CLOSE_WAIT_S = 30.0


def _default_store():
    from core.history import RunStore

    return RunStore()


class MainWindow(QMainWindow):
    def __init__(self, *, settings: Settings | None = None, store_factory=_default_store, experiment_fn=None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(app_icon())
        self.settings = settings or Settings()
        plugin_setting.apply_saved_plugins(self.settings)  # before the method list is built
        self.store_factory = store_factory
        self.experiment_fn = experiment_fn  # run_experiment itself unless a test passes a fake
        self.tasks = TaskRunner(self)
        self.workspace = Workspace(self.tasks)
        self.engine_events = EngineEvents(self)
        self.result = None
        self._run_removed: dict = {}
        self._run_dataset = None
        self._finish_message = "Finished."
        self._compare_dialogs: list = []
        self.seed_dialog = None  # the last run over several seeds: its summary
        self._closing = False
        setup = window_ui.build_setup(self.workspace, self.tasks)
        out = window_ui.build_output(self, setup, self.workspace, self.tasks, self.store_factory)
        self._keep(setup, out)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(setup.widget)
        self.splitter.addWidget(out.widget)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([470, 1130])
        self.setCentralWidget(self.splitter)
        self.views = RunViews(out, self.run_bar, self._planned_story)
        self.saving = exports.Saving(self, self.tasks, self.say, self.log)
        actions = window_ui.make_menus(self, setup, out)
        self.export_action, self.receipt_action = actions.export, actions.receipt
        self.start_action, self.cancel_action = actions.start, actions.cancel
        self._wire()
        self._restore_settings()
        self.history_panel.refresh()
        self._update_story()
        self._update_ready()
        widget_policy.apply(self)  # wheel guard and accessible names (again as the methods and data arrive)

    def _keep(self, setup: window_ui.SetupSide, out: window_ui.OutputSide) -> None:
        """The widgets the window wires and drives, under the names it (and its tests) use."""
        self.dataset_panel, self.forget_panel = setup.dataset_panel, setup.forget_panel
        self.method_panel, self.setup_tabs, self.run_bar = setup.method_panel, setup.tabs, setup.run_bar
        self.story, self.charts, self.verdict_view = out.story, out.charts, out.verdict_view
        self.results_view, self.inspector, self.affected_view = out.results_view, out.inspector, out.affected_view
        self.history_panel, self.sweep_tab = out.history_panel, out.sweep_tab
        self.log_view, self.output_tabs, self.presentation = out.log_view, out.tabs, out.presentation
        self.presentation_action = out.presentation.action
        self.leave_presentation_action = out.presentation.leave_action

    def _planned_story(self) -> str:
        return planned_story(self.workspace.state, self.method_panel.selected_labels)

    def _wire(self) -> None:
        self.workspace.subscribe(self._on_workspace)
        self.dataset_panel.loadRequested.connect(self.load_dataset)
        self.method_panel.changed.connect(self._inputs_changed)
        self.method_panel.methodsLoaded.connect(lambda: widget_policy.apply(self))
        self.run_bar.startRequested.connect(self.start_run)
        self.run_bar.cancelRequested.connect(self.cancel_run)
        self.results_view.export_button.clicked.connect(lambda: self.export_report())
        self.results_view.receipt_button.clicked.connect(lambda: self.save_receipt())
        self.history_panel.openRequested.connect(self.open_run)
        self.history_panel.compareRequested.connect(self.compare_runs)
        self.history_panel.notesFound.connect(self._history_notes)
        events = self.engine_events
        events.stage.connect(self._on_stage)
        events.progress.connect(self.run_bar.set_progress)
        events.metric.connect(self.charts.add_metric)
        events.model_result.connect(self._on_model_result)
        events.attack_result.connect(self._on_attack_result)
        events.log.connect(self.log)

    # -- settings ---------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry) or not screen_fit.fits(self):
            screen_fit.place(self)  # from the screen it opens on (issue 23: 1600×960 on a 1280×720 screen)
        state = self.settings.get_json("window/splitter")
        if isinstance(state, list) and len(state) == 2:
            self.splitter.setSizes([int(s) for s in state])
        else:
            self.splitter.setSizes(screen_fit.split(self.width()))
        params = self.settings.parameters()
        self.method_panel.restore(params.get("method", {}))
        self.forget_panel.restore(params.get("forget", {}))
        self.dataset_panel.set_recent(self.settings.recent_datasets())

    def save_settings(self) -> None:
        self.settings.save_geometry(self.saveGeometry())
        self.settings.set_json("window/splitter", self.splitter.sizes())
        self.settings.save_parameters({"method": self.method_panel.state(), "forget": self.forget_panel.state()})
        if self.data_config is not None:
            self.settings.remember_dataset(_data_dict(self.data_config))
        self.settings.sync()

    def initial_dataset(self, demo: bool = False, path: str | None = None) -> None:
        """``--demo`` → the demo; ``--data`` → that path; else the last dataset, else the demo."""
        if path:
            self.load_dataset({"path": path})
        elif demo:
            self.load_dataset({"path": "demo"})
        else:
            self.load_dataset(self.settings.last_dataset() or {"path": "demo"})

    # -- the workspace ---------------------------------------------------------------------------
    @property
    def dataset(self):
        return self.workspace.state.dataset

    @property
    def data_config(self) -> DataConfig | None:
        return self.workspace.state.data_config

    def load_dataset(self, data: dict) -> None:
        """Load off the UI thread; the current dataset stays until the new one is ready."""
        if self.is_running():
            errors.show_error(
                self, "Run in progress", "Wait for the run to finish (or cancel it) before opening another dataset."
            )
            return
        self.workspace.load(DataConfig(**{k: v for k, v in data.items() if v is not None}))

    def _on_workspace(self, change: Change) -> None:
        state = change.state
        if change.what == "loading":
            self.log(f"loading {state.loading.path}")
            self.say(f"Loading {describe_source({'path': state.loading.path})}…")
        elif change.what == "dataset":
            self._dataset_loaded()
        elif change.what == "load_failed":
            message = errors.user_message(change.exc)
            self.say(
                "The dataset could not be opened."
                if state.dataset is None
                else f"Kept {state.dataset.name}: the new dataset could not be opened."
            )
            self.log(f"could not open the dataset: {message}", "error")
            if not self._closing:
                errors.report_exception(self, change.exc, "Cannot open the dataset")
        self._inputs_changed()

    def _dataset_loaded(self) -> None:
        dataset = self.dataset
        self.settings.remember_dataset(_data_dict(self.data_config))
        self.dataset_panel.set_recent(self.settings.recent_datasets())
        s = dataset.summary()
        self.say(f"{s.name}: {s.n_users:,} users · {s.n_items:,} items · {s.n_interactions:,} interactions")
        self.log(f"dataset {s.name}: {s.n_users} users, {s.n_items} items, {s.n_interactions} interactions")
        self.setWindowTitle(f"{APP_TITLE} — {s.name}")
        self.method_panel.use_demo_preset(self.data_config.is_demo)
        widget_policy.apply(self)

    # -- run ------------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.tasks.is_running("run")

    def build_config(self) -> ExperimentConfig:
        return self.workspace.experiment_config(
            model=self.method_panel.model_config(),
            methods=self.method_panel.choices(),
            **self.method_panel.run_settings(),
        )

    def _inputs_changed(self) -> None:
        self._update_ready()
        if not self.is_running():
            self._update_story()

    def _update_ready(self) -> None:
        state = self.workspace.state
        reason = ""
        if not self.method_panel.methods_ready:
            reason = "Loading the unlearning methods…"
        elif state.dataset is None:
            reason = "Open a dataset to begin."
        elif state.busy:
            reason = "Working out what the request removes…"
        elif not state.ready:
            reason = "Choose what to forget (Forget panel)."
        elif not self.method_panel.selected_methods():
            reason = "Tick at least one method (Method panel)."
        self.run_bar.set_ready(not reason, reason)
        self.start_action.setEnabled(not reason and not self.is_running())
        self.cancel_action.setEnabled(self.is_running())

    def _update_story(self) -> None:
        """One sentence at the top saying what the next run will do."""
        self.views.idle()

    def start_run(self) -> None:
        if self.is_running():
            return
        try:
            config = self.build_config()
        except CragruError as exc:
            errors.report_exception(self, exc, "Cannot start the run")
            return
        self.save_settings()
        self._run_removed = self.workspace.removed_items_by_user()
        self._run_dataset = self.dataset
        self.views.started(config)
        self.result = None
        self.export_action.setEnabled(False)
        self.receipt_action.setEnabled(False)
        self.log(
            f"— run started: {config.request.describe()} with "
            f"{', '.join(m.name for m in config.methods)} on {config.model.name} "
            f"(max {config.model.epochs} epochs, device {config.device})"
        )
        n_seeds, store = self.method_panel.n_seeds(), self.store_factory()
        if n_seeds > 1:  # the experiment over several split seeds, in turn
            work, on_event = seeds_view.seeds_plan(
                config,
                n_seeds,
                dispatch=self.engine_events.dispatch,
                reset_charts=self.charts.reset,
                store=store,
                dataset=self.dataset,
                experiment_fn=self.experiment_fn,
            )
            on_done = self._seeds_done
        else:
            work = experiment_task(config, store=store, dataset=self.dataset, experiment_fn=self.experiment_fn)
            on_event, on_done = self.engine_events.dispatch, self._run_done
        self.tasks.start(
            "run",
            work,
            on_event=on_event,
            on_done=on_done,
            on_error=self._run_failed,
            on_cancelled=self._run_cancelled,
            on_finished=self._run_finished,
        )
        self._set_inputs_enabled(False)
        self.run_bar.set_running(True)
        self.output_tabs.setCurrentWidget(self.charts)
        self.run_bar.start_button.setFocus()  # never left on a disabled panel
        self._update_ready()

    def cancel_run(self) -> None:
        if self.is_running():
            self.tasks.cancel("run")
            self.run_bar.set_cancelling()
            self.log("cancel requested")

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.dataset_panel, self.forget_panel, self.method_panel):
            widget.setEnabled(enabled)

    def _on_stage(self, name: str, index: int, total: int) -> None:
        self.run_bar.set_stage(name, index, total)
        self.presentation.set_detail(f"step {index} of {total}, {name}")
        self.log(f"[{index}/{total}] {name}")

    def _on_model_result(self, event) -> None:
        self.charts.add_model_result(event)
        g = event.groups
        if "retain" in g:
            self.log(
                f"{event.model}: NDCG@10 retained {g['retain'].get('ndcg@10', float('nan')):.4f}, "
                f"forgotten {g.get('forget', {}).get('ndcg@10', float('nan')):.4f}, "
                f"similar {g.get('similar', {}).get('ndcg@10', float('nan')):.4f}"
            )

    def _on_attack_result(self, event) -> None:
        self.charts.add_attack_result(event)
        self.log(f"{event.model}: {event.attack} AUC {event.value:.3f}")

    def _run_done(self, result) -> None:
        self.result = result
        self.views.done(result, self._run_dataset, self._run_removed)
        self.export_action.setEnabled(True)
        self.receipt_action.setEnabled(True)
        took = format_duration(result.finished_at - result.started_at) if result.finished_at else "?"
        self.run_bar.progress_bar.setValue(self.run_bar.progress_bar.maximum())
        self._finish_message = "Done. The verdict is shown; Results and Inspector have the details."
        self.log(f"— run {result.run_id} finished in {took}")

    def _seeds_done(self, results: list) -> None:
        """A run over several seeds: the last seed's result as a single run's, and the summary."""
        self._run_done(results[-1])
        self.seed_dialog = seeds_view.SeedSummaryDialog(results, self)
        self.seed_dialog.show()

    def _run_failed(self, exc: BaseException) -> None:
        if isinstance(exc, MethodFailed):  # the models that finished before it are shown, not lost
            self._run_done(exc.partial)
        elif isinstance(exc, SeedFailed):  # likewise the seeds that finished before it
            self._seeds_done(exc.finished)
        self._finish_message = f"Failed: {errors.user_message(exc)}"
        self.views.stopped(FAILED, errors.user_message(exc))
        self.log(f"run failed: {errors.user_message(exc)}", "error")
        errors.report_exception(self, exc, "The run failed")

    def _run_cancelled(self) -> None:
        self._finish_message = "Cancelled. Nothing from this run was stored as a result."
        self.views.stopped(CANCELLED)
        self.log("— run cancelled")

    def _run_finished(self) -> None:
        message = self._finish_message
        self.run_bar.set_finished(message)
        self._set_inputs_enabled(True)
        self.history_panel.refresh()
        self._update_ready()
        self.run_bar.stage_label.setText(message)
        self.statusBar().showMessage(message, 15000)

    # -- history ------------------------------------------------------------------------------------
    def open_run(self, run_id: str) -> None:
        try:
            result = self.store_factory().load(run_id)
        except Exception as exc:  # noqa: BLE001
            errors.report_exception(self, exc, "Cannot open the run")
            return
        self.result = result
        dataset = self.dataset
        same = dataset is not None and dataset.fingerprint() == result.dataset.get("fingerprint")
        self.charts.show_result(result)
        self.views.done(result, dataset if same else None, {})
        if same:  # mark the run's removed items once they are recomputed (a nicety: failures are ignored)
            self.tasks.start(
                "removed",
                lambda task: removed_for_config(dataset, ExperimentConfig.from_dict(result.config)),
                on_done=lambda removed: self._show_removed(result, dataset, removed),
            )
        self.export_action.setEnabled(True)
        self.receipt_action.setEnabled(True)
        note = "" if same else " (its dataset is not the one loaded: items are shown by index)"
        if result.partial:
            note += "; it ended early: only the models that finished before it are shown"
        self.statusBar().showMessage(f"Showing stored run {run_id}{note}", 15000)

    def _show_removed(self, result, dataset, removed: dict) -> None:
        if self.result is result:
            self.inspector.set_run(result, dataset, removed)

    def compare_runs(self, a: str, b: str) -> None:
        try:
            store = self.store_factory()
            first, second = store.load(a), store.load(b)
        except Exception as exc:  # noqa: BLE001
            errors.report_exception(self, exc, "Cannot compare the runs")
            return
        dialog = CompareDialog(first, second, self)
        self._compare_dialogs.append(dialog)
        dialog.show()

    # -- export ---------------------------------------------------------------------------------------
    def export_report(self, path: str | None = None):
        """The report written off the GUI thread: the task (``value``: the files), or None."""
        return exports.export_report(self.saving, self.result, self.charts.png_images, path)

    def save_receipt(self, path: str | None = None):
        """The receipt written off the GUI thread: the task (``value``: its path), or None."""
        return exports.save_receipt(self.saving, self.result, path)

    def add_plugin(self, path: str | None = None) -> list[str]:
        """File → Method plug-ins…: a method file (asked for when ``path`` is None) loaded, its
        methods listed in the method panel and the file remembered. Returns the methods' names."""
        return plugin_setting.add_plugin(self, self.settings, self.method_panel.add_methods, self.say, path)

    def say(self, text: str, timeout_ms: int = 0) -> None:
        """The one status-bar message (issue 23: a label and a message drew over each other)."""
        self.statusBar().showMessage(text, timeout_ms)

    def log(self, text: str, level: str = "info") -> None:
        _run_log.log(
            logging.ERROR if level == "error" else logging.WARNING if level == "warning" else logging.INFO, "%s", text
        )
        prefix = "" if level == "info" else f"{level.upper()}: "
        self.log_view.appendPlainText(f"[{time.strftime('%H:%M:%S')}] {prefix}{text}")

    def _history_notes(self, notes: list) -> None:
        """A damaged history set aside or runs marked interrupted: told in the log and the status bar."""
        for note in notes:
            self.log(f"run history: {note}", "warning")
        self.statusBar().showMessage("Run history: " + " ".join(notes), 30_000)

    # -- closing -------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_running() and not errors.ask(
            self,
            "A run is in progress",
            "A run is still in progress. Cancel it and quit? Runs already finished stay in the history.",
        ):
            event.ignore()
            return
        self._closing = True
        self.tasks.shutdown(CLOSE_WAIT_S)  # the run stops at its next check; the engine marks it cancelled
        self.save_settings()
        for dialog in self._compare_dialogs:
            dialog.close()
        event.accept()


def _data_dict(config: DataConfig) -> dict:
    return {
        k: v
        for k, v in asdict(config).items()
        if v is not None and not (k == "fmt" and v == "auto") and not (k == "k_core" and v == 0)
    }
