"""Qt table models: dataset users and items, and the run history (the metrics of a run
are in :mod:`cragru_gui.results.metric_table`).

Each model serves the display text, a sort key under :data:`SORT_ROLE` (numbers sort
as numbers) and tooltips; views wrap them in :func:`make_proxy` for search and sorting.
All of them, and the Results table, share :class:`KeyedTableModel`'s read-only Qt boilerplate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from core.reporting.numbers import format_plain, is_finite

SORT_ROLE = Qt.ItemDataRole.UserRole
KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's identity (raw ID, metric key, run ID)

TableIndex = QModelIndex | QPersistentModelIndex


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and not is_finite(value))


def sort_key(value: Any) -> Any:
    """Numbers as floats (missing ones first), booleans as 0/1, text lower-cased."""
    if _is_missing(value):
        return float("-inf")
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value).lower()


def _column_sort_keys(col: "Column") -> list[Any]:
    """Sort keys of one column, all of one type: IDs such as "2" < "10" sort as numbers."""
    keys = [sort_key(v) for v in col.values]
    if keys and all(isinstance(k, str) for k in keys):
        try:
            return [float(k) for k in keys]
        except ValueError:
            return keys
    if any(isinstance(k, str) for k in keys):
        return ["" if _is_missing(v) else str(v).lower() for v in col.values]
    return keys


def make_proxy(model: QAbstractTableModel, parent=None) -> QSortFilterProxyModel:
    """Case-insensitive search over every column, numeric sorting through :data:`SORT_ROLE`."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


class KeyedTableModel(QAbstractTableModel):
    """The Qt boilerplate every read-only table here shares: one row per entry of ``_keys``,
    one column per entry of ``_columns``, cells selectable and never editable."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._keys: Sequence[Any] = []
        self._columns: list = []

    def rowCount(self, parent: TableIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: TableIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def cell(self, index: TableIndex) -> tuple[int, int] | None:
        """``(row, column)`` of an index inside the table; None for an invalid or stale one."""
        row, column = index.row(), index.column()
        if index.isValid() and 0 <= row < len(self._keys) and 0 <= column < len(self._columns):
            return row, column
        return None

    def flags(self, index: TableIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


# -- a generic column table ---------------------------------------------------------------
@dataclass
class Column:
    header: str
    values: Sequence[Any]
    tooltip: str = ""
    numeric: bool = False
    fmt: Callable[[Any], str] | None = None


class ColumnTableModel(KeyedTableModel):
    """A read-only table given as columns of equal length; row keys identify rows."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._columns: list[Column] = []
        self._sort_keys: list[list[Any]] = []

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
    def data(self, index: TableIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self.cell(index) is None:
            return None
        col = self._columns[index.column()]
        value = col.values[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if col.fmt is not None:
                return col.fmt(value)
            return format_plain(value) if col.numeric else ("" if _is_missing(value) else str(value))
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
        if (
            orientation == Qt.Orientation.Vertical
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self._keys)
        ):
            return str(section + 1)
        return None

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
            columns.append(
                Column(
                    "In training",
                    train_counts.tolist(),
                    "interactions in the training split (0 = held-out outsider, cannot be forgotten)",
                    True,
                )
            )
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
        columns.append(
            Column("Popularity", dataset.item_counts().tolist(), "number of users who interacted with the item", True)
        )
        columns += _meta_columns(meta, {"title", "year", "genres"})
        self.set_columns(columns, list(map(str, dataset.item_ids)))


# -- run history ----------------------------------------------------------------------------
def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


class HistoryTableModel(ColumnTableModel):
    STATUS_TEXT = {
        "done": "done",
        "partial": "ended early — partial results",
        "cancelled": "cancelled",
        "failed": "failed",
        "running": "running / interrupted",
    }
    OPENABLE = ("done", "partial")

    def set_runs(self, runs) -> None:
        statuses = [r.status if r.status == "done" or not r.has_result else "partial" for r in runs]
        durations = [(r.finished_at - r.started_at) if r.finished_at and r.started_at else None for r in runs]
        columns = [
            Column("Started", [r.started_at for r in runs], "when the run started", fmt=_when),
            Column(
                "Status",
                [self.STATUS_TEXT.get(s, s) for s in statuses],
                "done runs can be opened, and so can a run that ended early with the models that finished "
                "before it; other cancelled and failed runs keep no results",
            ),
            Column("Dataset", [r.dataset for r in runs], "dataset path or 'demo'"),
            Column("Request", [r.request for r in runs], "what was forgotten (kind:selector)"),
            Column("Methods", [r.methods.replace(",", ", ") for r in runs], "unlearning methods of the run"),
            Column(
                "Duration",
                durations,
                "wall time of the whole run",
                True,
                fmt=lambda s: "" if s is None else f"{s:.1f} s",
            ),
            Column("Run ID", [r.run_id for r in runs], "identifier in the history database"),
        ]
        self._status = statuses
        self._errors = [r.error for r in runs]
        self.set_columns(columns, [r.run_id for r in runs])

    def status(self, row: int) -> str:
        return self._status[row]

    def data(self, index: TableIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        inside = self.cell(index) is not None
        if role == Qt.ItemDataRole.ToolTipRole and inside:
            error = self._errors[index.row()]
            if error:
                return f"failed: {error}"
        if role == Qt.ItemDataRole.ForegroundRole and inside:
            status = self._status[index.row()]
            if status in ("failed", "cancelled", "running", "partial"):
                return QBrush(QColor("#8a8f98"))
            return None
        return super().data(index, role)
