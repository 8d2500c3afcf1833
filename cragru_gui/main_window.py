"""The main window: set-up on the left (Dataset / Forget / Method + run bar), what happened
on the right (Charts / Results / Inspector / History / Log).

It wires panels to the background workers and keeps one run at a time; it holds no
training or metric code — every number comes from ``core``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.config import DataConfig, ExperimentConfig
from core.errors import CragruError
from core.reporting.export import export_all
from core.reporting.story import result_story
from cragru_gui import errors
from cragru_gui.charts import MetricsChart
from cragru_gui.compare_view import CompareDialog
from cragru_gui.dataset_panel import DatasetPanel, describe_source
from cragru_gui.forget_panel import ForgetPanel
from cragru_gui.history_panel import HistoryPanel
from cragru_gui.method_panel import MethodPanel
from cragru_gui.resources import app_icon
from cragru_gui.results_view import ResultsView
from cragru_gui.run_bar import RunBar, format_duration
from cragru_gui.settings import Settings
from cragru_gui.user_inspector import UserInspector
from cragru_gui.worker import ExperimentWorker, FunctionWorker

APP_TITLE = "CRAGRU Studio"
_run_log = logging.getLogger("cragru_gui.run")
CLOSE_WAIT_S = 30.0


def choose_save_path(parent: QWidget | None, suggested: str) -> str | None:
    """Where to save the report (monkeypatchable in tests)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export report", suggested, "HTML report (*.html)")
    return path or None


def _load(data: dict):
    from core.data.loaders import load_dataset

    d = DataConfig(**data)
    return load_dataset(d.path, fmt=d.fmt, columns=d.columns, sep=d.sep,
                        implicit_threshold=d.implicit_threshold, k_core=d.k_core)


def _default_store():
    from core.history import RunStore

    return RunStore()


