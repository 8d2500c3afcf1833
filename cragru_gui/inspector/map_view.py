"""The map: every user (or item) of a run as a point, placed by the original model.

Positions are the run's stored 2-D layout (:mod:`core.breakdown.map_layout`: PCA of the
original model's vectors, or of the training histories). Users are coloured by how far
their top-10 under the chosen method moved from retraining's (1 − Jaccard: light = the same
items, dark = none shared); forgotten users are crosses, similar users rings. Items are
coloured by how many more (red) or fewer (blue) top-10 lists show them than under
retraining; forgotten items are crosses.

A click picks the nearest point; dragging with the left button draws a lasso. The people
picked are listed beside the map and open in the Inspector. One scatter item per colour
band with one brush each, so 100,000 points draw in well under a second
(``bench/bench_map.py``).
"""

from __future__ import annotations

import html
import time

import numpy as np
import pyqtgraph as pg  # noqa: E402  (PySide6 is imported first)
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.breakdown.map_layout import exposure_change, inside_polygon, moved_from_retrain

USER_BANDS = (
    ("same top-10 as retraining", "#d7dde6"),
    ("", "#f4c28a"),
    ("", "#ec8b4b"),
    ("", "#d2503a"),
    ("no item in common", "#8c1c2c"),
)
ITEM_BANDS = (
    ("far fewer lists", "#2c5fa8"),
    ("fewer", "#8fb3de"),
    ("as many", "#d7dde6"),
    ("more", "#f0a07a"),
    ("far more lists", "#b8312f"),
)
MARKS = {"forgotten": ("x", "#111111", 10), "similar": ("o", "#1f77b4", 9)}
PICK_PIXELS = 8


def _e(text) -> str:
    """Escaped for a rich-text label (apostrophes kept as they are)."""
    return html.escape(str(text), quote=False)


EMPTY = "No map in this run (runs stored before the map, or more than 200,000 users or items)."


def band_of_moved(moved: np.ndarray) -> np.ndarray:
    """0 for the same top-10 as retraining, then four equal steps of 1 − Jaccard up to 1."""
    moved = np.nan_to_num(np.asarray(moved, dtype=float))
    return np.where(moved <= 1e-9, 0, np.clip(np.ceil(moved * 4), 1, 4)).astype(np.int64)


def band_of_change(change: np.ndarray) -> np.ndarray:
    """Items: far fewer / fewer / as many / more / far more lists than under retraining."""
    change = np.asarray(change, dtype=float)
    scale = max(1.0, float(np.abs(change).max()) if len(change) else 1.0)
    rel = change / scale
    return np.select([rel <= -0.25, rel < 0, rel == 0, rel < 0.25], [0, 1, 2, 3], 4).astype(np.int64)


def legend(palette) -> str:
    """The colour bands as swatches, ends labelled: ``same … ■ ■ ■ ■ ■ … none in common``."""
    swatches = " ".join(f"<span style='color:{colour}'>■</span>" for _, colour in palette)
    return f"{_e(palette[0][0])} {swatches} {_e(palette[-1][0])}"


