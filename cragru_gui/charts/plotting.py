"""Small pyqtgraph building blocks shared by every chart: styled plots, placeholders,
axis ranges that only grow, stable model colours, PNG grabs."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg  # noqa: E402  (PySide6 is imported first)
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

FIXED = {"base": "#8a8f98", "retrain": "#009e73"}  # grey; Okabe–Ito bluish green
PALETTE = (  # Okabe–Ito (blue, orange, reddish purple, vermillion, sky blue, black), then Paul Tol's muted
    "#0072b2",
    "#e69f00",
    "#cc79a7",
    "#d55e00",
    "#56b4e9",
    "#000000",
    "#882255",
    "#999933",
    "#332288",
    "#ddcc77",
)
"""Colour-blind-safe and one distinct colour per method of a run (ten, more than the
registry's unlearning methods); no colour ever carries meaning alone (legends name each)."""
TEXT = "#13243a"
AXIS_TEXT = "#3b4452"


class ModelColours:
    """A stable colour per model name: base grey, retrain green, methods from a palette."""

    def __init__(self) -> None:
        self._assigned: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name in FIXED:
            return FIXED[name]
        if name not in self._assigned:
            self._assigned[name] = PALETTE[len(self._assigned) % len(PALETTE)]
        return self._assigned[name]


def make_plot(title: str, left: str = "", bottom: str = "", tooltip: str = "") -> pg.PlotWidget:
    """A white, non-interactive plot with the app's axis style."""
    widget = pg.PlotWidget()
    widget.setBackground("w")
    widget.setTitle(title, color=TEXT, size="9pt")
    item = widget.getPlotItem()
    tick_font = QFont()
    tick_font.setPointSizeF(8)
    for axis in ("left", "bottom"):
        item.getAxis(axis).setStyle(tickFont=tick_font)
        item.getAxis(axis).setTextPen(AXIS_TEXT)
        item.getAxis(axis).setPen("#b8bec8")
        item.getAxis(axis).enableAutoSIPrefix(False)
    if left:
        item.setLabel("left", left, color=AXIS_TEXT)
    if bottom:
        item.setLabel("bottom", bottom, color=AXIS_TEXT)
    item.showGrid(x=False, y=True, alpha=0.25)
    item.setMouseEnabled(x=False, y=False)
    item.hideButtons()
    item.setMenuEnabled(False)
    widget.setMinimumSize(150, 130)
    if tooltip:
        widget.setToolTip(tooltip)
    return widget


class Placeholder:
    """A centred grey text shown in an empty chart until its data arrives."""

    def __init__(self, plot: pg.PlotWidget, text: str, height: float = 0.5) -> None:
        self.item = pg.TextItem(text, color="#8a8f98", anchor=(0.5, 0.5))
        self.plot = plot
        self.height = height
        plot.addItem(self.item, ignoreBounds=True)
        self.set(text)

    def set(self, text: str | None) -> None:
        if text:
            self.item.setText(text)
            vb = self.plot.getPlotItem().getViewBox()
            (x0, x1), (y0, y1) = vb.viewRange()
            self.item.setPos((x0 + x1) / 2, y0 + (y1 - y0) * self.height)
            self.item.show()
        else:
            self.item.hide()

    @property
    def text(self) -> str:
        return self.item.textItem.toPlainText() if self.item.isVisible() else ""


class GrowingRange:
    """Keeps an axis range fixed, growing it in generous steps only when data leaves it."""

    def __init__(self, plot: pg.PlotWidget, axis: str, low: float, high: float, margin: float = 1.15) -> None:
        self.plot, self.axis, self.margin = plot, axis, margin
        self.low, self.high = low, high
        self._initial = (low, high)
        self._apply()

    def reset(self) -> None:
        self.low, self.high = self._initial
        self._apply()

    def include(self, value: float) -> None:
        if not np.isfinite(value):
            return
        if value > self.high:
            self.high = value * self.margin if value > 0 else value
            self._apply()
        elif value < self.low:  # e.g. a negative loss (gradient ascent)
            self.low = value * self.margin if value < 0 else value
            self._apply()

    def _apply(self) -> None:
        if self.axis == "x":
            self.plot.setXRange(self.low, self.high, padding=0.02)
        else:
            self.plot.setYRange(self.low, self.high, padding=0.02)


def widget_png(widget: QWidget) -> bytes:
    """What the person sees, as PNG bytes (for reports)."""
    pixmap = widget.grab()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())
