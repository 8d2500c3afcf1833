"""The Sweep tab: many ordinary experiments from one grid, run by ``core.sweeps`` on Ray (or
in this process), each cell shown as it finishes, then the series over seeds plotted against
request size; and a Stream page (:mod:`cragru_gui.sweep.stream_view`) beside it.

Everything runs through the window's one :class:`~cragru_gui.worker.TaskRunner` (kinds
``sweep`` and ``stream``); the grid, the cells, the engine and the series are ``core``'s.
The data is the window's loaded dataset and split (the Dataset and Forget panels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import CragruError
from core.events import CellFinished, Dispatcher
from core.reporting.catalogue import entry_for
from core.sweeps.engine import RayOptions, SweepReport, finished_result, run_sweep
from core.sweeps.grid import Cell, Grid
from core.sweeps.sweep_command import write_summary
from cragru_gui import errors
from cragru_gui.sweep.stream_view import StreamView
from cragru_gui.sweep.sweep_plots import SweepPlots
from cragru_gui.sweep.sweep_setup import SweepSetup

KIND = "sweep"
FIGURE_KEYS = ("retain/ndcg@10", "forgotten_recall@10", "time_s")  # the key figures of a finished cell
COLUMNS = (
    "Method",
    "Model",
    "Request",
    "Size",
    "Seed",
    "Status",
    "Seconds",
    *(entry_for(k).short for k in FIGURE_KEYS),
)
STATUS_COLUMN = COLUMNS.index("Status")


def default_out() -> Path:
    """Under the app's data folder: one folder for every sweep (cells are named by their settings)."""
    from core.paths import data_dir

    return data_dir() / "sweeps"


def sweep_task(grid: Grid, out: Path, executor: str, options: RayOptions, store=None):
    """The task function: ``run_sweep`` on the task's sinks (each finished cell goes out with
    its result, read back from its JSON), then ``summary.json`` / ``sweep.svg`` and the series."""
    cells = {c.cell_id: c for c in grid.cells}

    def run(task):
        def cell_over(event: CellFinished) -> None:
            cell = cells[event.cell_id]
            result = finished_result(out, cell) if event.status in ("done", "skipped") else None
            task.emit((event, result))

        on_event = Dispatcher({CellFinished: cell_over})

        report = run_sweep(
            grid.cells,
            out,
            executor=executor,
            ray_options=options,
            store=store,
            on_event=on_event,
            should_stop=task.should_stop,
        )
        return report, write_summary(grid, report, out)

    return run


