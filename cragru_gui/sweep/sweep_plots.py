"""The Sweep tab's charts (pyqtgraph): a sweep's series against request size, with the 95 %
interval over seeds as error bars, and a request stream's figures per request, drawn as each
step arrives. The numbers come from ``core.sweeps``; the words from the metric catalogue.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from core.reporting.catalogue import entry_for
from core.sweeps.aggregate import PLOTTED_KEYS, Series
from core.sweeps.stream import StreamStep
from core.sweeps.stream_command import FIGURES as STREAM_FIGURES
from cragru_gui.charts.chart_frame import ChartFrame, legend_html
from cragru_gui.charts.plotting import ModelColours, make_plot

COLUMNS = 4
MAX_X_TICKS = 10


def whole_ticks(last: int, first: int = 1) -> list[tuple[float, str]]:
    """Whole-number ticks from ``first`` to ``last``, at most about :data:`MAX_X_TICKS` of them."""
    step = max(1, math.ceil((last - first + 1) / MAX_X_TICKS))
    return [(float(k), str(k)) for k in range(first, last + 1, step)]


def _legend() -> QLabel:
    label = QLabel()
    label.setObjectName("sweepLegend")
    label.setProperty("role", "hint")
    label.setWordWrap(True)
    return label


def _grid(frames: list[ChartFrame], legend: QLabel, parent: QWidget) -> QGridLayout:
    layout = QVBoxLayout(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    grid = QGridLayout()
    _place(grid, frames)
    layout.addLayout(grid, 1)
    layout.addWidget(legend)
    return grid


def _place(grid: QGridLayout, frames: list[ChartFrame]) -> None:
    """The frames row by row, without the gaps hidden ones would leave."""
    for frame in frames:
        grid.removeWidget(frame)
    for i, frame in enumerate(frames):
        grid.addWidget(frame, i // COLUMNS, i % COLUMNS)


class SweepPlots(QWidget):
    """One chart per plotted figure (forgetting, utility, cost, speed-up), one line per series."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepPlots")
        self.colours = ModelColours()
        self.plots: dict[str, pg.PlotWidget] = {}
        self.frames: dict[str, ChartFrame] = {}
        for key in PLOTTED_KEYS:
            entry = entry_for(key)
            plot = make_plot(entry.short, bottom="request size")
            self.plots[key] = plot
            self.frames[key] = ChartFrame(plot, entry.label, keys=[key], parent=self)
        self.legend = _legend()
        self.grid = _grid(list(self.frames.values()), self.legend, self)

    def clear(self) -> None:
        for plot in self.plots.values():
            plot.clear()
        self.legend.setText("")

    def show_series(self, series: list[Series]) -> None:
        """Lines of means with their 95 % interval over seeds; charts with no data are hidden."""
        self.clear()
        labels = list(dict.fromkeys(s.label for s in series))
        for key, plot in self.plots.items():
            mine = [s for s in series if s.key == key and all(math.isfinite(p.mean) for p in s.points)]
            self.frames[key].setVisible(bool(mine))
            for s in mine:
                colour = self.colours(s.label)
                x = np.array([p.size for p in s.points])
                y = np.array([p.mean for p in s.points])
                low = np.array([p.low for p in s.points])
                high = np.array([p.high for p in s.points])
                plot.plot(
                    x,
                    y,
                    pen=pg.mkPen(colour, width=2),
                    symbol="o",
                    symbolSize=6,
                    symbolBrush=colour,
                    symbolPen=colour,
                    name=s.label,
                )
                plot.addItem(
                    pg.ErrorBarItem(x=x, y=y, top=high - y, bottom=y - low, beam=0.0, pen=pg.mkPen(colour, width=1))
                )
            sizes = sorted({p.size for s in mine for p in s.points})
            if sizes:
                plot.getPlotItem().getAxis("bottom").setTicks([[(v, f"{v:g}") for v in sizes]])
        _place(self.grid, [f for f in self.frames.values() if not f.isHidden()])
        self.legend.setText(legend_html(labels, self.colours))

    def point_counts(self) -> dict[str, int]:
        """Plotted points per figure (what a test checks)."""
        counts = {}
        for key, plot in self.plots.items():
            counts[key] = sum(len(item.xData) for item in plot.getPlotItem().listDataItems() if item.xData is not None)
        return counts


class StreamPlots(QWidget):
    """Latency, cumulative cost and drift from retraining per request, one line per method."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("streamPlots")
        self.colours = ModelColours()
        self.plots: dict[str, pg.PlotWidget] = {}
        frames = []
        for key, title, log in STREAM_FIGURES:
            plot = make_plot(title, bottom="request")
            plot.setLogMode(x=False, y=log)  # seconds span orders of magnitude between methods
            self.plots[key] = plot
            frames.append(ChartFrame(plot, title, text=title, parent=self))
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.data: dict[str, dict[str, list[float]]] = {}
        self.legend = _legend()
        _grid(frames, self.legend, self)

    def start(self, n_steps: int) -> None:
        """Empty charts with the x axis fixed to the requests 1..n (whole numbers only)."""
        for plot in self.plots.values():
            plot.clear()
            plot.setXRange(0.5, n_steps + 0.5, padding=0)
            plot.getPlotItem().getAxis("bottom").setTicks([whole_ticks(n_steps)])
        self.curves.clear()
        self.data.clear()
        self.legend.setText("")

    def add_step(self, step: StreamStep) -> None:
        """Extend each figure's line of ``step.method`` by one request (curves made once, then setData)."""
        label = f"{step.method} ({step.mode})"
        xs = self.data.setdefault(label, {}).setdefault("step", [])
        xs.append(float(step.step))
        for key, plot in self.plots.items():
            ys = self.data[label].setdefault(key, [])
            ys.append(float(getattr(step, key)))
            curve = self.curves.get((label, key))
            if curve is None:
                colour = self.colours(step.method)
                curve = plot.plot(
                    [],
                    [],
                    pen=pg.mkPen(colour, width=2),
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=colour,
                    symbolPen=colour,
                    name=label,
                )
                self.curves[(label, key)] = curve
            curve.setData(np.array(xs), np.array(ys))
        self.legend.setText(legend_html(list(self.data), lambda text: self.colours(text.split(" (")[0])))
