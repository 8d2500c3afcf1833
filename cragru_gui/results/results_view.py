"""Results: every metric of a run with its 95 % interval and paired differences against base
and retrain, coloured good / bad / "not enough users to tell" by interval."""

from __future__ import annotations

import html

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.reporting.catalogue import entry_for, families_in
from core.reporting.judgement import EXPLANATIONS, LEGEND
from cragru_gui.common.glossary import HelpButton, explain, keys_html, show_glossary
from cragru_gui.common.table_models import KEY_ROLE
from cragru_gui.results.metric_table import VERDICT_COLOURS, VERDICT_MARKS, MetricTableModel
from cragru_gui.results.result_notes import NotesPanel, column_menu_button, result_sentences

CUTOFF_CHOICES = (("@10", "Cut-off @10"), ("", "All cut-offs"), ("@5", "Cut-off @5"), ("@20", "Cut-off @20"))


class MetricFilterProxy(QSortFilterProxyModel):
    """Keeps metric rows matching a cut-off (``@10``) and a text (on the row label)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.cutoff = "@10"
        self.text = ""

    def set_filter(self, cutoff: str, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            self.cutoff, self.text = cutoff, text.strip().lower()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.cutoff, self.text = cutoff, text.strip().lower()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        model = self.sourceModel()
        key = model.data(model.index(source_row, 0, source_parent), KEY_ROLE) if model.columnCount() else None
        if key is None:
            keys = model.metric_keys()
            key = keys[source_row] if source_row < len(keys) else ""
        if self.cutoff and "@" in key and not key.endswith(self.cutoff):
            return False
        if self.text:
            entry = entry_for(key)
            return any(self.text in text.lower() for text in (entry.label, entry.short, key))
        return True


def _swatch(colour, mark: str, text: str, tip: str) -> QLabel:
    label = QLabel(f"<span style='background:{colour.name()};'>&nbsp;{html.escape(mark)}&nbsp;</span> {text}")
    label.setProperty("role", "hint")
    label.setToolTip(tip)
    return label


class ResultsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.title = QLabel("No results yet: press Start, or open a run from History.", self)
        self.title.setObjectName("resultsTitle")
        self.title.setWordWrap(True)
        top.addWidget(self.title, 1)
        self.export_button = QPushButton("Export report…", self)
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip(
            "Save the report: HTML (charts, tables, request, configuration, with the "
            "metrics as CSV and JSON beside it) or the PDF audit report"
        )
        self.export_button.setEnabled(False)
        top.addWidget(self.export_button)
        self.receipt_button = QPushButton("Save receipt…", self)
        self.receipt_button.setObjectName("receiptButton")
        self.receipt_button.setToolTip(
            "Save the JSON receipt: fingerprints of the data and the request, who was "
            "forgotten, the verdicts and their evidence; check it later with "
            "cragru-run verify RECEIPT --data PATH"
        )
        self.receipt_button.setEnabled(False)
        top.addWidget(self.receipt_button)
        layout.addLayout(top)

        filters = QHBoxLayout()
        self.cutoff_combo = QComboBox(self)
        for value, label in CUTOFF_CHOICES:
            self.cutoff_combo.addItem(label, value)
        self.cutoff_combo.setToolTip("Show the metrics of one cut-off K, or all of them")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter metrics (e.g. similar, ndcg, attack)")
        self.search.setClearButtonEnabled(True)
        self.help_button = HelpButton("The figures of this run", opener=self.explain_all, parent=self)
        filters.addWidget(self.help_button)
        filters.addWidget(self.cutoff_combo)
        filters.addWidget(self.search, 1)
        self.columns_button = column_menu_button(self, self._columns_changed)
        filters.addWidget(self.columns_button)
        layout.addLayout(filters)
        legend = QHBoxLayout()  # a row of its own: the filter row stays narrow enough for 960 px
        for verdict, text in LEGEND.items():
            legend.addWidget(_swatch(VERDICT_COLOURS[verdict], VERDICT_MARKS[verdict], text, EXPLANATIONS[verdict]))
        legend.addStretch(1)
        layout.addLayout(legend)

        self._build_table()
        hint = QLabel(
            "Click a figure's name (left) or a column's name (top) for what it means — or “?” for all of them.", self
        )
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.notes = NotesPanel(self)
        self.split = QSplitter(Qt.Orientation.Vertical, self)  # the table gets the room; notes fold away
        self.split.setObjectName("resultsSplit")
        self.split.addWidget(self.table)
        self.split.addWidget(self.notes)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 0)
        self.split.setCollapsible(0, False)
        layout.addWidget(self.split, 1)

        self.cutoff_combo.currentIndexChanged.connect(self._refilter)
        self.search.textChanged.connect(self._refilter)

    def _build_table(self) -> None:
        self.model = MetricTableModel(self)
        self.proxy = MetricFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setObjectName("resultsTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip(
            "Each model's value with its 95 % interval [low, high], and its difference from "
            "base and from retrain (paired over the same users, with its interval). Colours "
            "judge closeness to the retrained model, the gold standard, by interval: "
            "“not enough users to tell” when the interval is wider than the tolerance "
            "(hover a cell for details)."
        )
        self.table.verticalHeader().setSectionsClickable(True)
        self.table.verticalHeader().sectionClicked.connect(self.explain_row)
        self.table.horizontalHeader().setSectionsClickable(True)
        self.table.horizontalHeader().sectionClicked.connect(self.explain_column)

    def explain_row(self, section: int) -> None:
        """The catalogue's explanation of the metric in row ``section`` (proxy order)."""
        key = self.model.metric_keys()[self.proxy.mapToSource(self.proxy.index(section, 0)).row()]
        explain(self, entry_for(key).short, keys_html([key]))

    def explain_column(self, section: int) -> None:
        col = self.model.column_spec(section)
        explain(self, f"Column “{col.header}”", f"<p>{html.escape(self.model.column_help(section))}</p>")

    def explain_all(self) -> None:
        """Every kind of figure this run shows (one per family), or the whole glossary before a run."""
        keys = [e.key for e in families_in(self.model.metric_keys())]
        if not keys:
            show_glossary(self)
            return
        explain(
            self,
            "The figures of this run",
            keys_html(keys, "Every kind of figure in this table, in plain words (shown at cut-off 10)."),
        )

    def _columns_changed(self) -> None:
        """Hide the kinds of column the person switched off (Columns ▾)."""
        shown = self.columns_button.shown()
        for column in range(self.model.columnCount()):
            self.table.setColumnHidden(column, self.model.column_spec(column).kind not in shown)

    def _refilter(self, *_args) -> None:
        self.proxy.set_filter(self.cutoff_combo.currentData(), self.search.text())

    def show_result(self, result) -> None:
        self.result = result
        self.model.set_result(result)
        self._refilter()
        ds = result.dataset.get("name", "?")
        req = result.request.get("description", "")
        device = result.environment.get("device", "")
        self.title.setText(
            f"<b>Run {result.run_id}</b> — {ds}; forgot {req} "
            f"({result.request.get('n_removed_rows', 0):,} training rows); {device}"
        )
        self.notes.set_sentences(result_sentences(result))
        self._columns_changed()
        self.export_button.setEnabled(True)
        self.receipt_button.setEnabled(True)

    def clear(self, text: str = "Running… results appear here when the run finishes.") -> None:
        self.result = None
        self.model.clear()
        self.title.setText(text)
        self.notes.set_sentences([])
        self.export_button.setEnabled(False)
        self.receipt_button.setEnabled(False)

    def stopped(self, text: str) -> None:
        """The run ended without a result (cancelled or failed)."""
        self.clear(f"<b>No results</b> — {html.escape(text)}")
