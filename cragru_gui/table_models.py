"""Qt table models: dataset users and items, the metrics of a run, the run history.

Each model serves the display text, a sort key under :data:`SORT_ROLE` (numbers sort
as numbers) and tooltips; views wrap them in :func:`make_proxy` for search and sorting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from cragru_gui import judgement

SORT_ROLE = Qt.ItemDataRole.UserRole
KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's identity (raw ID, metric key, run ID)

_Index = QModelIndex | QPersistentModelIndex

VERDICT_COLOURS = {
    judgement.GOOD: QColor("#dff3e4"),
    judgement.BAD: QColor("#fbe0de"),
    judgement.NEUTRAL: QColor("#fff5d6"),
}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sort_key(value: Any) -> Any:
    if _is_missing(value):
        return float("-inf")
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value).lower()


def _column_sort_keys(col: "Column") -> list[Any]:
    """Sort keys of one column, all of one type: IDs such as "2" < "10" sort as numbers."""
    keys = [_sort_key(v) for v in col.values]
    if keys and all(isinstance(k, str) for k in keys):
        try:
            return [float(k) for k in keys]
        except ValueError:
            return keys
    if any(isinstance(k, str) for k in keys):
        return ["" if _is_missing(v) else str(v).lower() for v in col.values]
    return keys


def format_number(value: Any, digits: int = 4) -> str:
    if _is_missing(value):
        return "—"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{float(value):.{digits}f}"
    return str(value)


def make_proxy(model: QAbstractTableModel, parent=None) -> QSortFilterProxyModel:
    """Case-insensitive search over every column, numeric sorting through :data:`SORT_ROLE`."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


# -- a generic column table ---------------------------------------------------------------
@dataclass
class Column:
    header: str
    values: Sequence[Any]
    tooltip: str = ""
    numeric: bool = False
    fmt: Callable[[Any], str] | None = None


