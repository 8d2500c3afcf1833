"""History: past runs from the run store — open one, compare two, delete."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cragru_gui import errors
from cragru_gui.common.table_models import HistoryTableModel, make_proxy


class HistoryPanel(QWidget):
    openRequested = Signal(str)
    compareRequested = Signal(str, str)
    notesFound = Signal(list)
    """What opening the history did (a damaged file set aside, runs marked interrupted)."""

    def __init__(self, store_factory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self._store_factory = store_factory
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter runs (dataset, method, status…)")
        self.search.setClearButtonEnabled(True)
        top.addWidget(self.search, 1)
        self.open_button = QPushButton("Open", self)
        self.open_button.setToolTip("Show the selected run's charts, results and per-user lists (double-click)")
        self.compare_button = QPushButton("Compare two", self)
        self.compare_button.setToolTip("Select two finished runs (Ctrl-click) to see them side by side")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip("Remove the selected runs from the history")
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("Reload the list from the history database")
        for b in (self.open_button, self.compare_button, self.delete_button, self.refresh_button):
            top.addWidget(b)
        layout.addLayout(top)
        self.model = HistoryTableModel(self)
        self.proxy = make_proxy(self.model, self)
        self.view = QTableView(self)
        self.view.setObjectName("historyTable")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().hide()
        self.view.setAlternatingRowColors(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.view, 1)
        self.hint = QLabel(
            "Every run is recorded here, including cancelled and failed ones (they keep no results).", self
        )
        self.hint.setProperty("role", "hint")
        self.hint.setTextFormat(Qt.TextFormat.PlainText)  # notes name paths: never rich text
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)

        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.open_button.clicked.connect(self._open)
        self.view.doubleClicked.connect(lambda *_: self._open())
        self.compare_button.clicked.connect(self._compare)
        self.delete_button.clicked.connect(self._delete)
        self.refresh_button.clicked.connect(self.refresh)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def store(self):
        return self._store_factory()

    def refresh(self) -> None:
        notes: list[str] = []
        try:
            store = self.store()
            notes = list(getattr(store, "notes", ()))
            runs = store.list()
        except Exception as exc:  # noqa: BLE001 - an unreadable database is shown, not fatal
            self.hint.setText(f"Cannot read the run history: {exc}")
            runs = []
        if notes:
            self.hint.setText("\n".join(notes))
            self.notesFound.emit(notes)
        self.model.set_runs(runs)
        self._update_buttons()

    def selected(self) -> list[tuple[str, str]]:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})
        return [(self.model.key(r), self.model.status(r)) for r in rows]

    def select_runs(self, run_ids) -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        wanted = set(run_ids)
        selection = QItemSelection()
        for row in range(self.model.rowCount()):
            if self.model.key(row) in wanted:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(index, index)
        self.view.selectionModel().select(
            selection, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )

    def _update_buttons(self, *_args) -> None:
        chosen = self.selected()
        done = [r for r, s in chosen if s == "done"]
        openable = [r for r, s in chosen if s in HistoryTableModel.OPENABLE]
        self.open_button.setEnabled(len(chosen) == 1 and len(openable) == 1)
        self.compare_button.setEnabled(len(done) == 2 and len(chosen) == 2)
        self.delete_button.setEnabled(bool(chosen))

    def _open(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            run_id, status = chosen[0]
            if status not in HistoryTableModel.OPENABLE:
                errors.show_error(self, "No results", f"Run {run_id} has no results (status: {status}).")
                return
            self.openRequested.emit(run_id)

    def _compare(self) -> None:
        chosen = [r for r, s in self.selected() if s == "done"]
        if len(chosen) == 2:
            self.compareRequested.emit(chosen[0], chosen[1])

    def _delete(self) -> None:
        chosen = [r for r, _ in self.selected()]
        if not chosen:
            return
        what = f"run {chosen[0]}" if len(chosen) == 1 else f"{len(chosen)} runs"
        if not errors.ask(self, "Delete runs", f"Delete {what} from the history? This cannot be undone."):
            return
        store = self.store()
        for run_id in chosen:
            store.delete(run_id)
        self.refresh()
