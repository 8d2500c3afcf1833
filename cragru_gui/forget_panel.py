"""Forget panel: what to forget — users, items or interactions — and how much of the data that is.

Quick selectors map to :class:`core.forget_request.ForgetRequest`; picking rows in the
user or item table makes an ``ids`` request. The request's size is shown live through
``make_split`` + ``resolve_request`` (cheap), and an invalid request shows its
RequestError message as a banner in the panel.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import CragruError
from core.forget_request import ForgetRequest, resolve_request
from core.split import SplitConfig, make_split
from cragru_gui.table_models import ItemTableModel, UserTableModel, make_proxy

KIND_LABELS = (("users", "Users"), ("items", "Items"), ("interactions", "Interactions"))
SELECTOR_LABELS = {
    "users": (("random", "Random share of users"), ("core", "Most active users (core)"),
              ("edge", "Least active users (edge)"), ("ids", "Users chosen in the table")),
    "items": (("random", "Random share of items"), ("popular", "Most popular items"),
              ("genre", "Every item of a genre"), ("ids", "Items chosen in the table")),
    "interactions": (("random", "Random share of training interactions"),),
}
SELECTOR_HELP = {
    "random": "a random share, drawn with the seed below",
    "core": "the most active users (CURE4Rec's 'core' users): large profiles, hard to forget",
    "edge": "the least active users (CURE4Rec's 'edge' users)",
    "popular": "the most interacted-with items",
    "genre": "every item tagged with the chosen genre",
    "ids": "exactly the rows you select in the table (Ctrl/Shift-click for several)",
}


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


class ForgetPanel(QWidget):
    requestChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("forgetPanel")
        self.dataset = None
        self.split = None
        self.resolved = None
        self.error: str | None = None
        self._split_key = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        box = QGroupBox("What should the model forget?", self)
        form = QFormLayout(box)
        self.kind_combo = QComboBox(box)
        self.kind_combo.setObjectName("kindCombo")
        for kind, label in KIND_LABELS:
            self.kind_combo.addItem(label, kind)
        self.kind_combo.setToolTip("Users: delete whole profiles. Items: delete everything about some items. "
                                   "Interactions: delete single user–item records.")
        form.addRow("Forget:", self.kind_combo)
        self.selector_combo = QComboBox(box)
        self.selector_combo.setObjectName("selectorCombo")
        form.addRow("Choose:", self.selector_combo)
        self.percent_spin = QDoubleSpinBox(box)
        self.percent_spin.setObjectName("percentSpin")
        self.percent_spin.setRange(0.1, 99.0)
        self.percent_spin.setDecimals(1)
        self.percent_spin.setSingleStep(1.0)
        self.percent_spin.setSuffix(" %")
        self.percent_spin.setValue(5.0)
        self.percent_spin.setToolTip("Share of the eligible users / items / training interactions to forget")
        form.addRow("Share:", self.percent_spin)
        self.genre_combo = QComboBox(box)
        self.genre_combo.setObjectName("genreCombo")
        self.genre_combo.setToolTip("Every item with this genre is forgotten")
        form.addRow("Genre:", self.genre_combo)
        self.seed_spin = QSpinBox(box)
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setRange(0, 2_000_000_000)
        self.seed_spin.setToolTip("Seed of the train/valid/test split and of random selections: the same seed "
                                  "gives the same split, request and numbers")
        buttons = QHBoxLayout()
        buttons.addWidget(self.seed_spin, 1)
        self.clear_button = QPushButton("Clear", box)
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setToolTip("Clear the table selection and go back to 5 % random users")
        buttons.addWidget(self.clear_button)
        form.addRow("Seed:", buttons)
        layout.addWidget(box)

        self.summary = QLabel("No dataset loaded.", self)
        self.summary.setObjectName("requestSummary")
        self.summary.setProperty("role", "requestSummary")
        self.summary.setWordWrap(True)
        self.summary.setToolTip("What this request removes from the training data (valid and test rows are "
                                "never removed: they stay as ground truth)")
        layout.addWidget(self.summary)
        self.banner = QLabel(self)
        self.banner.setObjectName("requestBanner")
        self.banner.setProperty("role", "banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)

        self.tabs = QTabWidget(self)
        self.user_model = UserTableModel(self)
        self.item_model = ItemTableModel(self)
        self.user_table = SearchableTable(self.user_model, "Search users (ID, age, occupation…)", self)
        self.item_table = SearchableTable(self.item_model, "Search items (title, year, genre…)", self)
        self.user_table.view.setObjectName("userTable")
        self.item_table.view.setObjectName("itemTable")
        self.tabs.addTab(self.user_table, "Users")
        self.tabs.addTab(self.item_table, "Items")
        self.tabs.setTabToolTip(0, "Select users here to forget exactly them")
        self.tabs.setTabToolTip(1, "Select items here to forget exactly them")
        layout.addWidget(self.tabs, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.refresh)
        self._fill_selectors()
        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self.selector_combo.currentIndexChanged.connect(self._on_selector)
        self.percent_spin.valueChanged.connect(self._schedule)
        self.genre_combo.currentIndexChanged.connect(self._schedule)
        self.seed_spin.valueChanged.connect(self._schedule)
        self.clear_button.clicked.connect(self.clear)
        self.user_table.view.selectionModel().selectionChanged.connect(lambda *_: self._table_selected("users"))
        self.item_table.view.selectionModel().selectionChanged.connect(lambda *_: self._table_selected("items"))
        self._on_selector()

    # -- controls ----------------------------------------------------------------------
    def kind(self) -> str:
        return self.kind_combo.currentData()

    def selector(self) -> str:
        return self.selector_combo.currentData()

    def _fill_selectors(self) -> None:
        self.selector_combo.blockSignals(True)
        current = self.selector_combo.currentData()
        self.selector_combo.clear()
        for selector, label in SELECTOR_LABELS[self.kind()]:
            self.selector_combo.addItem(label, selector)
            self.selector_combo.setItemData(self.selector_combo.count() - 1, SELECTOR_HELP[selector],
                                            Qt.ItemDataRole.ToolTipRole)
        index = self.selector_combo.findData(current)
        self.selector_combo.setCurrentIndex(max(0, index))
        self.selector_combo.blockSignals(False)

    def _on_kind(self) -> None:
        self._fill_selectors()
        self._on_selector()

    def _on_selector(self) -> None:
        selector = self.selector()
        self.percent_spin.setEnabled(selector in ("random", "core", "edge", "popular"))
        self.genre_combo.setEnabled(selector == "genre" and self.genre_combo.count() > 0)
        self.selector_combo.setToolTip(SELECTOR_HELP.get(selector, ""))
        if selector == "ids":
            self.tabs.setCurrentWidget(self.user_table if self.kind() == "users" else self.item_table)
        self._schedule()

    def _table_selected(self, kind: str) -> None:
        table = self.user_table if kind == "users" else self.item_table
        if table.selected_keys():
            self._set_combo(self.kind_combo, kind)
            self._set_combo(self.selector_combo, "ids")
        self._schedule()

    @staticmethod
    def _set_combo(combo: QComboBox, value) -> None:
        index = combo.findData(value)
        if index >= 0 and combo.currentIndex() != index:
            combo.setCurrentIndex(index)

    def _schedule(self, *_args) -> None:
        self._timer.start()

    def clear(self) -> None:
        for table in (self.user_table, self.item_table):
            table.view.clearSelection()
            table.search.clear()
        self._set_combo(self.kind_combo, "users")
        self._set_combo(self.selector_combo, "random")
        self.percent_spin.setValue(5.0)
        self.refresh()

    # -- data -----------------------------------------------------------------------------
    def split_config(self) -> SplitConfig:
        return SplitConfig(seed=self.seed_spin.value())

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.split = None
        self._split_key = None
        self._ensure_split()
        train_counts = dataset.user_counts(self.split.train) if self.split is not None else None
        self.user_model.set_dataset(dataset, train_counts)
        self.item_model.set_dataset(dataset)
        self.user_table.resize_columns()
        self.item_table.resize_columns()
        self.genre_combo.blockSignals(True)
        self.genre_combo.clear()
        self.genre_combo.addItems(dataset.all_genres())
        self.genre_combo.blockSignals(False)
        self._on_selector()
        self.refresh()

    def _ensure_split(self) -> None:
        if self.dataset is None:
            return
        config = self.split_config()
        key = (id(self.dataset), config)
        if key != self._split_key:
            self.split = make_split(self.dataset, config)
            self._split_key = key

    def request(self) -> ForgetRequest:
        """The request the controls describe (static checks only; ``refresh`` resolves it)."""
        kind, selector, seed = self.kind(), self.selector(), self.seed_spin.value()
        if selector == "ids":
            table = self.user_table if kind == "users" else self.item_table
            return ForgetRequest(kind, "ids", 0.0, ids=tuple(table.selected_keys()), seed=seed)
        if selector == "genre":
            return ForgetRequest(kind, "genre", 0.0, genre=self.genre_combo.currentText(), seed=seed)
        return ForgetRequest(kind, selector, round(self.percent_spin.value() / 100.0, 6), seed=seed)

    def refresh(self) -> None:
        """Resolve the request against the split and show its size, or the error."""
        self._timer.stop()
        self.resolved, self.error = None, None
        if self.dataset is None:
            self.summary.setText("No dataset loaded.")
            self.banner.hide()
            self.requestChanged.emit()
            return
        try:
            self._ensure_split()
            request = self.request()
            if request.selector == "ids" and not request.ids:
                what = "users" if request.kind == "users" else "items"
                raise _Hint(f"Select {what} in the table below (Ctrl- or Shift-click for several).")
            self.resolved = resolve_request(self.dataset, self.split, request)
        except _Hint as hint:
            self.error = str(hint)
        except CragruError as exc:
            self.error = str(exc)
        if self.error:
            self.banner.setText(self.error)
            self.banner.show()
            self.summary.setText("Nothing will be forgotten until the request is valid.")
        else:
            self.banner.hide()
            self.summary.setText(self.summary_text())
        self.requestChanged.emit()

    def summary_text(self) -> str:
        r = self.resolved
        if r is None or self.split is None:
            return ""
        n_train = len(self.split.train)
        share = len(r.removed_rows) / max(1, n_train)
        if r.request.kind == "users":
            head = f"Forgetting {len(r.target_users):,} users"
        elif r.request.kind == "items":
            head = f"Forgetting {len(r.target_items):,} items"
        else:
            head = f"Forgetting {len(r.removed_rows):,} interactions"
        return (f"<b>{head}</b> — {len(r.removed_rows):,} training interactions "
                f"(<b>{share:.1%}</b> of the training data), touching {len(r.forget_users):,} users "
                f"and {len(r.forget_items):,} items.")

    def is_valid(self) -> bool:
        return self.resolved is not None

    # -- settings ------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"kind": self.kind(), "selector": self.selector(), "percent": self.percent_spin.value(),
                "genre": self.genre_combo.currentText(), "seed": self.seed_spin.value()}

    def restore(self, state: dict) -> None:
        if not state:
            return
        self._set_combo(self.kind_combo, state.get("kind", "users"))
        if state.get("selector") != "ids":
            self._set_combo(self.selector_combo, state.get("selector", "random"))
        if isinstance(state.get("percent"), (int, float)):
            self.percent_spin.setValue(float(state["percent"]))
        if state.get("genre"):
            index = self.genre_combo.findText(state["genre"])
            if index >= 0:
                self.genre_combo.setCurrentIndex(index)
        if isinstance(state.get("seed"), int):
            self.seed_spin.setValue(state["seed"])
        self._schedule()

    # -- helpers for tests and scripts -------------------------------------------------------------
    def select_users(self, raw_ids) -> None:
        self.user_table.select_keys(raw_ids)
        self.refresh()

    def select_items(self, raw_ids) -> None:
        self.item_table.select_keys(raw_ids)
        self.refresh()

    def removed_items_by_user(self) -> dict[int, np.ndarray]:
        """user index → item indices of that user's removed training rows (for the inspector)."""
        if self.resolved is None or self.dataset is None:
            return {}
        rows = self.resolved.removed_rows
        users, items = self.dataset.users[rows], self.dataset.items[rows]
        return {int(u): items[users == u] for u in np.unique(users)}


class _Hint(Exception):
    """Not an error yet: the person still has to pick something."""
