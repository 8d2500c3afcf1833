"""The Results table: every metric of a run, each model's value and its deltas, coloured.

Values carry their 95 % user-bootstrap interval and the deltas are the paired differences
with theirs, where the run's evidence has them (:meth:`core.result.ModelReport.figure`). Row
labels, tooltips and number formats come from the metric catalogue; colours from
:func:`core.reporting.judgement.judge_report` (by interval, "not enough users to tell"
included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from core.reporting import judgement
from core.reporting.catalogue import TARGET_SENTENCES, entry_for, ordered_keys
from core.reporting.intervals import difference_text, value_text
from cragru_gui.common.run_notes import sampled_models
from cragru_gui.common.table_models import KEY_ROLE, SORT_ROLE, KeyedTableModel, TableIndex, sort_key

VERDICT_COLOURS = {  # tints told apart under red-green colour blindness (blue / orange), never alone:
    judgement.GOOD: QColor("#d4e9f7"),  # every coloured cell also starts with its VERDICT_MARKS sign
    judgement.BAD: QColor("#fbd9bd"),
    judgement.NEUTRAL: QColor("#f6f0c8"),
    judgement.UNSURE: QColor("#e6e6e6"),
}
VERDICT_MARKS = {judgement.GOOD: "✓", judgement.BAD: "✗", judgement.NEUTRAL: "≈", judgement.UNSURE: "?"}
"""The second cue beside each tint (issue 23): the verdict read without colour."""
KIND_TEXT = {"value": "value", "delta_base": "difference from base", "delta_retrain": "difference from retrain"}
REFERENCE = {"delta_base": "base", "delta_retrain": "retrain"}
INTERVAL_NOTE = (
    "[low, high] is the 95 % interval: resampling the evaluated users (bootstrap), the figure "
    "falls in this range 95 times out of 100. Differences are paired over the same users."
)


@dataclass(frozen=True)
class MetricColumn:
    model: str
    kind: str  # "value", "delta_base" or "delta_retrain"
    header: str


def metric_columns(models, sampled=()) -> list[MetricColumn]:
    """Each model's value, then its difference from base and (methods only) from retrain; a
    model measured on a user sample says so in its value column's header."""
    columns = []
    for name in models:
        columns.append(MetricColumn(name, "value", f"{name} (user sample)" if name in sampled else name))
        if name != "base" and "base" in models:
            columns.append(MetricColumn(name, "delta_base", f"{name} Δ base"))
        if name not in ("base", "retrain") and "retrain" in models:
            columns.append(MetricColumn(name, "delta_retrain", f"{name} Δ retrain"))
    return columns


class MetricTableModel(KeyedTableModel):
    """Rows: every metric of a run. Columns: each model's value, then its deltas
    against base and against retrain; cells coloured by :func:`judgement.judge`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._keys: list[str] = []  # metric keys, one per row
        self._columns: list[MetricColumn] = []
        self._values: dict[str, dict[str, Any]] = {}
        self._deltas: dict[str, dict[str, dict[str, float]]] = {}
        self._labels: dict[str, str] = {}
        self._reports: dict = {}
        self._sampled: dict[str, str] = {}

    def set_result(self, result) -> None:
        self.beginResetModel()
        self._reports = dict(result.models)
        self._values = {name: report.flat() for name, report in result.models.items()}
        self._labels = {name: report.label for name, report in result.models.items()}
        self._deltas = {"delta_base": result.deltas("base"), "delta_retrain": result.deltas("retrain")}
        self._keys = ordered_keys(key for flat in self._values.values() for key in flat)
        self._sampled = sampled_models(result)
        self._columns = metric_columns(result.models, self._sampled)
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._keys, self._columns, self._values, self._deltas, self._reports = [], [], {}, {}, {}
        self.endResetModel()

    def metric_keys(self) -> list[str]:
        return list(self._keys)

    def column_spec(self, column: int) -> MetricColumn:
        return self._columns[column]

    def column_help(self, column: int) -> str:
        """What a column holds, in a sentence or two (its "?")."""
        col = self._columns[column]
        text = {
            "value": f"{self._labels.get(col.model, col.model)}: each figure as measured, with its 95 % "
            "interval where the run has one.",
            "delta_base": f"{col.model} minus the original model (base), trained on all data.",
            "delta_retrain": f"{col.model} minus the retrained model, the target: 0 means it behaves "
            "exactly like retraining.",
        }[col.kind]
        note = self._sampled.get(col.model)
        return " ".join(
            [text, INTERVAL_NOTE]
            + ([f"This model was {note}; base and retrain are compared on the same users."] if note else [])
        )

    def cell_value(self, row: int, column: int) -> Any:
        key, col = self._keys[row], self._columns[column]
        if col.kind == "value":
            return self._values.get(col.model, {}).get(key)
        return self._deltas.get(col.kind, {}).get(col.model, {}).get(key)

    def judged(self, row: int, column: int) -> judgement.Judgement:
        """The cell's judgement: the value's and the Δ-retrain cell's; Δ-base cells are not judged."""
        key, col = self._keys[row], self._columns[column]
        if col.kind == "delta_base":
            return judgement.NOT_JUDGED
        return judgement.judge_report(key, self._reports, col.model)

    def verdict(self, row: int, column: int) -> str | None:
        return self.judged(row, column).verdict

    def cell_text(self, row: int, column: int) -> str:
        key, col = self._keys[row], self._columns[column]
        entry, report = entry_for(key), self._reports.get(col.model)
        value = self.cell_value(row, column)
        if col.kind == "value":
            return value_text(entry, report, value)
        paired = report.figure(key).versus(REFERENCE[col.kind]) if report is not None else None
        return difference_text(entry, paired, value)

    def cell_tooltip(self, row: int, column: int) -> str:
        entry, col = entry_for(self._keys[row]), self._columns[column]
        reason = self.judged(row, column).reason
        lines = [
            f"{self._labels.get(col.model, col.model)} — {entry.label}: {KIND_TEXT[col.kind]}",
            self.cell_text(row, column),
        ]
        if "[" in lines[1]:
            lines.append(INTERVAL_NOTE)
        return "\n".join(lines + ([reason] if reason else []) + [entry.explanation])

    # -- Qt interface ------------------------------------------------------------------------
    def data(self, index: TableIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        cell = self.cell(index)
        if cell is None:
            return None
        row, column = cell
        if role == Qt.ItemDataRole.DisplayRole:
            mark = VERDICT_MARKS.get(self.verdict(row, column))
            return f"{mark} {self.cell_text(row, column)}" if mark else self.cell_text(row, column)
        if role == SORT_ROLE:
            return sort_key(self.cell_value(row, column))
        if role == KEY_ROLE:
            return self._keys[row]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            verdict = self.verdict(row, column)
            return QBrush(VERDICT_COLOURS[verdict]) if verdict in VERDICT_COLOURS else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.cell_tooltip(row, column)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            col = self._columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.column_help(section) + "\n(Click the header for this explanation in a window.)"
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._keys):
            entry = entry_for(self._keys[section])
            if role == Qt.ItemDataRole.DisplayRole:
                return entry.short
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{entry.label}\n{entry.explanation}\n{TARGET_SENTENCES[entry.target]}"
        return None