class LassoViewBox(pg.ViewBox):
    """A view box whose left drag draws a lasso (emitted in view coordinates); the wheel zooms."""

    sigLasso = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._path: list[tuple[float, float]] = []
        self.trace = pg.PlotCurveItem(pen=pg.mkPen("#13243a", width=1, style=Qt.PenStyle.DashLine))
        self.addItem(self.trace, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt's name)
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        point = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._path = []
        self._path.append((point.x(), point.y()))
        xs, ys = zip(*(self._path + self._path[:1]))
        self.trace.setData(np.asarray(xs), np.asarray(ys))
        if ev.isFinish():
            self.trace.setData([], [])
            self.sigLasso.emit(np.asarray(self._path))


class MapView(QWidget):
    """Users or items of a run on a 2-D map, coloured by change against retraining."""

    def __init__(self, people, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapView")
        self.people = people
        self.result, self.dataset, self.names = None, None, str
        self.x = self.y = np.zeros(0)
        self.values = np.zeros(0)
        self.coloured = False  # False: no top-10 lists to colour by (the points are drawn alike)
        self.last_draw_s = 0.0
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("mapKind")
        self.kind_combo.addItem("Users", "users")
        self.kind_combo.addItem("Items", "items")
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("mapModel")
        self.model_combo.setToolTip("Colour by how far this model's top-10 lists moved from retraining's")
        reset = QPushButton("Fit view", self)
        reset.clicked.connect(lambda: self.plot.getPlotItem().getViewBox().autoRange())
        for label, widget in (("Map of:", self.kind_combo), ("Colour by:", self.model_combo)):
            controls.addWidget(QLabel(label, self))
            controls.addWidget(widget)
        controls.addWidget(reset)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.caption = QLabel(EMPTY, self)
        self.caption.setObjectName("mapCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setProperty("role", "hint")
        layout.addWidget(self.caption)
        self.box = LassoViewBox()
        self.plot = pg.PlotWidget(viewBox=self.box)
        self.plot.setObjectName("mapPlot")
        self.plot.setBackground("w")
        self.plot.getPlotItem().hideAxis("left")
        self.plot.getPlotItem().hideAxis("bottom")
        self.plot.setToolTip("Click a point, or drag a lasso round several, to list them; the wheel zooms")
        layout.addWidget(self.plot, 1)
        self.bands = [pg.ScatterPlotItem(pen=pg.mkPen(None), size=5, pxMode=True, antialias=False) for _ in USER_BANDS]
        self.marks = {name: pg.ScatterPlotItem(size=size, pxMode=True) for name, (_, _, size) in MARKS.items()}
        for item in [*self.bands, *self.marks.values()]:
            self.plot.addItem(item)
        self.box.sigLasso.connect(self._lasso)
        self.plot.scene().sigMouseClicked.connect(self._click)
        self.kind_combo.currentIndexChanged.connect(lambda *_: self.redraw())
        self.model_combo.currentIndexChanged.connect(lambda *_: self.redraw())

    # -- data ---------------------------------------------------------------------------------
    def set_run(self, result, dataset, names) -> None:
        self.result, self.dataset, self.names = result, dataset, names
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for name, report in result.models.items() if result is not None else ():
            if name != "retrain" and name in result.topk:
                self.model_combo.addItem(report.label, name)
        methods = [self.model_combo.itemData(i) for i in range(self.model_combo.count())]
        preferred = next((m for m in methods if m != "base"), None)
        if preferred is not None:
            self.model_combo.setCurrentIndex(self.model_combo.findData(preferred))
        self.model_combo.blockSignals(False)
        self.redraw()

    def _layout(self):
        breakdown = getattr(self.result, "breakdown", None)
        return None if breakdown is None else breakdown.maps.get(self.kind_combo.currentData())

    def redraw(self) -> None:
        layout = self._layout()
        if layout is None:
            self.draw(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), USER_BANDS, {})
            self.caption.setText(EMPTY if self.result is not None else "Run an experiment to see the map.")
            return
        kind, model = layout.kind, self.model_combo.currentData()
        topk, groups = self.result.topk, self.result.groups
        lists_ok = model in topk and "retrain" in topk and len(topk[model]) == len(topk["retrain"])
        self.coloured = lists_ok
        if kind == "users":
            self.values = moved_from_retrain(topk[model], topk["retrain"]) if lists_ok else np.zeros(len(layout.x))
            bands, palette = band_of_moved(self.values), USER_BANDS
            marks = {
                "forgotten": np.asarray(groups.get("forget_users_all", []), dtype=np.int64),
                "similar": np.asarray(groups.get("users", {}).get("similar", []), dtype=np.int64),
            }
        else:
            n = len(layout.x)
            self.values = exposure_change(topk[model], topk["retrain"], n) if lists_ok else np.zeros(n)
            bands, palette = band_of_change(self.values), ITEM_BANDS
            marks = {"forgotten": np.asarray(groups.get("forget_items", []), dtype=np.int64)}
        self.draw(layout.x, layout.y, bands, palette, marks)
        what = (
            "how far each person's top-10 moved from retraining's"
            if kind == "users"
            else ("how many more (red) or fewer (blue) top-10 lists show each item than under retraining")
        )
        colour = (
            f"colour: {what} ({legend(palette)})"
            if lists_ok
            else "not coloured: this run has no top-10 lists of a method and of retraining to compare"
        )
        self.caption.setText(
            f"{len(layout.x):,} {kind} placed by {_e(layout.source)} ({layout.method.upper()}); {colour}; "
            f"crosses: forgotten{', rings: similar users' if kind == 'users' else ''}. "
            f"Drew in {self.last_draw_s * 1000:.0f} ms."
        )

    def draw(self, x, y, bands, palette, marks: dict) -> float:
        """Set every scatter item's points; returns (and keeps) the seconds it took."""
        start = time.perf_counter()
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        order = np.argsort(bands, kind="stable")  # one sort, then a slice per band
        edges = np.searchsorted(bands[order], np.arange(len(self.bands) + 1))
        for index, item in enumerate(self.bands):
            chosen = order[edges[index] : edges[index + 1]]
            item.opts["brush"] = pg.mkBrush(palette[index][1])  # one brush for the item: no per-point styles
            item.setData(x=self.x[chosen], y=self.y[chosen])
        for name, item in self.marks.items():
            at = marks.get(name, np.zeros(0, dtype=np.int64))
            at = at[(at >= 0) & (at < len(self.x))]
            symbol, colour, size = MARKS[name]
            brush = pg.mkBrush(colour) if symbol == "x" else pg.mkBrush(None)
            item.setData(x=self.x[at], y=self.y[at], symbol=symbol, size=size, brush=brush, pen=pg.mkPen(colour))
        self.last_draw_s = time.perf_counter() - start
        return self.last_draw_s

    # -- selection ------------------------------------------------------------------------------
    def _click(self, event) -> None:
        if not len(self.x) or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.box.mapSceneToView(event.scenePos())
        px, py = self.box.viewPixelSize()
        dist = np.hypot((self.x - point.x()) / max(px, 1e-12), (self.y - point.y()) / max(py, 1e-12))
        nearest = int(np.argmin(dist))
        if dist[nearest] <= PICK_PIXELS:
            self._show(np.asarray([nearest]), "Picked on the map")

    def _lasso(self, polygon: np.ndarray) -> None:
        if len(self.x):
            self._show(np.flatnonzero(inside_polygon(self.x, self.y, polygon)), "Selected on the map")

    def select(self, chosen: np.ndarray, title: str = "Selected on the map") -> None:
        """List ``chosen`` (indices) beside the map (what a click or a lasso does)."""
        self._show(np.asarray(chosen, dtype=np.int64), title)

    def _show(self, chosen: np.ndarray, title: str) -> None:
        layout = self._layout()
        if layout is None:
            return
        values = self.values if self.coloured else None  # no lists: no "0 % away" claimed
        if layout.kind == "users":
            self.people.show_people(title, chosen, self.names, values)
        else:
            self.people.show_people(title, chosen, self._item_name, values, kind="items")

    def _item_name(self, item: int) -> str:
        if self.dataset is not None and 0 <= item < self.dataset.n_items:
            return self.dataset.item_title(item)
        return f"item #{item}"
