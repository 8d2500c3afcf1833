"""A search box over a sortable, multi-select table: the forget panel's user and item lists."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cragru_gui.common.table_models import make_proxy


class SearchableTable(QWidget):
    """A search box over a sortable, multi-select table (model → proxy → view)."""

    def __init__(self, model, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = make_proxy(model, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(placeholder)
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Type to filter the rows (matches any column)")
        self.count = QLabel(self)
        self.count.setProperty("role", "hint")
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        layout.addLayout(top)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.view, 1)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.view.selectionModel().selectionChanged.connect(self._update_count)

    def _update_count(self, *_args) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        selected = len(self.selected_keys())
        text = f"{shown:,} of {total:,}" if shown != total else f"{total:,} rows"
        self.count.setText(text + (f" · {selected:,} selected" if selected else ""))

    def selected_keys(self) -> list[str]:
        rows = {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()}
        return [self.model.key(r) for r in sorted(rows)]

    def select_keys(self, keys) -> None:
        wanted = set(map(str, keys))
        selection = QItemSelection()
        for row in range(self.model.rowCount()):
            if self.model.key(row) in wanted:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                if index.isValid():
                    selection.select(index, index)
        self.view.selectionModel().select(
            selection,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )

    def resize_columns(self) -> None:
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for c in range(self.model.columnCount()):
            header.resizeSection(c, min(header.sectionSize(c), 260))