class MainWindow(QMainWindow):
    def __init__(self, *, settings: Settings | None = None, store_factory=_default_store, runner=None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(app_icon())
        self.settings = settings or Settings()
        self.store_factory = store_factory
        self.runner = runner
        self.dataset = None
        self.data_config: DataConfig | None = None
        self.result = None
        self.worker: ExperimentWorker | None = None
        self.loader: FunctionWorker | None = None
        self._pending_data: dict | None = None
        self._run_removed: dict = {}
        self._run_dataset = None
        self._compare_dialogs: list = []
        self._closing = False

        # -- left: set-up ------------------------------------------------------------------
        self.dataset_panel = DatasetPanel()
        self.forget_panel = ForgetPanel()
        self.method_panel = MethodPanel()
        self.setup_tabs = QTabWidget()
        self.setup_tabs.setObjectName("setupTabs")
        self.setup_tabs.addTab(self.dataset_panel, "1 · Dataset")
        self.setup_tabs.addTab(self.forget_panel, "2 · Forget")
        self.setup_tabs.addTab(self.method_panel, "3 · Method")
        self.setup_tabs.setTabToolTip(0, "Which data the recommender learns from")
        self.setup_tabs.setTabToolTip(1, "What must be forgotten: users, items or interactions")
        self.setup_tabs.setTabToolTip(2, "How to forget it, with which base model, on which device")
        self.run_bar = RunBar()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 3, 6)
        left_layout.addWidget(self.setup_tabs, 1)
        left_layout.addWidget(self.run_bar)

        # -- right: results ----------------------------------------------------------------
        self.charts = MetricsChart()
        self.results_view = ResultsView()
        self.inspector = UserInspector()
        self.history_panel = HistoryPanel(self.store_factory)
        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("logView")
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_view.setToolTip("What the engine reported, with times")
        self.output_tabs = QTabWidget()
        self.output_tabs.setObjectName("outputTabs")
        for widget, title, tip in (
            (self.charts, "Charts", "Live training curves and, per model, utility, memory, attack and cost"),
            (self.results_view, "Results", "Every metric, with differences against base and retrain"),
            (self.inspector, "Inspector", "One user's top-10 before and after unlearning"),
            (self.history_panel, "History", "Past runs: open, compare, delete"),
            (self.log_view, "Log", "Messages from the run"),
        ):
            self.output_tabs.addTab(widget, title)
            self.output_tabs.setTabToolTip(self.output_tabs.count() - 1, tip)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(3, 6, 6, 6)
        self.story = QLabel()
        self.story.setObjectName("storyLine")
        self.story.setProperty("role", "info")
        self.story.setWordWrap(True)
        right_layout.addWidget(self.story)
        right_layout.addWidget(self.output_tabs, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([470, 1130])
        self.setCentralWidget(self.splitter)
        self.status_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self._make_menus()

        # -- wiring -----------------------------------------------------------------------------
        self.dataset_panel.loadRequested.connect(self.load_dataset)
        self.forget_panel.requestChanged.connect(self._inputs_changed)
        self.method_panel.changed.connect(self._inputs_changed)
        self.run_bar.startRequested.connect(self.start_run)
        self.run_bar.cancelRequested.connect(self.cancel_run)
        self.results_view.export_button.clicked.connect(lambda: self.export_report())
        self.history_panel.openRequested.connect(self.open_run)
        self.history_panel.compareRequested.connect(self.compare_runs)

        self._restore_settings()
        self.history_panel.refresh()
        self._update_story()
        self._update_ready()

    # -- menus --------------------------------------------------------------------------------
    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        demo = QAction("Open the &demo dataset", self)
        demo.triggered.connect(lambda: self.load_dataset({"path": "demo"}))
        folder = QAction("Open dataset &folder…", self)
        folder.setShortcut(QKeySequence("Ctrl+Shift+O"))
        folder.triggered.connect(self.dataset_panel.choose_folder)
        file_ = QAction("&Open dataset file…", self)
        file_.setShortcut(QKeySequence.StandardKey.Open)
        file_.triggered.connect(self.dataset_panel.choose_file)
        self.export_action = QAction("&Export report…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setEnabled(False)
        self.export_action.triggered.connect(lambda: self.export_report())
        quit_ = QAction("&Quit", self)
        quit_.setShortcut(QKeySequence.StandardKey.Quit)
        quit_.triggered.connect(self.close)
        for action in (demo, folder, file_):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_)
        run_menu = self.menuBar().addMenu("&Run")
        self.start_action = QAction("&Start", self)
        self.start_action.triggered.connect(self.start_run)
        self.cancel_action = QAction("&Cancel", self)
        self.cancel_action.triggered.connect(self.cancel_run)
        run_menu.addAction(self.start_action)
        run_menu.addAction(self.cancel_action)
        help_menu = self.menuBar().addMenu("&Help")
        logs = QAction("Open the &log folder", self)
        logs.triggered.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(errors.log_dir()))))
        about = QAction("&About CRAGRU Studio", self)
        about.triggered.connect(self._about)
        help_menu.addAction(logs)
        help_menu.addAction(about)

    def _about(self) -> None:
        import core

        QMessageBox.about(
            self, "About CRAGRU Studio",
            f"<b>CRAGRU Studio</b> {getattr(core, '__version__', '')}<br>"
            "Forget users, items or interactions from a recommender and measure what it still "
            "remembers and who else was hurt.<br><br>Logs: " + str(errors.log_dir()))

    # -- settings ---------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 960)
        state = self.settings.get_json("window/splitter")
        if isinstance(state, list) and len(state) == 2:
            self.splitter.setSizes([int(s) for s in state])
        params = self.settings.parameters()
        self.method_panel.restore(params.get("method", {}))
        self._saved_forget_state = params.get("forget", {})
        self.forget_panel.restore(self._saved_forget_state)
        self.dataset_panel.set_recent(self.settings.recent_datasets())

    def save_settings(self) -> None:
        self.settings.save_window(self.saveGeometry(), self.saveState())
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

    # -- dataset -----------------------------------------------------------------------------------
    def load_dataset(self, data: dict) -> None:
        """Load off the UI thread; the current dataset stays until the new one is ready."""
        if self.is_running():
            errors.show_error(self, "Run in progress", "Wait for the run to finish (or cancel it) before "
                                                       "opening another dataset.")
            return
        if self.loader is not None and self.loader.is_running():
            self._pending_data = dict(data)  # loaded next, once the current load ends
            return
        data = {k: v for k, v in data.items() if v is not None}
        what = describe_source(data)
        self.dataset_panel.set_loading(True, what)
        self._log(f"loading {data.get('path')}")
        self.status_label.setText(f"Loading {what}…")
        loader = FunctionWorker(_load, data)
        loader.data = data
        # bound methods of this (GUI-thread) object: queued onto the GUI thread. Never lambdas here:
        # a lambda would run on the worker thread.
        loader.returned.connect(self._on_loader_returned)
        loader.errored.connect(self._on_loader_errored)
        loader.finished.connect(self._loader_finished)
        self.loader = loader
        loader.start()

    def _on_loader_returned(self, dataset) -> None:
        self._dataset_loaded(self.loader.data, dataset)

    def _on_loader_errored(self, exc: BaseException) -> None:
        self._dataset_failed(self.loader.data, exc)

    def _loader_finished(self) -> None:
        self.dataset_panel.set_loading(False)
        if self.loader is not None:
            self.loader.wait(2000)
        pending, self._pending_data = self._pending_data, None
        if pending is not None and not self._closing:
            QTimer.singleShot(0, lambda: self.load_dataset(pending))

    def _dataset_loaded(self, data: dict, dataset) -> None:
        self.dataset = dataset
        self.result = None
        self.data_config = DataConfig(**data)
        self.dataset_panel.show_dataset(dataset)
        self.forget_panel.set_dataset(dataset)
        if self._saved_forget_state:
            self.forget_panel.restore(self._saved_forget_state)
            self._saved_forget_state = {}
        self.settings.remember_dataset(_data_dict(self.data_config))
        self.dataset_panel.set_recent(self.settings.recent_datasets())
        s = dataset.summary()
        self.status_label.setText(f"{s.name}: {s.n_users:,} users · {s.n_items:,} items · "
                                  f"{s.n_interactions:,} interactions")
        self._log(f"dataset {s.name}: {s.n_users} users, {s.n_items} items, {s.n_interactions} interactions")
        self.setWindowTitle(f"{APP_TITLE} — {s.name}")
        self._update_ready()
        self._update_story()

    def _dataset_failed(self, data: dict, exc: BaseException) -> None:
        message = errors.user_message(exc)
        self.dataset_panel.show_problem(f"Could not open {data.get('path')}: {message}")
        self.status_label.setText("The dataset could not be opened." if self.dataset is None else
                                  f"Kept {self.dataset.name}: the new dataset could not be opened.")
        self._log(f"could not open {data.get('path')}: {message}", "error")
        errors.report_exception(self, exc, "Cannot open the dataset")

    # -- run ------------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def build_config(self) -> ExperimentConfig:
        if self.dataset is None or self.data_config is None:
            raise CragruError("open a dataset first (Dataset panel)")
        if not self.forget_panel.is_valid():
            raise CragruError(self.forget_panel.error or "the forget request is not valid")
        config = ExperimentConfig(
            data=self.data_config,
            split=self.forget_panel.split_config(),
            model=self.method_panel.model_config(),
            request=self.forget_panel.request(),
            methods=self.method_panel.choices(),
            device=self.method_panel.device(),
            use_cache=self.method_panel.use_cache(),
            mia=self.method_panel.mia(),
        )
        config.validate()
        return config

    def _inputs_changed(self) -> None:
        self._update_ready()
        if not self.is_running():
            self._update_story()

    def _update_ready(self) -> None:
        reason = ""
        if not self.method_panel.methods_ready:
            reason = "Loading the unlearning methods…"
        elif self.dataset is None:
            reason = "Open a dataset to begin."
        elif not self.forget_panel.is_valid():
            reason = "Choose what to forget (Forget panel)."
        elif not self.method_panel.selected_methods():
            reason = "Tick at least one method (Method panel)."
        ready = not reason
        self.run_bar.set_ready(ready, reason)
        self.start_action.setEnabled(ready and not self.is_running())
        self.cancel_action.setEnabled(self.is_running())


    def _update_story(self) -> None:
        """One sentence at the top saying what this run will do (or did)."""
        if self.dataset is None:
            self.story.setText("Open a dataset (the demo is a good start), choose what to forget, pick methods, "
                               "then press <b>Start</b>.")
            return
        req = self.forget_panel.resolved
        methods = ", ".join(self.method_panel.entries[m].spec.label for m in self.method_panel.selected_methods())
        if req is None:
            self.story.setText(f"<b>{self.dataset.name}</b> loaded. Choose what to forget in the Forget panel.")
            return
        self.story.setText(
            f"<b>{self.dataset.name}</b>: forget <b>{req.request.describe()}</b> "
            f"({len(req.removed_rows):,} training interactions) with <b>{methods or 'no method yet'}</b>, "
            "then compare with the base model: what it still remembers, and who else was hurt.")

    def start_run(self) -> None:
        if self.is_running():
            return
        try:
            config = self.build_config()
        except CragruError as exc:
            errors.report_exception(self, exc, "Cannot start the run")
            return
        self.save_settings()
        self._run_removed = self.forget_panel.removed_items_by_user()
        self._run_dataset = self.dataset
        self.charts.reset(mia_enabled=config.mia)
        self.results_view.clear()
        self.inspector.clear()
        self.result = None
        self.export_action.setEnabled(False)
        self._log(f"— run started: {config.request.describe()} with "
                  f"{', '.join(m.name for m in config.methods)} on {config.model.name} "
                  f"(max {config.model.epochs} epochs, device {config.device})")
        worker = ExperimentWorker(config, store=self.store_factory(), dataset=self.dataset, runner=self.runner)
        worker.stage.connect(self._on_stage)
        worker.progress.connect(self.run_bar.set_progress)
        worker.metric.connect(self.charts.add_metric)
        worker.model_result.connect(self._on_model_result)
        worker.attack_result.connect(self._on_attack_result)
        worker.log.connect(self._log)
        worker.returned.connect(self._run_done)
        worker.errored.connect(self._run_failed)
        worker.cancelled.connect(self._run_cancelled)
        worker.finished.connect(self._run_finished)
        self.worker = worker
        self._set_inputs_enabled(False)
        self.run_bar.set_running(True)
        self.output_tabs.setCurrentWidget(self.charts)
        worker.start()
        self._update_ready()

    def cancel_run(self) -> None:
        if self.is_running():
            self.worker.quit()
            self.run_bar.set_cancelling()
            self._log("cancel requested")

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.dataset_panel, self.forget_panel, self.method_panel):
            widget.setEnabled(enabled)

    def _on_stage(self, name: str, index: int, total: int) -> None:
        self.run_bar.set_stage(name, index, total)
        self._log(f"[{index}/{total}] {name}")

    def _on_attack_result(self, event) -> None:
        self.charts.add_attack_result(event)
        self._log(f"{event.model}: {event.attack} AUC {event.value:.3f}")

    def _on_model_result(self, event) -> None:
        self.charts.add_model_result(event)
        if "retain" in event.groups:
            g = event.groups
            self._log(f"{event.model}: NDCG@10 retained {g['retain'].get('ndcg@10', float('nan')):.4f}, "
                      f"forgotten {g.get('forget', {}).get('ndcg@10', float('nan')):.4f}, "
                      f"similar {g.get('similar', {}).get('ndcg@10', float('nan')):.4f}")

    def _run_done(self, result) -> None:
        self.result = result
        self.results_view.show_result(result)
        self.inspector.set_run(result, self._run_dataset, self._run_removed)
        self.export_action.setEnabled(True)
        took = format_duration(result.finished_at - result.started_at) if result.finished_at else "?"
        self.run_bar.progress_bar.setValue(self.run_bar.progress_bar.maximum())
        self._finish_message = "Done. See Results and Inspector for the details."
        self.story.setText(result_story(result))
        self._log(f"— run {result.run_id} finished in {took}")

    def _run_failed(self, exc: BaseException) -> None:
        self._finish_message = f"Failed: {errors.user_message(exc)}"
        self._log(f"run failed: {errors.user_message(exc)}", "error")
        if not self._closing:
            errors.report_exception(self, exc, "The run failed")

    def _run_cancelled(self) -> None:
        self._finish_message = "Cancelled. Nothing from this run was stored as a result."
        self._log("— run cancelled")

    def _run_finished(self) -> None:
        message = getattr(self, "_finish_message", "Finished.")
        if self.worker is not None:
            self.worker.wait(5000)
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
        same = self.dataset is not None and self.dataset.fingerprint() == result.dataset.get("fingerprint")
        removed = self._removed_for(result) if same else {}
        self.charts.show_result(result)
        self.results_view.show_result(result)
        self.inspector.set_run(result, self.dataset if same else None, removed)
        self.export_action.setEnabled(True)
        self.output_tabs.setCurrentWidget(self.results_view)
        self.story.setText(result_story(result))
        note = "" if same else " (its dataset is not the one loaded: items are shown by index)"
        self.statusBar().showMessage(f"Showing stored run {run_id}{note}", 15000)

    def _removed_for(self, result) -> dict:
        """The run's removed items per user, recomputed from its configuration (cheap)."""
        try:
            import numpy as np

            from core.forget_request import resolve_request
            from core.split import make_split

            config = ExperimentConfig.from_dict(result.config)
            split = make_split(self.dataset, config.split)
            resolved = resolve_request(self.dataset, split, config.request)
            users, items = self.dataset.users[resolved.removed_rows], self.dataset.items[resolved.removed_rows]
            return {int(u): items[users == u] for u in np.unique(users)}
        except Exception:  # noqa: BLE001 - highlighting is a nicety
            return {}

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
    def export_report(self, path: str | None = None) -> list[Path]:
        if self.result is None:
            errors.show_error(self, "Nothing to export", "Run an experiment or open one from History first.")
            return []
        if path is None:
            stamp = time.strftime("%Y%m%d-%H%M", time.localtime(self.result.started_at or time.time()))
            path = choose_save_path(self, str(Path.home() / f"cragru-report-{stamp}.html"))
            if not path:
                return []
        try:
            written = export_all(self.result, path, self.charts.png_images())
        except OSError as exc:
            errors.report_exception(self, exc, "Cannot write the report")
            return []
        self.statusBar().showMessage("Wrote " + ", ".join(p.name for p in written), 15000)
        self._log("exported " + ", ".join(str(p) for p in written))
        return written

    # -- log ---------------------------------------------------------------------------------------------
    def _log(self, text: str, level: str = "info") -> None:
        _run_log.log(logging.ERROR if level == "error" else logging.WARNING if level == "warning" else logging.INFO,
                     "%s", text)
        stamp = time.strftime("%H:%M:%S")
        prefix = "" if level == "info" else f"{level.upper()}: "
        self.log_view.appendPlainText(f"[{stamp}] {prefix}{text}")

    # -- closing -------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_running():
            if not errors.ask(self, "A run is in progress",
                              "A run is still in progress. Cancel it and quit? Runs already finished stay "
                              "in the history."):
                event.ignore()
                return
            self._closing = True
            self.worker.quit()
            self._wait_for(self.worker)
        self._closing = True
        if self.loader is not None and self.loader.is_running():
            self._wait_for(self.loader)
        if self.method_panel._loader is not None and self.method_panel._loader.is_running():
            self._wait_for(self.method_panel._loader)
        self.save_settings()
        for dialog in self._compare_dialogs:
            dialog.close()
        event.accept()

    @staticmethod
    def _wait_for(worker) -> None:
        deadline = time.monotonic() + CLOSE_WAIT_S
        while worker.is_running() and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            worker.wait(50)
        QCoreApplication.processEvents()


def _data_dict(config: DataConfig) -> dict:
    return {k: v for k, v in asdict(config).items() if v is not None and not (k == "fmt" and v == "auto")
            and not (k == "k_core" and v == 0)}