class CellTable(QTableWidget):
    """One row per cell, filled in as the cells finish."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("sweepCells")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.rows: dict[str, int] = {}

    def set_cells(self, cells: tuple[Cell, ...]) -> None:
        self.setRowCount(len(cells))
        self.rows = {c.cell_id: i for i, c in enumerate(cells)}
        for i, cell in enumerate(cells):
            for j, text in enumerate(
                (
                    cell.variant,
                    cell.model,
                    cell.request,
                    f"{cell.size:g}",
                    str(cell.seed),
                    "waiting",
                    "",
                    *[""] * len(FIGURE_KEYS),
                )
            ):
                self.setItem(i, j, QTableWidgetItem(text))
            self.item(i, 0).setToolTip(cell.cell_id)

    def finish(self, cell: Cell, event: CellFinished, result) -> None:
        row = self.rows[cell.cell_id]
        self.item(row, STATUS_COLUMN).setText(event.status)
        self.item(row, STATUS_COLUMN).setToolTip(event.error)
        self.item(row, STATUS_COLUMN + 1).setText(f"{event.seconds:.1f}" if event.seconds else "")
        if result is not None and cell.method in result.models:
            flat = result.models[cell.method].flat()
            for j, key in enumerate(FIGURE_KEYS):
                self.item(row, STATUS_COLUMN + 2 + j).setText(entry_for(key).format(flat.get(key)))
        self.scrollToItem(self.item(row, 0))

    def statuses(self) -> list[str]:
        return [self.item(i, STATUS_COLUMN).text() for i in range(self.rowCount())]


class SweepTab(QWidget):
    """Set-up on the left; Sweep (cells + series) and Stream pages on the right."""

    def __init__(
        self,
        tasks,
        workspace,
        store_factory: Callable | None = None,
        on_finished: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sweepTab")
        self.tasks, self.workspace = tasks, workspace
        self.store_factory, self._on_finished = store_factory, on_finished
        self.grid: Grid | None = None
        self.report: SweepReport | None = None
        self.series: list = []
        self.setup = SweepSetup(default_out())
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.setup)
        self.stream_view = StreamView(tasks, self._stream_config, lambda: self.setup.options()["out"])
        self.pages = QTabWidget()
        self.pages.setObjectName("sweepPages")
        self.pages.addTab(self._sweep_page(), "Sweep")
        self.pages.addTab(self.stream_view, "Stream")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(scroll)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        scroll.setMinimumWidth(300)  # a narrow window scrolls the tab sideways rather than crushing the form
        splitter.setCollapsible(0, False)
        splitter.setSizes([380, 900])
        QVBoxLayout(self).addWidget(splitter)
        self.stream_view.busyChanged.connect(self._busy)
        tasks.start(
            "sweep_methods",
            lambda task: _list_methods(),
            on_done=self.setup.populate,
            on_error=lambda exc: self.status.setText(f"No methods: {errors.user_message(exc)}"),
        )

    def _sweep_page(self) -> QWidget:
        page = QWidget()
        self.start_button = QPushButton("Start sweep")
        self.start_button.setObjectName("sweepStart")
        self.start_button.setToolTip("Run every cell not already finished in the results folder")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sweepCancel")
        self.cancel_button.setToolTip("Cells not started yet are cancelled; finished ones stay")
        self.cancel_button.setEnabled(False)
        self.status = QLabel(
            "Build a grid on the left: every request size × method × base model × seed is one "
            "ordinary experiment, stored in the history."
        )
        self.status.setObjectName("sweepStatus")
        self.status.setWordWrap(True)
        self.table = CellTable()
        self.plots = SweepPlots()
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.status, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.plots)
        split.setSizes([260, 440])
        layout = QVBoxLayout(page)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        return page

    # -- what the grid is built on ------------------------------------------------------------------
    def _data(self):
        state = self.workspace.state
        if state.data_config is None:
            raise CragruError("open a dataset first (Dataset panel): the sweep runs on it")
        return state.data_config, state.split_config

    def build_grid(self) -> Grid:
        """The grid of the set-up on the loaded dataset and split; raises ConfigError when incomplete."""
        return self.setup.grid(*self._data())

    def _stream_config(self, size: float):
        return self.setup.stream_config(*self._data(), size)

    # -- running ----------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.tasks.is_running(KIND):
            return
        try:
            grid, where = self.build_grid(), self.setup.options()
        except CragruError as exc:
            self.status.setText(f"Cannot start the sweep: {errors.user_message(exc)}")
            return
        self.grid, self.report, self.series = grid, None, []
        self.table.set_cells(grid.cells)
        self.plots.clear()
        self.status.setText(
            f"{len(grid.cells)} cells on {self.setup.executor_combo.currentText().lower()}; results in {where['out']}"
        )
        store = self.store_factory() if self.store_factory is not None else None
        task = sweep_task(grid, where["out"], where["executor"], RayOptions(address=where["address"]), store)
        self.tasks.start(
            KIND,
            task,
            on_event=self._cell_finished,
            on_done=self._done,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            on_finished=self._finished,
        )
        self._busy(True)
        self.cancel_button.setEnabled(True)

    def cancel(self) -> None:
        if self.tasks.is_running(KIND):
            self.tasks.cancel(KIND)
            self.status.setText("Cancelling: cells not started yet are dropped…")

    def _cell_finished(self, payload) -> None:
        event, result = payload
        cell = next(c for c in self.grid.cells if c.cell_id == event.cell_id)
        self.table.finish(cell, event, result)
        self.status.setText(
            f"[{event.index}/{event.total}] {cell.variant} · {cell.request} {cell.size:g} · "
            f"seed {cell.seed}: {event.status}"
        )

    def _done(self, value) -> None:
        self.report, self.series = value
        self.plots.show_series(self.series)
        counts = {s: len(self.report.by_status(s)) for s in ("done", "skipped", "failed", "cancelled")}
        self.status.setText(
            ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            + f" in {self.report.wall_s:.1f} s. Lines: mean over seeds, bars: 95 % interval."
        )

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"The sweep failed: {errors.user_message(exc)}")
        errors.report_exception(self, exc, "The sweep failed")

    def _cancelled(self) -> None:
        self.status.setText("Sweep cancelled.")

    def _finished(self) -> None:
        self._busy(False)
        self.cancel_button.setEnabled(False)
        if self._on_finished is not None:
            self._on_finished()

    def _busy(self, busy: bool) -> None:
        """One sweep or stream at a time from this tab; the set-up is frozen meanwhile."""
        self.setup.setEnabled(not busy)
        self.start_button.setEnabled(not busy)
        self.stream_view.start_button.setEnabled(not busy)


def _list_methods():
    from core.methods.registry import list_methods

    return list_methods()
