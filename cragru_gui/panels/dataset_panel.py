"""Dataset panel: open a folder or file, recent datasets, the demo; summary and histogram.

The panel only *asks* for a dataset (``loadRequested`` with a DataConfig dict); the
main window has the :class:`~core.workspace.Workspace` load it off the UI thread, and the
panel shows what the workspace reports (loading, the dataset, or why it failed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg  # noqa: E402  (PySide6 is imported first)
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.workspace import Change, Workspace
from cragru_gui import errors
from cragru_gui.panels import column_dialog

KNOWN_MARKERS = {"u.data", "ratings.dat", "user_artists.dat", "ratings.csv"}
GENERIC_SUFFIXES = {".csv", ".tsv", ".txt"}


def describe_source(data: dict) -> str:
    path = data.get("path", "")
    if path == "demo":
        return "Built-in demo dataset"
    return Path(path).name or path


def histogram(counts: np.ndarray, max_bins: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """(bin left edges, heights) of interactions per user, integer-aligned bins."""
    counts = np.asarray(counts)
    if len(counts) == 0:
        return np.zeros(0), np.zeros(0)
    low, high = int(counts.min()), int(counts.max())
    width = max(1, int(np.ceil((high - low + 1) / max_bins)))
    edges = np.arange(low, high + width + 1, width)
    heights, edges = np.histogram(counts, bins=edges)
    return edges[:-1].astype(float), heights.astype(float)


class DatasetPanel(QWidget):
    loadRequested = Signal(dict)  # a core.config.DataConfig as a dict

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetPanel")
        self.dataset = None
        self._loading_path = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._open_box())
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setFormat("Loading…")
        self.busy.setTextVisible(True)
        self.busy.hide()
        layout.addWidget(self.busy)
        self.message = QLabel(self)
        self.message.setProperty("role", "banner")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        layout.addWidget(self._summary_box())
        layout.addWidget(self._histogram(), 1)

        self.demo_button.clicked.connect(lambda: self.loadRequested.emit({"path": "demo", **self._options()}))
        self.folder_button.clicked.connect(self.choose_folder)
        self.file_button.clicked.connect(self.choose_file)
        self.recent_combo.activated.connect(self._recent_chosen)
        self._recent: list[dict] = []
        workspace.subscribe(self._on_workspace)

    def _open_box(self) -> QGroupBox:
        open_box = QGroupBox("Open a dataset", self)
        grid = QGridLayout(open_box)
        self.demo_button = QPushButton("Demo dataset", open_box)
        self.demo_button.setObjectName("demoButton")
        self.demo_button.setToolTip(
            "A small synthetic movie dataset built in: 300 users, 400 items, genres and "
            "titles — good for a live demonstration"
        )
        self.folder_button = QPushButton("Open folder…", open_box)
        self.folder_button.setToolTip("A MovieLens (100K, 1M, CSV), HetRec Last.fm or RecBole atomic-file folder")
        self.file_button = QPushButton("Open file…", open_box)
        self.file_button.setToolTip(
            "One interactions file: RecBole .inter, MovieLens u.data/ratings.dat, or any "
            "CSV/TSV (you will map its columns)"
        )
        grid.addWidget(self.demo_button, 0, 0)
        grid.addWidget(self.folder_button, 0, 1)
        grid.addWidget(self.file_button, 0, 2)
        self.recent_combo = QComboBox(open_box)
        self.recent_combo.setObjectName("recentCombo")
        self.recent_combo.setToolTip("Datasets opened before; pick one to load it again")
        self.recent_combo.setPlaceholderText("Recent datasets…")
        grid.addWidget(QLabel("Recent:", open_box), 1, 0)
        grid.addWidget(self.recent_combo, 1, 1, 1, 2)

        options = QFormLayout()
        self.threshold_check = QCheckBox("Keep only ratings ≥", open_box)
        self.threshold_check.setToolTip(
            "Turn explicit ratings into implicit feedback: keep ratings at or above "
            "the threshold (off: every rating counts as an interaction)"
        )
        self.threshold_spin = QDoubleSpinBox(open_box)
        self.threshold_spin.setRange(-1e9, 1e9)
        self.threshold_spin.setValue(4.0)
        self.threshold_spin.setEnabled(False)
        self.threshold_check.toggled.connect(self.threshold_spin.setEnabled)
        row = QHBoxLayout()
        row.addWidget(self.threshold_check)
        row.addWidget(self.threshold_spin)
        row.addStretch(1)
        options.addRow(row)
        self.kcore_spin = QSpinBox(open_box)
        self.kcore_spin.setRange(0, 1000)
        self.kcore_spin.setSpecialValueText("off")
        self.kcore_spin.setToolTip("Keep only users and items with at least k interactions (repeated until stable)")
        options.addRow("k-core filter:", self.kcore_spin)
        grid.addLayout(options, 2, 0, 1, 3)
        return open_box

    def _summary_box(self) -> QGroupBox:
        self.summary_box = QGroupBox("Summary", self)
        self.summary_grid = QGridLayout(self.summary_box)
        self.figures: dict[str, QLabel] = {}
        for key in ("name", "n_users", "n_items", "n_interactions", "density", "per_user", "meta"):
            value = QLabel("—", self.summary_box)
            value.setProperty("role", "hint" if key == "meta" else "figure")
            value.setObjectName(f"summary_{key}")
            self.figures[key] = value
        # layout: name on its own row, then a 3-column grid of counts, then detail rows
        self.summary_grid.addWidget(self._cell(self.figures["name"], "dataset"), 0, 0, 1, 3)
        self.summary_grid.addWidget(self._cell(self.figures["n_users"], "users"), 1, 0)
        self.summary_grid.addWidget(self._cell(self.figures["n_items"], "items"), 1, 1)
        self.summary_grid.addWidget(self._cell(self.figures["n_interactions"], "interactions"), 1, 2)
        self.summary_grid.addWidget(self._cell(self.figures["density"], "density"), 2, 0)
        self.summary_grid.addWidget(
            self._cell(self.figures["per_user"], "per user: min / median / mean / max"), 2, 1, 1, 2
        )
        self.summary_grid.addWidget(self._cell(self.figures["meta"], "metadata"), 3, 0, 1, 3)
        return self.summary_box

    def _histogram(self) -> pg.PlotWidget:
        self.plot = pg.PlotWidget(self)
        self.plot.setObjectName("userHistogram")
        self.plot.setBackground("w")
        self.plot.setTitle("Interactions per user", color="#13243a", size="10pt")
        self.plot.setLabel("bottom", "interactions")
        self.plot.setLabel("left", "users")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(110)
        self.plot.setToolTip("How many users have how many interactions: long tails are typical")
        self.bars = pg.BarGraphItem(x0=[], width=[], height=[], brush="#2f7fb8", pen=pg.mkPen("#ffffff", width=0.5))
        self.plot.addItem(self.bars)
        return self.plot

    @staticmethod
    def _cell(value: QLabel, caption: str) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(0)
        cap = QLabel(caption, box)
        cap.setProperty("role", "figureCaption")
        lay.addWidget(value)
        lay.addWidget(cap)
        value.setParent(box)
        return box

    # -- requests ---------------------------------------------------------------------------
    def _options(self) -> dict:
        out: dict = {}
        if self.threshold_check.isChecked():
            out["implicit_threshold"] = self.threshold_spin.value()
        if self.kcore_spin.value() > 0:
            out["k_core"] = self.kcore_spin.value()
        return out

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder")
        if folder:
            self.loadRequested.emit({"path": folder, **self._options()})

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open an interactions file",
            "",
            "Interaction files (*.inter *.csv *.tsv *.txt *.data *.dat);;All files (*)",
        )
        if path:
            self.request_file(path)

    def request_file(self, path: str) -> None:
        """A generic CSV/TSV goes through the column-mapping dialog first."""
        p = Path(path)
        data = {"path": str(p), **self._options()}
        if p.suffix.lower() in GENERIC_SUFFIXES and p.name not in KNOWN_MARKERS:
            mapping = column_dialog.ask_columns(self, p)
            if mapping is None:
                return
            columns, sep = mapping
            data.update(fmt="csv", columns=columns, sep=sep)
        self.loadRequested.emit(data)

    def _recent_chosen(self, index: int) -> None:
        if 0 <= index < len(self._recent):
            self.loadRequested.emit(dict(self._recent[index]))

    def set_recent(self, recent: list[dict]) -> None:
        self._recent = list(recent)
        self.recent_combo.blockSignals(True)
        self.recent_combo.clear()
        for data in self._recent:
            self.recent_combo.addItem(describe_source(data))
            self.recent_combo.setItemData(
                self.recent_combo.count() - 1, data.get("path", ""), Qt.ItemDataRole.ToolTipRole
            )
        self.recent_combo.setCurrentIndex(-1)
        self.recent_combo.blockSignals(False)

    # -- state shown ---------------------------------------------------------------------------
    def _on_workspace(self, change: Change) -> None:
        if change.what == "loading":
            self._loading_path = change.state.loading.path
            self.set_loading(True, describe_source({"path": self._loading_path}))
        elif change.what == "dataset":
            self.set_loading(False)
            self.show_dataset(change.state.dataset)
        elif change.what == "load_failed":
            self.set_loading(False)
            self.show_problem(f"Could not open {self._loading_path}: {errors.user_message(change.exc)}")

    def set_loading(self, loading: bool, what: str = "") -> None:
        self.busy.setVisible(loading)
        self.busy.setFormat(f"Loading {what}…" if what else "Loading…")
        for w in (self.demo_button, self.folder_button, self.file_button, self.recent_combo):
            w.setEnabled(not loading)
        if loading:
            self.message.hide()

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def show_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.message.hide()
        s = dataset.summary()
        self.figures["name"].setText("Demo: synthetic movie ratings" if dataset.source == "demo" else s.name)
        self.figures["name"].setToolTip(dataset.source)
        self.figures["n_users"].setText(f"{s.n_users:,}")
        self.figures["n_items"].setText(f"{s.n_items:,}")
        self.figures["n_interactions"].setText(f"{s.n_interactions:,}")
        self.figures["density"].setText(f"{s.density:.2%}")
        self.figures["per_user"].setText(
            f"{s.per_user_min} / {s.per_user_median:g} / {s.per_user_mean:.1f} / {s.per_user_max}"
        )
        meta = []
        if s.has_item_meta and dataset.item_meta is not None:
            meta.append("items: " + ", ".join(map(str, dataset.item_meta.columns)))
        if s.has_user_meta and dataset.user_meta is not None:
            meta.append("users: " + ", ".join(map(str, dataset.user_meta.columns)))
        self.figures["meta"].setText("; ".join(meta) or "none (IDs only)")
        self.figures["meta"].setWordWrap(True)

        x0, heights = histogram(dataset.user_counts())
        width = (x0[1] - x0[0]) if len(x0) > 1 else 1.0
        self.bars.setOpts(x0=x0, width=np.full(len(x0), width * 0.92), height=heights)
        if len(x0):
            self.plot.setXRange(float(x0[0]), float(x0[-1] + width), padding=0.02)
            self.plot.setYRange(0, float(heights.max()) * 1.08, padding=0)