class ColumnTableModel(QAbstractTableModel):
    """A read-only table given as columns of equal length; row keys identify rows."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._columns: list[Column] = []
        self._sort_keys: list[list[Any]] = []
        self._keys: Sequence[Any] = []

    def set_columns(self, columns: list[Column], keys: Sequence[Any]) -> None:
        n = len(keys)
        for col in columns:
            if len(col.values) != n:
                raise ValueError(f"column {col.header!r} has {len(col.values)} values, expected {n}")
        self.beginResetModel()
        self._columns = list(columns)
        self._sort_keys = [_column_sort_keys(col) for col in self._columns]
        self._keys = keys
        self.endResetModel()

    def clear(self) -> None:
        self.set_columns([], [])

    # -- Qt interface --------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._keys)) or not (
            0 <= index.column() < len(self._columns)
        ):
            return None
        col = self._columns[index.column()]
        value = col.values[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if col.fmt is not None:
                return col.fmt(value)
            return format_number(value) if col.numeric else ("" if _is_missing(value) else str(value))
        if role == SORT_ROLE:
            return self._sort_keys[index.column()][index.row()]
        if role == KEY_ROLE:
            return self._keys[index.row()]
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip or None
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._columns[section].header
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._columns[section].tooltip or None
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(
            self._keys
        ):
            return str(section + 1)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def key(self, row: int) -> Any:
        return self._keys[row]

    def keys(self) -> Sequence[Any]:
        return self._keys


# -- dataset tables -----------------------------------------------------------------------
def _meta_columns(meta, skip: set[str]) -> list[Column]:
    columns = []
    if meta is None:
        return columns
    for name in meta.columns:
        if name in skip:
            continue
        series = meta[name]
        numeric = series.dtype.kind in "if"
        if series.dtype.kind == "O":
            values = [", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v for v in series.tolist()]
        else:
            values = series.tolist()
        columns.append(Column(str(name).replace("_", " ").capitalize(), values, f"{name} (from the dataset)", numeric))
    return columns


class UserTableModel(ColumnTableModel):
    """One row per user: raw ID, interactions (all and in training), profile fields."""

    def set_dataset(self, dataset, train_counts: np.ndarray | None = None) -> None:
        counts = dataset.user_counts()
        columns = [
            Column("User ID", list(map(str, dataset.user_ids)), "the user's ID in the dataset file"),
            Column("Interactions", counts.tolist(), "all interactions of this user in the dataset", True),
        ]
        if train_counts is not None:
            columns.append(Column("In training", train_counts.tolist(),
                                  "interactions in the training split (0 = held-out outsider, cannot be forgotten)",
                                  True))
        columns += _meta_columns(dataset.user_meta, set())
        self.set_columns(columns, list(map(str, dataset.user_ids)))


class ItemTableModel(ColumnTableModel):
    """One row per item: raw ID, title, year, genres, popularity."""

    def set_dataset(self, dataset) -> None:
        meta = dataset.item_meta
        columns = [Column("Item ID", list(map(str, dataset.item_ids)), "the item's ID in the dataset file")]
        if meta is not None and "title" in meta:
            columns.append(Column("Title", [dataset.item_title(i) for i in range(dataset.n_items)], "item title"))
        if meta is not None and "year" in meta:
            years = [None if _is_missing(y) else int(y) for y in meta["year"].tolist()]
            columns.append(Column("Year", years, "release year", True, fmt=lambda y: "" if y is None else str(y)))
        if meta is not None and "genres" in meta:
            columns.append(Column("Genres", [", ".join(g) for g in dataset.item_genres()], "genres of the item"))
        columns.append(Column("Popularity", dataset.item_counts().tolist(),
                              "number of users who interacted with the item", True))
        columns += _meta_columns(meta, {"title", "year", "genres"})
        self.set_columns(columns, list(map(str, dataset.item_ids)))


# -- metrics of a run -------------------------------------------------------------------------
GROUP_LABELS = {"retain": "retained users", "forget": "forgotten users", "similar": "similar users"}
GROUP_HELP = {
    "retain": "users who were neither forgotten nor held out: utility should stay as with retraining",
    "forget": "the users whose data was removed: the model should behave as if it had never seen it",
    "similar": "retained users closest to the forgotten ones: where collateral damage shows first",
}
SCALAR_LABELS = {
    "mia_auc": ("membership inference AUC",
                "how well an attack separates forgotten users from never-seen users (retrain ≈ 0.5)"),
    "time_s": ("time (s)", "wall time of the unlearning step (training time for base)"),
    "speedup_vs_retrain": ("speed-up vs retrain", "retraining time ÷ this method's time (higher is faster)"),
}


def metric_label(key: str) -> tuple[str, str]:
    """(row label, tooltip) of a ``ModelReport.flat()`` key."""
    if key in SCALAR_LABELS:
        return SCALAR_LABELS[key]
    if key.startswith("forgotten_recall@"):
        k = key.split("@", 1)[1]
        return (f"forgotten-item recall@{k}",
                "share of each forgotten user's removed items still in their top-"
                f"{k} (target: the retrained model's value, not zero)")
    if "/" in key:
        group, metric = key.split("/", 1)
        return f"{GROUP_LABELS.get(group, group)} · {metric.upper() if metric.startswith('mrr') else metric}", \
            GROUP_HELP.get(group, "")
    return key, ""


def metric_order(keys: list[str]) -> list[str]:
    group_rank = {"retain": 0, "forget": 1, "similar": 2}
    metric_rank = {"hit": 0, "ndcg": 1, "recall": 2, "precision": 3, "mrr": 4}

    def rank(key: str):
        if "/" in key:
            group, metric = key.split("/", 1)
            name, _, k = metric.partition("@")
            return (group_rank.get(group, 3), metric_rank.get(name, 9), int(k) if k.isdigit() else 0, key)
        if key.startswith("forgotten_recall@"):
            return (4, 0, int(key.split("@")[1]), key)
        return (5, ("mia_auc", "time_s", "speedup_vs_retrain").index(key) if key in SCALAR_LABELS else 9, 0, key)

    return sorted(keys, key=rank)


@dataclass(frozen=True)
class MetricColumn:
    model: str
    kind: str  # "value", "delta_base" or "delta_retrain"
    header: str


class MetricTableModel(QAbstractTableModel):
    """Rows: every metric of a run. Columns: each model's value, then its deltas
    against base and against retrain; cells coloured by :func:`judgement.judge`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._keys: list[str] = []
        self._columns: list[MetricColumn] = []
        self._values: dict[str, dict[str, Any]] = {}
        self._deltas: dict[str, dict[str, dict[str, float]]] = {}
        self._labels: dict[str, str] = {}

    def set_result(self, result) -> None:
        self.beginResetModel()
        self._values = {name: report.flat() for name, report in result.models.items()}
        self._labels = {name: report.label for name, report in result.models.items()}
        self._deltas = {"delta_base": result.deltas("base"), "delta_retrain": result.deltas("retrain")}
        keys: list[str] = []
        for flat in self._values.values():
            keys += [k for k in flat if k not in keys]
        self._keys = metric_order(keys)
        columns = []
        for name in result.models:
            columns.append(MetricColumn(name, "value", name))
            if name != "base" and "base" in result.models:
                columns.append(MetricColumn(name, "delta_base", f"{name} Δ base"))
            if name not in ("base", "retrain") and "retrain" in result.models:
                columns.append(MetricColumn(name, "delta_retrain", f"{name} Δ retrain"))
        self._columns = columns
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._keys, self._columns, self._values, self._deltas = [], [], {}, {}
        self.endResetModel()

    def metric_keys(self) -> list[str]:
        return list(self._keys)

    def column_spec(self, column: int) -> MetricColumn:
        return self._columns[column]

    def cell_value(self, row: int, column: int) -> Any:
        key, col = self._keys[row], self._columns[column]
        if col.kind == "value":
            return self._values.get(col.model, {}).get(key)
        return self._deltas.get(col.kind, {}).get(col.model, {}).get(key)

    def verdict(self, row: int, column: int) -> str | None:
        key, col = self._keys[row], self._columns[column]
        if col.kind == "delta_base":
            return None
        value = self._values.get(col.model, {}).get(key)
        base = self._values.get("base", {}).get(key)
        retrain = self._values.get("retrain", {}).get(key)
        return judgement.judge(key, value, base, retrain, col.model)

    # -- Qt interface ------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._keys)) or not (
            0 <= index.column() < len(self._columns)
        ):
            return None
        row, column = index.row(), index.column()
        value = self.cell_value(row, column)
        col = self._columns[column]
        if role == Qt.ItemDataRole.DisplayRole:
            if _is_missing(value):
                return "—"
            key = self._keys[row]
            if key == "time_s" and col.kind == "value":
                return f"{value:.2f}"
            if key == "speedup_vs_retrain":
                return f"{value:.1f}×"
            return f"{value:+.4f}" if col.kind != "value" else f"{value:.4f}"
        if role == SORT_ROLE:
            return _sort_key(value)
        if role == KEY_ROLE:
            return self._keys[row]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            verdict = self.verdict(row, column)
            return QBrush(VERDICT_COLOURS[verdict]) if verdict in VERDICT_COLOURS else None
        if role == Qt.ItemDataRole.ToolTipRole:
            label, help_text = metric_label(self._keys[row])
            what = {"value": "value", "delta_base": "difference from base",
                    "delta_retrain": "difference from retrain"}[col.kind]
            verdict = judgement.explain(self.verdict(row, column))
            return f"{self._labels.get(col.model, col.model)} — {label}: {what}" + (f"\n{verdict}" if verdict else "") \
                + (f"\n{help_text}" if help_text else "")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            col = self._columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return {"value": f"{self._labels.get(col.model, col.model)}: measured value",
                        "delta_base": f"{col.model} minus base",
                        "delta_retrain": f"{col.model} minus retrain (0 = behaves exactly like retraining)"}[col.kind]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._keys):
            label, help_text = metric_label(self._keys[section])
            if role == Qt.ItemDataRole.DisplayRole:
                return label
            if role == Qt.ItemDataRole.ToolTipRole:
                return help_text or None
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


