"""Two stored runs side by side: their set-up and every @10 metric of every model (with its
95 % interval where the run has one)."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.reporting.catalogue import entry_for, ordered_keys
from core.reporting.intervals import value_text

RUN_COLOURS = ("#eef5fc", "#fff4e8")


def describe_run(result) -> str:
    when = datetime.fromtimestamp(result.started_at).strftime("%Y-%m-%d %H:%M") if result.started_at else ""
    cfg = result.config
    model = cfg.get("model", {})
    methods = ", ".join(m.get("name", "?") for m in cfg.get("methods", []))
    e = lambda value: html.escape(str(value))  # noqa: E731 - names and descriptions come from files
    return (
        f"<b>{e(result.run_id)}</b> ({when})<br>dataset: {e(result.dataset.get('name', '?'))} · "
        f"forgot {e(result.request.get('description', '?'))} ({result.request.get('n_removed_rows', 0):,} rows)<br>"
        f"model: {e(model.get('name', '?'))}, {e(model.get('epochs', '?'))} epochs max · methods: {e(methods)}<br>"
        f"device: {e(result.environment.get('device', '?'))}"
    )


def comparison_rows(a, b, cutoff: str = "@10") -> tuple[list[str], list[tuple[str, str]]]:
    """(metric keys, columns as (run label, model)) for two results."""
    keys: list[str] = []
    for result in (a, b):
        for report in result.models.values():
            keys += list(report.flat())
    keys = [k for k in ordered_keys(keys) if "@" not in k or k.endswith(cutoff)]
    columns = [("A", name) for name in a.models] + [("B", name) for name in b.models]
    return keys, columns


class CompareDialog(QDialog):
    def __init__(self, a, b, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare runs {a.run_id} and {b.run_id}")
        self.setObjectName("compareDialog")
        layout = QVBoxLayout(self)
        heads = QHBoxLayout()
        for tag, result, colour in (("A", a, RUN_COLOURS[0]), ("B", b, RUN_COLOURS[1])):
            label = QLabel(f"<b>Run {tag}</b>: " + describe_run(result), self)
            label.setWordWrap(True)
            label.setStyleSheet(f"background:{colour}; padding:6px; border-radius:4px;")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            heads.addWidget(label, 1)
        layout.addLayout(heads)
        keys, columns = comparison_rows(a, b)
        self.table = QTableWidget(len(keys), len(columns), self)
        self.table.setObjectName("compareTable")
        self.table.setHorizontalHeaderLabels([f"{tag}: {name}" for tag, name in columns])
        self.table.setVerticalHeaderLabels([entry_for(k).short for k in keys])
        reports = {("A", n): r for n, r in a.models.items()} | {("B", n): r for n, r in b.models.items()}
        flats = {col: report.flat() for col, report in reports.items()}
        for r, key in enumerate(keys):
            for c, col in enumerate(columns):
                item = QTableWidgetItem(value_text(entry_for(key), reports[col], flats[col].get(key)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setBackground(QColor(RUN_COLOURS[0 if col[0] == "A" else 1]))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(980, 640)
