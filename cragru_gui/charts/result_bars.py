"""Bar charts of evaluated models: utility by group, what is still remembered, the
attack, and the cost. One bar item per model and chart, updated with ``setOpts``;
intervals (when the engine sends them) drawn as error bars."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics

from core.groups import GROUPS
from core.reporting.catalogue import group_label
from core.reporting.numbers import format_seconds
from cragru_gui.charts.plotting import FIXED, TEXT, GrowingRange, ModelColours, Placeholder, make_plot

WAITING = "waiting for\nthe first model"
ATTACK_WAITING = "after the attacks\n(last step)"
ATTACK_OFF = "attacks switched off\n(Method panel)"
ATTACKS = ("fold-in", "record-level")  # drawn side by side; retrain's bar is the target


class _BarChart:
    """One plot holding a bar item (and an error-bar item) per model."""

    def __init__(
        self, plot: pg.PlotWidget, colours: ModelColours, note: str, y_high: float = 0.1, horizontal: bool = False
    ) -> None:
        self.plot, self.colours, self.horizontal = plot, colours, horizontal
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.errors: dict[str, pg.ErrorBarItem] = {}
        self.labels: dict[str, pg.TextItem] = {}
        self.y = GrowingRange(plot, "x" if horizontal else "y", 0, y_high, 1.15)  # the value axis
        self.note = Placeholder(plot, note)

    def bar(self, name: str, colour: QColor | None = None) -> pg.BarGraphItem:
        if name not in self.bars:
            item = pg.BarGraphItem(
                x=[],
                height=[],
                width=0.2,
                brush=colour or QColor(self.colours(name)),
                pen=pg.mkPen("#ffffff", width=0.5),
            )
            self.plot.addItem(item)
            self.bars[name] = item
        return self.bars[name]

    def error(self, name: str, x, value, low, high) -> None:
        """Whiskers from ``low`` to ``high`` around ``value`` (arrays; NaN = no interval)."""
        value, low, high = (np.asarray(a, dtype=float) for a in (value, low, high))
        keep = np.isfinite(low) & np.isfinite(high)
        if not keep.any():
            return
        if name not in self.errors:
            self.errors[name] = pg.ErrorBarItem(pen=pg.mkPen(TEXT, width=1), beam=0.08)
            self.plot.addItem(self.errors[name])
        at = np.asarray(x, dtype=float)[keep]
        if self.horizontal:  # categories on y, whiskers along x
            self.errors[name].setData(x=value[keep], y=at, left=(value - low)[keep], right=(high - value)[keep])
        else:
            self.errors[name].setData(x=at, y=value[keep], top=(high - value)[keep], bottom=(value - low)[keep])
        self.y.include(float(high[keep].max()))

    def label(self, name: str, text: str, x: float, y: float, anchor=(0.5, 1.0)) -> None:
        if name not in self.labels:
            self.labels[name] = pg.TextItem("", color=TEXT, anchor=anchor)
            self.plot.addItem(self.labels[name])
        self.labels[name].setText(text)
        self.labels[name].setPos(x, y)

    def reset(self, note: str) -> None:
        for store in (self.bars, self.errors, self.labels):
            for item in store.values():
                self.plot.removeItem(item)
            store.clear()
        self.y.reset()
        self.note.set(note)


HIT_HELP = (
    "Share of users with at least one test item in their top-10, per group and model. A good "
    "unlearning method matches retrain on every group."
)
NDCG_HELP = "Ranking quality per group and model. Similar users are where collateral damage shows first."
MEMORY_HELP = (
    "Share of each forgotten user's removed items still in their top-10. Base remembers; the target "
    "is retrain's value, not zero."
)
ATTACK_HELP = (
    "Fold-in: can an attacker who holds a forgotten user's history tell, from the model's item side, "
    "that the user was trained on? Record-level: does the model score the forgotten rows above the same "
    "users' held-out rows? The target is retrain's bar (green), not 0.5: 0.5 is neutral only for random "
    "user and interaction requests."
)
TIME_HELP = (
    "Wall time of each model: one-off set-up (light) plus this request (dark); base shows its training "
    "time. The words right of each bar read set-up + request = total. The dashed line is retraining's time: a bar "
    "that reaches past it cost more than retraining."
)


class ResultBars:
    """Every bar chart, fed with per-model groups, extras and attack results. Charts whose
    categories are models (memory, cost) lie on their side, so model names never collide."""

    def __init__(self, colours: ModelColours) -> None:
        self.colours = colours
        self.hit = _BarChart(make_plot("Hit@10 by group", "Hit@10", "", HIT_HELP), colours, WAITING)
        self.ndcg = _BarChart(make_plot("NDCG@10 by group", "NDCG@10", "", NDCG_HELP), colours, WAITING, 0.05)
        self.memory = _BarChart(
            make_plot("Still remembered", "", "removed-item recall@10", MEMORY_HELP),
            colours,
            WAITING,
            0.05,
            horizontal=True,
        )
        self.attack = _BarChart(
            make_plot("Attacks (AUC)", "AUC (dashed: 0.5)", "", ATTACK_HELP), colours, ATTACK_WAITING
        )
        self.time = _BarChart(
            make_plot("Cost vs retraining", "", "seconds", TIME_HELP),
            colours,
            "appears as models finish",
            1.0,
            horizontal=True,
        )
        self.attack.plot.setYRange(0, 1.05, padding=0)
        chance = pg.InfiniteLine(pos=0.5, angle=0, pen=pg.mkPen("#b23b3b", width=1, style=Qt.PenStyle.DashLine))
        self.attack.plot.addItem(chance)
        self.retrain_line = pg.InfiniteLine(
            pos=0,
            angle=90,
            pen=pg.mkPen(FIXED["retrain"], width=1.5, style=Qt.PenStyle.DashLine),
            label="retraining",
            labelOpts={"position": 0.04, "color": FIXED["retrain"]},
        )
        self.retrain_line.hide()
        self.time.plot.addItem(self.retrain_line, ignoreBounds=True)
        for chart in (self.hit, self.ndcg):
            chart.plot.getAxis("bottom").setTicks([[(i, group_label(g, short=True)) for i, g in enumerate(GROUPS)]])
            chart.plot.setXRange(-0.6, len(GROUPS) - 0.4, padding=0)
        self.attack.plot.getAxis("bottom").setTicks([[(i, a) for i, a in enumerate(ATTACKS)]])
        self.attack.plot.setXRange(-0.6, len(ATTACKS) - 0.4, padding=0)
        self._cost_ends: dict[str, float] = {}  # model -> where its cost bar ends (seconds)
        self.time.plot.getViewBox().sigResized.connect(self._fit_cost_range)
        self.models: dict[str, dict] = {}  # name -> {"groups", "extras", "intervals", "attacks"}
        self.order: list[str] = []
        self._category_axes()

    def charts(self) -> dict[str, _BarChart]:
        return {
            "hit_by_group": self.hit,
            "ndcg_by_group": self.ndcg,
            "forgotten_recall": self.memory,
            "attack_auc": self.attack,
            "time": self.time,
        }

    def reset(self, attack_enabled: bool = True) -> None:
        for chart in (self.hit, self.ndcg, self.memory, self.time):
            chart.reset(WAITING if chart is not self.time else "appears as models finish")
        self.attack.reset(ATTACK_WAITING if attack_enabled else ATTACK_OFF)
        self.retrain_line.hide()
        self._cost_ends.clear()
        self.models.clear()
        self.order.clear()
        self._category_axes()

    def show_note(self, text: str) -> None:
        """The same words over every bar chart (e.g. the run was cancelled)."""
        for chart in self.charts().values():
            chart.note.set(text)

    def _entry(self, model: str) -> dict:
        if model not in self.order:
            self.order.append(model)
        return self.models.setdefault(model, {"groups": {}, "extras": {}, "intervals": {}, "attacks": {}})

    def set_model(self, model: str, groups, extras, intervals=None, *, redraw: bool = True) -> None:
        """Grouped metrics (``group -> metric -> value``) and extras; ``intervals``:
        ``group/metric -> (low, high)`` when known. Extras merge, they never replace.
        ``redraw=False``: kept for the caller's next :meth:`refresh` (live runs batch them)."""
        entry = self._entry(model)
        if groups:
            entry["groups"] = {g: dict(m) for g, m in groups.items()}
        entry["extras"].update({k: float(v) for k, v in extras.items() if v is not None})
        entry["intervals"].update(intervals or {})
        if redraw:
            self.refresh()

    def set_attack(self, model: str, attack: str, value: float, low=None, high=None, *, redraw: bool = True) -> None:
        self._entry(model)["attacks"][attack] = (value, low, high)
        if redraw:
            self.refresh()

    def refresh(self) -> None:
        self._category_axes()
        self._group_bars()
        self._attack_bars()
        for i, name in enumerate(self.order):
            entry = self.models[name]
            self._memory_bar(i, name, entry)
            self._time_bar(i, name, entry)

    def _category_axes(self) -> None:
        """Models top to bottom on the left axis of the memory and cost charts."""
        ticks = [[(i, n) for i, n in enumerate(self.order)]]
        span = max(len(self.order), 2) - 0.4
        for chart in (self.memory, self.time):
            chart.plot.getAxis("left").setTicks(ticks)
            chart.plot.setYRange(span, -0.6, padding=0)
            chart.plot.getViewBox().invertY(True)

    def _group_bars(self) -> None:
        names = [n for n in self.order if self.models[n]["groups"]]
        width = 0.8 / max(1, len(names))
        for j, name in enumerate(names):
            entry = self.models[name]
            x = np.arange(len(GROUPS)) + (j - (len(names) - 1) / 2) * width
            for key, chart in (("hit@10", self.hit), ("ndcg@10", self.ndcg)):
                heights = np.nan_to_num(
                    np.asarray([entry["groups"].get(g, {}).get(key, np.nan) for g in GROUPS], dtype=float), nan=0.0
                )
                chart.bar(name).setOpts(x=x, height=heights, width=width * 0.92)
                chart.y.include(float(heights.max()))
                bounds = [entry["intervals"].get(f"{g}/{key}", (np.nan, np.nan)) for g in GROUPS]
                chart.error(name, x, heights, [b[0] for b in bounds], [b[1] for b in bounds])
                chart.note.set(None)

    def _memory_bar(self, i: int, name: str, entry: dict) -> None:
        recall = entry["extras"].get("forgotten_recall@10")
        if recall is None or not np.isfinite(recall):
            return
        self.memory.bar(name).setOpts(x0=[0], y=[i], height=[0.6], width=[recall])
        low, high = entry["intervals"].get("forgotten_recall@10", (np.nan, np.nan))
        self.memory.error(name, [i], [recall], [low], [high])
        self.memory.y.include(recall)
        self.memory.note.set(None)

    def _attack_bars(self) -> None:
        """One bar per model beside each attack, with its interval."""
        names = [n for n in self.order if self.models[n]["attacks"]]
        width = 0.8 / max(1, len(names))
        for j, name in enumerate(names):
            found = self.models[name]["attacks"]
            x = np.arange(len(ATTACKS)) + (j - (len(names) - 1) / 2) * width
            values = [found.get(a, (np.nan, None, None)) for a in ATTACKS]
            heights = np.asarray([np.nan if v[0] is None else v[0] for v in values], dtype=float)
            lows = [np.nan if v[1] is None else v[1] for v in values]
            highs = [np.nan if v[2] is None else v[2] for v in values]
            self.attack.bar(name).setOpts(x=x, height=np.nan_to_num(heights, nan=0.0), width=width * 0.92)
            self.attack.error(name, x, heights, lows, highs)
            self.attack.note.set(None)

    def _time_bar(self, i: int, name: str, entry: dict) -> None:
        """Set-up (light) then this request (dark), end to end, centred on the model's row; the
        words sit on the same row, right of the bar (issue 23: they used to sit above it, where
        a small chart put them beside the previous model's bar)."""
        seconds = entry["extras"].get("time_s")
        if seconds is None or not np.isfinite(seconds):
            return
        prep = entry["extras"].get("prep_s") or 0.0
        self.time.bar(name).setOpts(x0=[prep], y=[i], height=[ROW_BAR], width=[seconds])
        if prep > 0:
            light = QColor(self.colours(name)).lighter(160)
            self.time.bar(f"{name} set-up", light).setOpts(x0=[0], y=[i], height=[ROW_BAR], width=[prep])
        end = prep + seconds
        text = cost_text(name, seconds, prep)
        self.time.label(name, text, end, i, anchor=(0.0, 0.5))
        self._cost_ends[name] = end
        self._fit_cost_range()
        if name == "retrain":
            self.retrain_line.setPos(end)
            self.retrain_line.show()
        self.time.note.set(None)

    def _fit_cost_range(self, *_args) -> None:
        """The cost axis reaches past every bar by its words' width at the plot's present width
        (again on every resize: a narrower plot needs a longer axis)."""
        if not self._cost_ends:
            return
        labels = self.time.labels
        high = max(
            end * self._room_for(labels[n], labels[n].textItem.toPlainText()) for n, end in self._cost_ends.items()
        )
        self.time.y.high = max(high, 1e-3)
        self.time.y._apply()

    def _room_for(self, label: pg.TextItem, text: str) -> float:
        """How far the value axis must reach, as a multiple of a bar's end, so that ``text``
        drawn right of the bar stays inside the plot (at the plot's present width)."""
        width = self.time.plot.getViewBox().width() or 300.0
        needed = QFontMetrics(label.textItem.font()).horizontalAdvance(text) + 12
        share = min(needed / width, 0.75)  # beyond that the label is clipped rather than the bars crushed
        return 1.0 / (1.0 - share)


ROW_BAR = 0.55
"""A cost bar's thickness, in rows: centred on its model's row, like the axis name."""


def cost_text(name: str, seconds: float, prep: float) -> str:
    """Short enough to sit in the chart: ``12 min 16 s + 0.03 s = 12 min 16 s`` (set-up +
    request = total); base: its training time; retrain: its time."""
    if name == "base":
        return "training " + (format_seconds(seconds) + (" (cached)" if seconds == 0 else ""))
    if name == "retrain":
        return "retraining " + format_seconds(seconds + prep)
    if prep <= 0:
        return f"{format_seconds(seconds)} (no set-up)"
    return f"{format_seconds(prep)} + {format_seconds(seconds)} = {format_seconds(prep + seconds)}"
