"""Column mapping for a generic CSV/TSV file: which column is the user, the item, ...

The dialog previews the first lines and returns ``(columns, sep)`` for
``load_dataset(path, columns=..., sep=...)``: header names when the file has a header,
0-based positions when it does not.
"""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SEPARATORS = (
    ("\t", "Tab"),
    (",", "Comma ,"),
    (";", "Semicolon ;"),
    ("|", "Pipe |"),
    (" ", "Space"),
    ("::", "Double colon ::"),
)
ROLES = (
    ("user", "User column", True, "the column holding user IDs"),
    ("item", "Item column", True, "the column holding item IDs"),
    ("rating", "Rating column", False, "explicit rating or weight (optional: every row counts as 1)"),
    ("timestamp", "Time column", False, "Unix seconds or a date (optional; needed for chronological splits)"),
)
ALIASES = {
    "user": ("user", "userid", "uid"),
    "item": ("item", "itemid", "iid", "movieid", "movie", "artistid"),
    "rating": ("rating", "ratings", "score", "weight"),
    "timestamp": ("timestamp", "time", "ts", "date", "datetime"),
}
PREVIEW_LINES = 12


def guess_separator(lines: list[str]) -> str:
    best, best_count = ",", 0
    for sep, _label in SEPARATORS:
        counts = {len(_split(line, sep)) for line in lines if line.strip()}
        if len(counts) == 1 and (n := counts.pop()) > best_count and n > 1:
            best, best_count = sep, n
    return best


def _split(line: str, sep: str) -> list[str]:
    if len(sep) == 1 and sep != " ":
        return next(csv.reader([line], delimiter=sep), [])
    return line.split(sep) if sep != " " else line.split()


def _normalise(name: str) -> str:
    return "".join(ch for ch in name.split(":", 1)[0].lower() if ch not in "_- ")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_preview(path: Path, n: int = PREVIEW_LINES) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line.rstrip("\r\n") for _, line in zip(range(n * 3), fh)]
    return [line for line in lines if line.strip()][:n]


class ColumnMappingDialog(QDialog):
    def __init__(self, path: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"Columns of {self.path.name}")
        self.lines = read_preview(self.path)
        layout = QVBoxLayout(self)
        intro = QLabel("Tell CRAGRU Studio which column holds what. Only user and item are required.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.sep_combo = QComboBox(self)
        for sep, label in SEPARATORS:
            self.sep_combo.addItem(label, sep)
        self.sep_combo.setToolTip("The character between fields")
        form.addRow("Separator:", self.sep_combo)
        self.role_combos: dict[str, QComboBox] = {}
        for role, label, required, help_text in ROLES:
            combo = QComboBox(self)
            combo.setToolTip(help_text)
            combo.setObjectName(f"column_{role}")
            form.addRow(label + (":" if required else " (optional):"), combo)
            self.role_combos[role] = combo
        layout.addLayout(form)
        self.preview = QTableWidget(self)
        self.preview.setToolTip("The first lines of the file")
        self.preview.setMinimumHeight(180)
        layout.addWidget(self.preview)
        self.problem = QLabel(self)
        self.problem.setProperty("role", "banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        guessed = guess_separator(self.lines) if self.lines else ","
        self.sep_combo.setCurrentIndex(max(0, self.sep_combo.findData(guessed)))
        self.sep_combo.currentIndexChanged.connect(self._refresh)
        for combo in self.role_combos.values():
            combo.currentIndexChanged.connect(self._check)
        self._refresh()
        self.resize(620, 460)

    # -- state -----------------------------------------------------------------------
    def separator(self) -> str:
        return self.sep_combo.currentData()

    def has_header(self) -> bool:
        if not self.lines:
            return False
        fields = _split(self.lines[0], self.separator())
        return not all(_is_number(f.strip()) for f in fields[:2])

    def fields(self) -> list[str]:
        if not self.lines:
            return []
        first = [f.strip() for f in _split(self.lines[0], self.separator())]
        return first if self.has_header() else [f"column {i + 1}" for i in range(len(first))]

    def _refresh(self) -> None:
        names = self.fields()
        header = self.has_header()
        for role, combo in self.role_combos.items():
            combo.blockSignals(True)
            combo.clear()
            if role not in ("user", "item"):
                combo.addItem("— none —", None)
            for i, name in enumerate(names):
                combo.addItem(name, name if header else i)
            pick = next((i for i, n in enumerate(names) if _normalise(n) in ALIASES[role]), None)
            if pick is None and not header:
                pick = {"user": 0, "item": 1, "rating": 2, "timestamp": 3}[role]
                pick = pick if pick < len(names) else None
            if pick is not None:
                combo.setCurrentIndex(pick + (0 if role in ("user", "item") else 1))
            elif role == "item" and len(names) > 1:
                combo.setCurrentIndex(1)
            combo.blockSignals(False)
        rows = [_split(line, self.separator()) for line in (self.lines[1:] if header else self.lines)]
        self.preview.clear()
        self.preview.setColumnCount(len(names))
        self.preview.setHorizontalHeaderLabels(names)
        self.preview.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row[: len(names)]):
                self.preview.setItem(r, c, QTableWidgetItem(value.strip()))
        self._check()

    def _check(self) -> bool:
        chosen = [c.currentData() for c in self.role_combos.values() if c.currentData() is not None]
        problem = ""
        if len(self.fields()) < 2:
            problem = "With this separator every line has a single field: pick another separator."
        elif len(set(chosen)) != len(chosen):
            problem = "Each column can have only one role."
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
        return not problem

    def mapping(self) -> tuple[dict, str]:
        columns = {
            role: combo.currentData() for role, combo in self.role_combos.items() if combo.currentData() is not None
        }
        return columns, self.separator()


def ask_columns(parent: QWidget | None, path: str | Path) -> tuple[dict, str] | None:
    """Show the dialog; ``(columns, sep)`` or None when cancelled (monkeypatchable)."""
    dialog = ColumnMappingDialog(path, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.mapping()