# -- run history ----------------------------------------------------------------------------
def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


class HistoryTableModel(ColumnTableModel):
    STATUS_TEXT = {"done": "done", "cancelled": "cancelled", "failed": "failed", "running": "running / interrupted"}

    def set_runs(self, runs) -> None:
        durations = [
            (r.finished_at - r.started_at) if r.finished_at and r.started_at else None for r in runs
        ]
        columns = [
            Column("Started", [r.started_at for r in runs], "when the run started", fmt=_when),
            Column("Status", [self.STATUS_TEXT.get(r.status, r.status) for r in runs],
                   "done runs can be opened; cancelled and failed runs keep no results"),
            Column("Dataset", [r.dataset for r in runs], "dataset path or 'demo'"),
            Column("Request", [r.request for r in runs], "what was forgotten (kind:selector)"),
            Column("Methods", [r.methods.replace(",", ", ") for r in runs], "unlearning methods of the run"),
            Column("Duration", durations, "wall time of the whole run", True,
                   fmt=lambda s: "" if s is None else f"{s:.1f} s"),
            Column("Run ID", [r.run_id for r in runs], "identifier in the history database"),
        ]
        self._status = [r.status for r in runs]
        self._errors = [r.error for r in runs]
        self.set_columns(columns, [r.run_id for r in runs])

    def status(self, row: int) -> str:
        return self._status[row]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() and 0 <= index.row() < len(self._keys):
            error = self._errors[index.row()]
            if error:
                return f"failed: {error}"
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and 0 <= index.row() < len(self._keys):
            status = self._status[index.row()]
            if status in ("failed", "cancelled", "running"):
                return QBrush(QColor("#8a8f98"))
            return None
        return super().data(index, role)
