"""Forget panel: what to forget — users, items or interactions — on which split, and how much that is.

Quick selectors map to :class:`core.forget_request.ForgetRequest`; picking rows in the
user or item table makes an ``ids`` request. The split's mode, outsider share and seed are
a form built from :data:`core.split.SPLIT_PARAMS`. The panel hands both to the
:class:`~core.workspace.Workspace`, which resolves them off the GUI thread; the size it
reports is shown live, and an invalid request shows its message as a banner.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import ConfigError
from core.forget_request import ForgetRequest
from core.split import SPLIT_PARAMS, SplitConfig
from core.workspace import Change, Workspace, WorkspaceState
from cragru_gui.common.param_form import ParamForm
from cragru_gui.common.run_notes import forgotten_users_sentence
from cragru_gui.common.searchable_table import SearchableTable
from cragru_gui.common.table_models import ItemTableModel, UserTableModel

KIND_LABELS = (("users", "Users"), ("items", "Items"), ("interactions", "Interactions"))
SELECTOR_LABELS = {
    "users": (
        ("random", "Random share of users"),
        ("core", "Most active users (core)"),
        ("edge", "Least active users (edge)"),
        ("ids", "Users chosen in the table"),
    ),
    "items": (
        ("random", "Random share of items"),
        ("popular", "Most popular items"),
        ("genre", "Every item of a genre"),
        ("ids", "Items chosen in the table"),
    ),
    "interactions": (("random", "Random share of training interactions"),),
}
SELECTOR_HELP = {
    "random": "a random share, drawn with the split's seed",
    "core": "the most active users (CURE4Rec's 'core' users): large profiles, hard to forget",
    "edge": "the least active users (CURE4Rec's 'edge' users)",
    "popular": "the most interacted-with items",
    "genre": "every item tagged with the chosen genre",
    "ids": "exactly the rows you select in the table (Ctrl/Shift-click for several)",
}


def summary_text(state: WorkspaceState) -> str:
    """What the resolved request removes, in one sentence."""
    r, split = state.resolved, state.split
    if r is None or split is None:
        return ""
    share = len(r.removed_rows) / max(1, len(split.train))
    if r.request.kind == "users":
        head = f"Forgetting {len(r.target_users):,} users"
    elif r.request.kind == "items":
        head = f"Forgetting {len(r.target_items):,} items"
    else:
        head = f"Forgetting {len(r.removed_rows):,} interactions"
    text = (
        f"<b>{head}</b> — {len(r.removed_rows):,} training interactions "
        f"(<b>{share:.1%}</b> of the training data), touching {len(r.forget_users):,} users "
        f"and {len(r.forget_items):,} items."
    )
    who = forgotten_users_sentence(
        r.request.kind, len(r.forget_users), state.dataset.n_users if state.dataset is not None else None
    )
    return f"{text} {html.escape(who)}" if who else text


class ForgetPanel(QWidget):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("forgetPanel")
        self.workspace = workspace
        self._tables_for = None  # (id of the dataset, split config) the user table's counts belong to
        self._saved_state: dict = {}  # restored settings, applied again once genres are known
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._request_box())
        self.split_box = QGroupBox("How the data is split", self)
        self.split_box.setToolTip("Train / valid / test per user; outsiders are held out of every training set")
        self.split_form = ParamForm(SPLIT_PARAMS, self.split_box)
        QVBoxLayout(self.split_box).addWidget(self.split_form)
        layout.addWidget(self.split_box)
        self.summary = QLabel("No dataset loaded.", self)
        self.summary.setObjectName("requestSummary")
        self.summary.setProperty("role", "requestSummary")
        self.summary.setWordWrap(True)
        self.summary.setToolTip(
            "What this request removes from the training data (valid and test rows are "
            "never removed: they stay as ground truth)"
        )
        layout.addWidget(self.summary)
        self.banner = QLabel(self)
        self.banner.setObjectName("requestBanner")
        self.banner.setProperty("role", "banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        layout.addWidget(self._tables(), 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.refresh)
        self._fill_selectors()
        self._connect()
        self.workspace.subscribe(self._on_workspace)
        self._on_selector()

    def _request_box(self) -> QGroupBox:
        box = QGroupBox("What should the model forget?", self)
        form = QFormLayout(box)
        self.kind_combo = QComboBox(box)
        self.kind_combo.setObjectName("kindCombo")
        for kind, label in KIND_LABELS:
            self.kind_combo.addItem(label, kind)
        self.kind_combo.setToolTip(
            "Users: delete whole profiles. Items: delete everything about some items. "
            "Interactions: delete single user–item records."
        )
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
        self.clear_button = QPushButton("Clear", box)
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setToolTip("Clear the table selection and go back to 5 % random users")
        form.addRow(self.clear_button)
        return box

    def _tables(self) -> QTabWidget:
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
        return self.tabs

    def _connect(self) -> None:
        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self.selector_combo.currentIndexChanged.connect(self._on_selector)
        self.percent_spin.valueChanged.connect(self._schedule)
        self.genre_combo.currentIndexChanged.connect(self._schedule)
        self.split_form.changed.connect(self._schedule)
        self.clear_button.clicked.connect(self.clear)
        self.user_table.view.selectionModel().selectionChanged.connect(lambda *_: self._table_selected("users"))
        self.item_table.view.selectionModel().selectionChanged.connect(lambda *_: self._table_selected("items"))

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
            self.selector_combo.setItemData(
                self.selector_combo.count() - 1, SELECTOR_HELP[selector], Qt.ItemDataRole.ToolTipRole
            )
        self.selector_combo.setCurrentIndex(max(0, self.selector_combo.findData(current)))
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
            _set_combo(self.kind_combo, kind)
            _set_combo(self.selector_combo, "ids")
        self._schedule()

    def _schedule(self, *_args) -> None:
        self._timer.start()

    def clear(self) -> None:
        for table in (self.user_table, self.item_table):
            table.view.clearSelection()
            table.search.clear()
        _set_combo(self.kind_combo, "users")
        _set_combo(self.selector_combo, "random")
        self.percent_spin.setValue(5.0)
        self.refresh()

    # -- what the controls describe ----------------------------------------------------------
    def split_config(self) -> SplitConfig:
        return SplitConfig(**self.split_form.values())

    def request(self) -> ForgetRequest:
        """The request the controls describe (static checks only; the workspace resolves it)."""
        kind, selector, seed = self.kind(), self.selector(), self.split_config().seed
        if selector == "ids":
            table = self.user_table if kind == "users" else self.item_table
            return ForgetRequest(kind, "ids", 0.0, ids=tuple(table.selected_keys()), seed=seed)
        if selector == "genre":
            return ForgetRequest(kind, "genre", 0.0, genre=self.genre_combo.currentText(), seed=seed)
        return ForgetRequest(kind, selector, round(self.percent_spin.value() / 100.0, 6), seed=seed)

    def refresh(self) -> None:
        """Hand the split settings and the request to the workspace (it resolves them)."""
        self._timer.stop()
        try:
            self.workspace.set_split(self.split_config())
        except ConfigError as exc:
            self.workspace.set_request(None, hint=str(exc))
            return
        request = self.request()
        if request.selector == "ids" and not request.ids:
            what = "users" if request.kind == "users" else "items"
            self.workspace.set_request(
                None, hint=f"Select {what} in the table below (Ctrl- or Shift-click for several)."
            )
        else:
            self.workspace.set_request(request)

    def is_valid(self) -> bool:
        return self.workspace.state.ready

    # -- what the workspace says ---------------------------------------------------------------
    def _on_workspace(self, change: Change) -> None:
        state = change.state
        if change.what == "dataset":
            self._show_dataset(state.dataset)
        elif change.what == "prepared":
            self._show_prepared(state)
        elif change.what == "preparing":
            self.summary.setText("Working out what this request removes…")

    def _show_dataset(self, dataset) -> None:
        self._tables_for = None
        self.user_model.set_dataset(dataset, None)
        self.item_model.set_dataset(dataset)
        self.user_table.resize_columns()
        self.item_table.resize_columns()
        self.genre_combo.blockSignals(True)
        self.genre_combo.clear()
        self.genre_combo.addItems(dataset.all_genres())
        self.genre_combo.blockSignals(False)
        if self._saved_state:
            state, self._saved_state = self._saved_state, {}
            self.restore(state)
        self._on_selector()
        self.refresh()

    def _show_prepared(self, state: WorkspaceState) -> None:
        if state.dataset is None:
            self.summary.setText("No dataset loaded.")
            self.banner.hide()
            return
        if state.split is not None and self._tables_for != (id(state.dataset), state.split_config):
            self._tables_for = (id(state.dataset), state.split_config)
            selected = self.user_table.selected_keys()
            self.user_model.set_dataset(state.dataset, state.dataset.user_counts(state.split.train))
            self.user_table.resize_columns()
            if selected:
                self.user_table.select_keys(selected)
        if state.error:
            self.banner.setText(state.error)
            self.banner.show()
            self.summary.setText("Nothing will be forgotten until the request is valid.")
        else:
            self.banner.hide()
            self.summary.setText(summary_text(state))

    # -- settings ------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "kind": self.kind(),
            "selector": self.selector(),
            "percent": self.percent_spin.value(),
            "genre": self.genre_combo.currentText(),
            "split": self.split_form.raw_values(),
        }

    def restore(self, state: dict) -> None:
        if not state:
            return
        if self.workspace.state.dataset is None:
            self._saved_state = dict(state)  # applied again once the first dataset's genres are known
        _set_combo(self.kind_combo, state.get("kind", "users"))
        if state.get("selector") != "ids":
            _set_combo(self.selector_combo, state.get("selector", "random"))
        if isinstance(state.get("percent"), (int, float)):
            self.percent_spin.setValue(float(state["percent"]))
        if state.get("genre"):
            index = self.genre_combo.findText(state["genre"])
            if index >= 0:
                self.genre_combo.setCurrentIndex(index)
        if isinstance(state.get("split"), dict):
            self.split_form.set_values(state["split"])
        self._schedule()

    def select_users(self, raw_ids) -> None:
        """Select these users in the table and ask for them (scripts and tests)."""
        self.user_table.select_keys(raw_ids)
        self.refresh()


def _set_combo(combo: QComboBox, value) -> None:
    index = combo.findData(value)
    if index >= 0 and combo.currentIndex() != index:
        combo.setCurrentIndex(index)
