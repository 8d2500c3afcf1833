"""Live charts (pyqtgraph): training curves, utility by group, memory, attack, cost.

Every curve and bar set is created once and then updated with ``setData``/``setOpts``
(never ``clear()``/``plot()`` per tick); axis ranges are fixed once data arrives and
only ever grow, so nothing jumps while a run streams in.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

import pyqtgraph as pg  # noqa: E402  (PySide6 is imported first)

GROUPS = ("retain", "forget", "similar")
GROUP_TEXT = {"retain": "retained", "forget": "forgotten", "similar": "similar"}
FIXED = {"base": "#8a8f98", "retrain": "#2e9e5b"}
PALETTE = ("#2f7fb8", "#ff7a45", "#8e5cc2", "#d4a017", "#d6457a", "#1fa6a6", "#6b8e23", "#a0522d")


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


STAGE_PREFIXES = ("train", "unlearn", "pretrain", "finetune")


def _series_model(series: str) -> str:
    """The model a curve belongs to: ``train/base`` → base, ``unlearn/neggrad`` → neggrad,
    ``train/sisa-shards`` → sisa, ``e2urec/student`` → e2urec."""
    parts = series.split("/")
    name = parts[1] if len(parts) > 1 and parts[0] in STAGE_PREFIXES else parts[0]
    return name.split("-")[0]


def _series_label(series: str) -> str:
    parts = series.split("/", 1)
    return parts[1] if len(parts) > 1 and parts[0] in STAGE_PREFIXES else series


def _plot(title: str, left: str = "", bottom: str = "", tooltip: str = "") -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.setBackground("w")
    widget.setTitle(title, color="#13243a", size="10pt")
    item = widget.getPlotItem()
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTextPen("#3b4452")
        item.getAxis(axis).setPen("#b8bec8")
        item.getAxis(axis).enableAutoSIPrefix(False)
    if left:
        item.setLabel("left", left, color="#3b4452")
    if bottom:
        item.setLabel("bottom", bottom, color="#3b4452")
    item.showGrid(x=False, y=True, alpha=0.25)
    item.setMouseEnabled(x=False, y=False)
    item.hideButtons()
    item.setMenuEnabled(False)
    widget.setMinimumSize(220, 170)
    if tooltip:
        widget.setToolTip(tooltip)
    return widget


class _Placeholder:
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


class _GrowingRange:
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


class MetricsChart(QWidget):
    """All run charts in one widget (object name ``metricsChart``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsChart")
        self.colours = ModelColours()
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(6)
        self.legend = QLabel(self)
        self.legend.setObjectName("chartLegend")
        self.legend.setToolTip("Each model keeps its colour in every chart")
        grid.addWidget(self.legend, 0, 0, 1, 4)

        self.loss_plot = _plot("Training loss", "BPR loss", "epoch",
                               "Training loss per epoch of each model being trained (live)")
        self.valid_plot = _plot("Validation NDCG@10", "NDCG@10", "epoch",
                                "Ranking quality on validation data while training (live); training stops "
                                "when it no longer improves")
        self.hit_plot = _plot("Hit@10 by user group", "Hit@10", "",
                              "Share of users with at least one test item in their top-10, per group and model. "
                              "A good unlearning method matches retrain on every group.")
        self.ndcg_plot = _plot("NDCG@10 by user group", "NDCG@10", "",
                               "Ranking quality per group and model. Similar users are where collateral damage "
                               "shows first.")
        self.memory_plot = _plot("What the model still remembers", "forgotten-item recall@10", "",
                                 "Share of each forgotten user's removed items still in their top-10. Base "
                                 "remembers; the target is retrain's value, not zero.")
        self.mia_plot = _plot("Membership inference AUC", "AUC (dashed: chance, 0.5)", "",
                              "How well an attacker tells forgotten users from never-seen users. 0.5 = cannot "
                              "tell (retrain); 1.0 = the model clearly remembers them.")
        self.time_plot = _plot("Cost: unlearning vs retraining time", "", "seconds",
                               "Wall time of each method's unlearning step; base shows its training time.")
        grid.addWidget(self.loss_plot, 1, 0)
        grid.addWidget(self.valid_plot, 1, 1)
        grid.addWidget(self.hit_plot, 1, 2)
        grid.addWidget(self.ndcg_plot, 1, 3)
        grid.addWidget(self.memory_plot, 2, 0)
        grid.addWidget(self.mia_plot, 2, 1)
        grid.addWidget(self.time_plot, 2, 2, 1, 2)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(2, 1)
        for c in range(4):
            grid.setColumnStretch(c, 1)

        # -- curves: one PlotDataItem per series, created on first point -----------------
        self.loss_legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextColor="#3b4452")
        self.valid_legend = self.valid_plot.addLegend(offset=(-8, -8), labelTextColor="#3b4452")
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._seen_series: set[tuple[str, str]] = set()
        self.series_data: dict[str, dict[str, list[float]]] = {}
        self.loss_x = _GrowingRange(self.loss_plot, "x", 0, 10, 1.5)
        self.loss_y = _GrowingRange(self.loss_plot, "y", 0, 0.1, 1.15)
        self.valid_x = _GrowingRange(self.valid_plot, "x", 0, 10, 1.5)
        self.valid_y = _GrowingRange(self.valid_plot, "y", 0, 0.05, 1.25)
        self.loss_note = _Placeholder(self.loss_plot, "curves appear\nwhile models train")
        self.valid_note = _Placeholder(self.valid_plot, "curves appear\nwhile models train")

        # -- bar charts ----------------------------------------------------------------------
        self.models: dict[str, dict] = {}  # name -> groups, forgotten recall, time, mia
        self.order: list[str] = []
        self.hit_bars: dict[str, pg.BarGraphItem] = {}
        self.ndcg_bars: dict[str, pg.BarGraphItem] = {}
        self.memory_bars: dict[str, pg.BarGraphItem] = {}
        self.mia_bars: dict[str, pg.BarGraphItem] = {}
        self.time_bars: dict[str, pg.BarGraphItem] = {}
        self.time_labels: dict[str, pg.TextItem] = {}
        self.mia_labels: dict[str, pg.TextItem] = {}
        for plot in (self.hit_plot, self.ndcg_plot):
            plot.getAxis("bottom").setTicks([[(i, f"{GROUP_TEXT[g]}") for i, g in enumerate(GROUPS)]])
            plot.setXRange(-0.6, len(GROUPS) - 0.4, padding=0)
        self.hit_y = _GrowingRange(self.hit_plot, "y", 0, 0.1, 1.15)
        self.ndcg_y = _GrowingRange(self.ndcg_plot, "y", 0, 0.05, 1.15)
        self.memory_y = _GrowingRange(self.memory_plot, "y", 0, 0.05, 1.2)
        self.time_x = _GrowingRange(self.time_plot, "x", 0, 1.0, 1.25)
        self.mia_plot.setYRange(0, 1.05, padding=0)
        self.chance = pg.InfiniteLine(pos=0.5, angle=0, pen=pg.mkPen("#b23b3b", width=1, style=Qt.PenStyle.DashLine))
        self.chance.setToolTip("0.5: the attack cannot tell forgotten users from never-seen ones")
        self.mia_plot.addItem(self.chance)
        self.hit_note = _Placeholder(self.hit_plot, "appears when the base\nmodel is evaluated")
        self.ndcg_note = _Placeholder(self.ndcg_plot, "appears when the base\nmodel is evaluated")
        self.memory_note = _Placeholder(self.memory_plot, "appears when the base\nmodel is evaluated")
        self.mia_note = _Placeholder(self.mia_plot, "MIA AUC appears after the attack\n(last step of the run)", 0.78)
        self.time_note = _Placeholder(self.time_plot, "appears as models finish")
        self._set_category_axes()

    # -- resetting ----------------------------------------------------------------------------
    def reset(self, mia_enabled: bool = True) -> None:
        """Start a new run: empty every chart (items removed once, not per tick)."""
        for (_series, key), item in self.curves.items():
            (self.loss_plot if key == "loss" else self.valid_plot).removeItem(item)
        self.loss_legend.clear()
        self.valid_legend.clear()
        self.curves.clear()
        self._seen_series.clear()
        self.series_data.clear()
        for plot, bars in ((self.hit_plot, self.hit_bars), (self.ndcg_plot, self.ndcg_bars),
                           (self.memory_plot, self.memory_bars), (self.mia_plot, self.mia_bars),
                           (self.time_plot, self.time_bars)):
            for item in bars.values():
                plot.removeItem(item)
            bars.clear()
        for plot, labels in ((self.time_plot, self.time_labels), (self.mia_plot, self.mia_labels)):
            for item in labels.values():
                plot.removeItem(item)
            labels.clear()
        self.models.clear()
        self.order.clear()
        for r in (self.loss_x, self.loss_y, self.valid_x, self.valid_y, self.hit_y, self.ndcg_y,
                  self.memory_y, self.time_x):
            r.reset()
        self._set_category_axes()
        self._update_legend()
        self.loss_note.set("curves appear\nwhile models train")
        self.valid_note.set("curves appear\nwhile models train")
        self.hit_note.set("appears when the base\nmodel is evaluated")
        self.ndcg_note.set("appears when the base\nmodel is evaluated")
        self.memory_note.set("appears when the base\nmodel is evaluated")
        self.mia_note.set("MIA AUC appears after the attack\n(last step of the run)" if mia_enabled
                          else "membership inference is switched off\n(Method panel)")
        self.time_note.set("appears as models finish")

    # -- live curves --------------------------------------------------------------------------
    def _curve(self, plot: pg.PlotWidget, series: str, key: str) -> pg.PlotDataItem:
        handle = (series, key)
        if handle not in self.curves:
            model = _series_model(series)
            colour = self.colours(model)
            # a model's first curve is solid; further stages of the same model (shards, students) dashed
            siblings = sum(1 for (other, k) in self.curves if k == key and _series_model(other) == model)
            style = Qt.PenStyle.SolidLine if siblings == 0 else Qt.PenStyle.DashLine
            self.curves[handle] = plot.plot([], [], pen=pg.mkPen(colour, width=2, style=style),
                                            symbol="o" if key == "valid_ndcg10" else None, symbolSize=4,
                                            symbolBrush=colour, symbolPen=None, name=_series_label(series))
        return self.curves[handle]

    def add_metric(self, event) -> None:
        """A :class:`core.events.MetricEvent`: append a point and ``setData`` its curve."""
        self._append_point(event.series, event.step, event.values)
        self._redraw_series(event.series, event.values)

    def replay_curves(self, curves: dict[str, list[dict]]) -> None:
        """Draw a stored run's curves (``RunResult.curves``) as they looked live.

        Points are appended in bulk and each curve is drawn once, not once per point, so
        opening a long run from history stays quick.
        """
        for series, points in curves.items():
            touched: dict[str, float] = {}
            for point in points:
                values = {k: (np.nan if v is None else float(v)) for k, v in point.items() if k != "step"}
                self._append_point(series, point.get("step", 0), values)
                touched.update(values)
            if touched:
                self._redraw_series(series, touched)

    def _append_point(self, series: str, step: float, values) -> None:
        data = self.series_data.setdefault(series, {})
        data.setdefault("step", []).append(float(step))
        for key, value in values.items():
            data.setdefault(key, [])
            # keep columns aligned with steps even when a value is missing at some epochs
            while len(data[key]) < len(data["step"]) - 1:
                data[key].append(np.nan)
            data[key].append(float(value))

    def _redraw_series(self, series: str, changed) -> None:
        """``setData`` the loss / validation curves of ``series`` whose key is in ``changed``."""
        data = self.series_data.get(series, {})
        steps = np.asarray(data.get("step", []), dtype=float)
        for key, plot, x_range, y_range, note in (
            ("loss", self.loss_plot, self.loss_x, self.loss_y, self.loss_note),
            ("valid_ndcg10", self.valid_plot, self.valid_x, self.valid_y, self.valid_note),
        ):
            if key not in changed:
                continue
            values = np.asarray(data[key], dtype=float)
            x = steps[: len(values)]
            finite = np.isfinite(values)
            if not finite.any():
                continue
            self._curve(plot, series, key).setData(x[finite], values[finite])
            if (series, key) not in self._seen_series:
                self._seen_series.add((series, key))
                self._update_legend()
            x_range.include(float(x[finite].max()))
            y_range.include(float(values[finite].max()))
            y_range.include(float(values[finite].min()))
            note.set(None)

    # -- model results -------------------------------------------------------------------------------
    def add_model_result(self, event) -> None:
        """A :class:`core.events.ModelResultEvent` (grouped metrics, or extras such as mia_auc)."""
        entry = self.models.setdefault(event.model, {"groups": {}, "extras": {}})
        if event.groups:
            entry["groups"] = {g: dict(m) for g, m in event.groups.items()}
        entry["extras"].update({k: float(v) for k, v in event.extras.items() if v is not None})
        if event.model not in self.order:
            self.order.append(event.model)
        self._refresh_bars()

    def show_result(self, result) -> None:
        """Fill every chart from a stored :class:`core.result.RunResult`: bars, and its recorded curves."""
        self.reset(mia_enabled=bool(result.config.get("mia", True)))
        for name, report in result.models.items():
            extras = {**report.forgotten_recall, "time_s": report.time_s}
            if report.mia_auc is not None:
                extras["mia_auc"] = report.mia_auc
            self.models[name] = {"groups": report.groups, "extras": extras}
            self.order.append(name)
        self._refresh_bars()
        # replaced by the curves below when the run has any (runs stored by older versions have none)
        self.loss_note.set("no training loss was\nrecorded with this run")
        self.valid_note.set("no validation scores were\nrecorded with this run")
        self.replay_curves(getattr(result, "curves", None) or {})

    def _bar(self, store: dict, plot: pg.PlotWidget, name: str) -> pg.BarGraphItem:
        if name not in store:
            colour = QColor(self.colours(name))
            item = pg.BarGraphItem(x=[], height=[], width=0.2, brush=colour, pen=pg.mkPen("#ffffff", width=0.5))
            plot.addItem(item)
            store[name] = item
        return store[name]

    def _update_legend(self) -> None:
        names = list(self.order)
        for series in self.series_data:
            model = _series_model(series)
            if model not in names:
                names.append(model)
        if not names:
            self.legend.setText("")
            return
        what = {"base": "base (trained on all data)", "retrain": "retrain (gold standard)"}
        self.legend.setText("&nbsp;&nbsp;".join(
            f"<span style='color:{self.colours(n)}; font-size:14px'>■</span> {what.get(n, n)}" for n in names))

    def _set_category_axes(self) -> None:
        names = self.order
        ticks = [[(i, n) for i, n in enumerate(names)]]
        for plot in (self.memory_plot, self.mia_plot):
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(-0.6, max(len(names), 2) - 0.4, padding=0)
        self.time_plot.getAxis("left").setTicks(ticks)
        self.time_plot.setYRange(-0.6, max(len(names), 2) - 0.4, padding=0)

    def _refresh_bars(self) -> None:
        names = [n for n in self.order if self.models[n]["groups"]]
        n = max(1, len(names))
        width = 0.8 / n
        for j, name in enumerate(names):
            groups = self.models[name]["groups"]
            offset = (j - (n - 1) / 2) * width
            x = np.arange(len(GROUPS)) + offset
            for key, store, plot, y_range in (("hit@10", self.hit_bars, self.hit_plot, self.hit_y),
                                              ("ndcg@10", self.ndcg_bars, self.ndcg_plot, self.ndcg_y)):
                heights = np.asarray([groups.get(g, {}).get(key, np.nan) for g in GROUPS], dtype=float)
                heights = np.nan_to_num(heights, nan=0.0)
                self._bar(store, plot, name).setOpts(
                    x=x, height=heights, width=width * 0.92)
                y_range.include(float(heights.max()) if len(heights) else 0.0)
        if names:
            self.hit_note.set(None)
            self.ndcg_note.set(None)
        self._set_category_axes()
        self._update_legend()
        for i, name in enumerate(self.order):
            extras = self.models[name]["extras"]
            recall = extras.get("forgotten_recall@10")
            if recall is not None and np.isfinite(recall):
                self._bar(self.memory_bars, self.memory_plot, name).setOpts(x=[i], height=[recall], width=0.6)
                self.memory_y.include(recall)
                self.memory_note.set(None)
            auc = extras.get("mia_auc")
            if auc is not None and np.isfinite(auc):
                self._bar(self.mia_bars, self.mia_plot, name).setOpts(x=[i], height=[auc], width=0.6)
                label = self.mia_labels.get(name)
                if label is None:
                    label = pg.TextItem("", color="#13243a", anchor=(0.5, 1.0))
                    self.mia_plot.addItem(label)
                    self.mia_labels[name] = label
                label.setText(f"{auc:.2f}")
                label.setPos(i, auc)
                self.mia_note.set(None)
            seconds = extras.get("time_s")
            if seconds is not None and np.isfinite(seconds):
                self._bar(self.time_bars, self.time_plot, name).setOpts(
                    x0=[0], y=[i], height=[0.6], width=[seconds])
                label = self.time_labels.get(name)
                if label is None:
                    label = pg.TextItem("", color="#13243a", anchor=(0.0, 0.5))
                    self.time_plot.addItem(label)
                    self.time_labels[name] = label
                what = "training" if name == "base" else "unlearning"
                label.setText(f" {seconds:.1f} s {what}" + (" (cached)" if name == "base" and seconds == 0 else ""))
                label.setPos(seconds, i)
                self.time_x.include(seconds * 1.3)
                self.time_note.set(None)

    # -- export ------------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.PlotWidget]:
        return {"training_loss": self.loss_plot, "validation_ndcg": self.valid_plot, "hit_by_group": self.hit_plot,
                "ndcg_by_group": self.ndcg_plot, "forgotten_recall": self.memory_plot, "mia_auc": self.mia_plot,
                "time": self.time_plot}

    def png_images(self) -> dict[str, bytes]:
        """Every chart as PNG bytes (widget grabs: what the person sees)."""
        out = {}
        for name, widget in self.plots().items():
            out[name] = widget_png(widget)
        return out

    def curve_points(self, series: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The data a live curve shows (for tests)."""
        item = self.curves.get((series, key))
        if item is None:
            return np.zeros(0), np.zeros(0)
        x, y = item.getData()
        return (np.zeros(0) if x is None else x), (np.zeros(0) if y is None else y)


def widget_png(widget: QWidget) -> bytes:
    pixmap = widget.grab()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())
