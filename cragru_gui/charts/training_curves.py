"""Live training curves: every value a model *declares* (``core.curves``) on its panel.

Three panels — training loss, validation NDCG@10, and method diagnostics (forget loss,
pair accuracy, loss parts...). Each (series, key) gets one curve, created on its first
point and then updated with ``setData``; a value whose key the model did not declare is
not drawn (it is counted in ``undeclared`` so a test can see it was ignored).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.curves import CurveSpec, curves_for
from core.events import series_name, split_series
from cragru_gui.charts.plotting import GrowingRange, ModelColours, Placeholder, make_plot

WAITING = "curves appear\nwhile models train"
NOT_RECORDED = {
    "loss": "no training loss was\nrecorded with this run",
    "validation": "no validation scores were\nrecorded with this run",
    "diagnostics": "this run's methods\nrecorded no diagnostics",
}


class _Panel:
    """One plot of curves with its ranges and placeholder. Its legend is drawn outside the
    plot, under it (:meth:`TrainingCurves.legend_entries`): inside, it hid the curves."""

    def __init__(self, plot: pg.PlotWidget, legend_offset: tuple[int, int], x_margin: float, y_high: float) -> None:
        self.plot = plot
        self.x = GrowingRange(plot, "x", 0, 10, x_margin)
        self.y = GrowingRange(plot, "y", 0, y_high, 1.2)
        self.note = Placeholder(plot, WAITING)

    def reset(self, note: str = WAITING) -> None:
        self.x.reset()
        self.y.reset()
        self.note.set(note)


class TrainingCurves:
    """The three curve panels; fed with :class:`core.events.MetricEvent`s or stored curves."""

    def __init__(self, colours: ModelColours) -> None:
        self.colours = colours
        self.panels = {
            "loss": _Panel(
                make_plot(
                    "Training loss", "loss", "epoch / step", "Training objective of each model being trained (live)"
                ),
                (-8, 8),
                1.5,
                0.1,
            ),
            "validation": _Panel(
                make_plot(
                    "Validation NDCG@10",
                    "NDCG@10",
                    "epoch",
                    "Ranking quality on validation data while training (live); training "
                    "stops when it no longer improves",
                ),
                (-8, -8),
                1.5,
                0.05,
            ),
            "diagnostics": _Panel(
                make_plot(
                    "Method diagnostics",
                    "value",
                    "epoch / step",
                    "What each unlearning method tracks while it runs, as it declares it "
                    "(e.g. the loss on the forgotten rows)",
                ),
                (-8, 8),
                1.5,
                0.1,
            ),
        }
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.series_data: dict[str, dict[str, list[float]]] = {}
        self.undeclared: set[tuple[str, str]] = set()
        self._specs: dict[str, dict[str, CurveSpec]] = {}
        self._models: list[str] = []
        self._pending: dict[str, set[str]] = {}  # series -> keys appended but not drawn yet

    def legend_entries(self, panel: str) -> list[tuple[str, str, bool]]:
        """(name, colour, dashed) of each curve on ``panel``, in order of appearance."""
        entries = []
        for (series, key), item in self.curves.items():
            if self._panel_of(series, key) is self.panels[panel]:
                pen = item.opts["pen"]
                entries.append((item.name(), pen.color().name(), pen.style() != Qt.PenStyle.SolidLine))
        return entries

    @property
    def models(self) -> list[str]:
        """Models that have drawn at least one curve, in order of appearance."""
        return list(self._models)

    def reset(self, note: str | None = None) -> None:
        for (series, key), item in self.curves.items():
            self._panel_of(series, key).plot.removeItem(item)
        self.curves.clear()
        self._pending.clear()
        self.series_data.clear()
        self.undeclared.clear()
        self._models.clear()
        for panel_name, panel in self.panels.items():
            panel.reset(NOT_RECORDED[panel_name] if note == "stored" else WAITING)

    def add(self, model: str, stage: str, step: float, values) -> None:
        """One point of one model's stage (a live MetricEvent), drawn at once."""
        self.append(model, stage, step, values)
        self.draw_pending()

    def append(self, model: str, stage: str, step: float, values) -> None:
        """One point kept, drawn by the next :meth:`draw_pending` (live charts draw a few
        times a second, not once per point: each repaint holds the GIL the run needs)."""
        series = series_name(model, stage)
        self._append(series, step, values)
        self._pending.setdefault(series, set()).update(values)

    def draw_pending(self) -> bool:
        """Draw the points kept since the last call; True when there were any."""
        pending, self._pending = self._pending, {}
        for series, keys in pending.items():
            self._redraw(series, keys)
        return bool(pending)

    def replay(self, curves: dict[str, list[dict]]) -> None:
        """A stored run's curves, appended in bulk and each drawn once."""
        for series, points in curves.items():
            touched: dict[str, float] = {}
            for point in points:
                values = {k: (np.nan if v is None else float(v)) for k, v in point.items() if k != "step"}
                self._append(series, point.get("step", 0), values)
                touched.update(values)
            if touched:
                self._redraw(series, touched)

    def points(self, series: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        self.draw_pending()
        item = self.curves.get((series, key))
        if item is None:
            return np.zeros(0), np.zeros(0)
        x, y = item.getData()
        return (np.zeros(0) if x is None else x), (np.zeros(0) if y is None else y)

    # -- internals --------------------------------------------------------------------------------
    def _spec(self, series: str, key: str) -> CurveSpec | None:
        model, _stage = split_series(series)
        if model not in self._specs:
            self._specs[model] = curves_for(model)
        return self._specs[model].get(key)

    def _panel_of(self, series: str, key: str) -> _Panel:
        spec = self._spec(series, key)
        return self.panels[spec.panel if spec else "diagnostics"]

    def _append(self, series: str, step: float, values) -> None:
        data = self.series_data.setdefault(series, {})
        data.setdefault("step", []).append(float(step))
        for key, value in values.items():
            column = data.setdefault(key, [])
            column.extend([np.nan] * (len(data["step"]) - 1 - len(column)))  # keep columns aligned with steps
            column.append(float(value))

    def _redraw(self, series: str, changed) -> None:
        data = self.series_data.get(series, {})
        steps = np.asarray(data.get("step", []), dtype=float)
        for key in changed:
            spec = self._spec(series, key)
            if spec is None:
                self.undeclared.add((series, key))
                continue
            values = np.asarray(data[key], dtype=float)
            x = steps[: len(values)]
            finite = np.isfinite(values)
            if not finite.any():
                continue
            panel = self.panels[spec.panel]
            self._curve(panel, series, spec).setData(x[finite], values[finite])
            panel.x.include(float(x[finite].max()))
            panel.y.include(float(values[finite].max()))
            panel.y.include(float(values[finite].min()))
            panel.note.set(None)

    def _curve(self, panel: _Panel, series: str, spec: CurveSpec) -> pg.PlotDataItem:
        handle = (series, spec.key)
        if handle not in self.curves:
            model, stage = split_series(series)
            if model not in self._models:
                self._models.append(model)
            colour = self.colours(model)
            siblings = sum(
                1 for (other, k) in self.curves if split_series(other)[0] == model and self._panel_of(other, k) is panel
            )
            style = Qt.PenStyle.SolidLine if siblings == 0 else Qt.PenStyle.DashLine
            name = f"{model} · {stage}" + (f" · {spec.label}" if spec.panel == "diagnostics" else "")
            self.curves[handle] = panel.plot.plot(
                [],
                [],
                pen=pg.mkPen(colour, width=2, style=style),
                symbol="o" if spec.panel == "validation" else None,
                symbolSize=4,
                symbolBrush=colour,
                symbolPen=None,
                name=name,
            )
        return self.curves[handle]
