"""*Who was affected*: the run's breakdown by user attribute as small multiples, and a map.

One plot per attribute (activity, age band, gender, occupation...): a bar per group for the
chosen method with its 95 % interval as an error bar, retraining's value in that group as a
green reference dash; shown as the paired change against retraining, the zero line is retraining;
shown as the paired change against the original model, the dash is retraining's own. The plot's title
carries the attribute's fairness gap beside the original model's. Clicking a bar lists that
group's people (most moved from retraining's top-10 first) beside the plots; double-clicking
a person opens them in the Inspector. Every figure comes from ``result.breakdown`` (core);
nothing is computed here but list orderings.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg  # noqa: E402  (PySide6 is imported first)
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.breakdown.map_layout import moved_from_retrain
from core.reporting.breakdown_text import metric_short, who_else_sentence
from cragru_gui.charts.plotting import FIXED, PALETTE, TEXT, make_plot

VALUE, CHANGE, FROM_ORIGINAL = "value", "vs_retrain", "vs_base"
SHOW_CHOICES = (
    (VALUE, "value (retraining: green dash)"),
    (CHANGE, "change against retraining"),
    (FROM_ORIGINAL, "change against the original (retraining: green dash)"),
)
AXIS_TITLES = {VALUE: "", CHANGE: "method − retrain", FROM_ORIGINAL: "model − original"}
METRIC_CHOICES = ("ndcg@10", "hit@10", "recall@10", "precision@10", "mrr@10", "jaccard@10", "rbo@10")
EMPTY = "Run an experiment (or open one from History) to see who was affected, group by group."
MAX_LISTED = 5000
PLOT_HEIGHT = 180
"""Pixels of one small multiple (the page scrolls when they do not all fit)."""
WIDE_GROUPS = 6
"""An attribute with more groups than this (occupation) gets a whole row of plots."""


def _e(text) -> str:
    """Escaped for a rich-text label (apostrophes kept as they are)."""
    return html.escape(str(text), quote=False)


class PeopleList(QWidget):
    """The people of a chosen bar (or a map selection), also listed in the Inspector (its "Show:"
    choice); double-click opens one there."""

    def __init__(self, open_user, parent: QWidget | None = None, listed=None) -> None:
        super().__init__(parent)
        self.open_user = open_user
        self.listed = listed  # (title, users): the same people listed in the Inspector
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Click a bar (or select on the map) to list those people.", self)
        self.title.setObjectName("peopleTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.list = QListWidget(self)
        self.list.setObjectName("peopleList")
        self.list.setToolTip("Double-click a person to open their before/after lists in the Inspector")
        self.list.itemActivated.connect(self._open)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        self.users: list[int] = []
        self.kind = "users"

    def show_people(self, title: str, users, names, moved=None, kind: str = "users") -> None:
        """``users`` (indices; items when ``kind`` is "items") shown by ``names``, ordered by
        ``moved`` (largest first) when given; only people open in the Inspector."""
        self.kind = kind
        users = np.asarray(users, dtype=np.int64)
        if moved is not None and len(users):
            key = np.asarray(moved, dtype=float)[users]
            order = np.argsort(-(np.abs(key) if kind == "items" else key), kind="stable")
            users = users[order]
        shown = users[:MAX_LISTED]
        more = f" (first {MAX_LISTED:,} shown)" if len(users) > MAX_LISTED else ""
        noun = "people" if kind == "users" else "items"
        self.title.setText(f"<b>{_e(title)}</b>: {len(users):,} {noun}{more}")
        self.list.clear()
        self.users = shown.tolist()
        if self.listed is not None and kind == "users":
            self.listed(title, users.tolist())
        for u in self.users:
            text = names(u)
            if moved is not None and kind == "users":
                text += f" — top-10 {moved[u]:.0%} away from retraining's"
            elif moved is not None:
                text += f" — in {moved[u]:+.0f} more top-10 lists than under retraining"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, int(u))
            self.list.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        if self.kind == "users":
            self.open_user(int(item.data(Qt.ItemDataRole.UserRole)))


class GroupPlots(QWidget):
    """The small multiples: one plot per attribute, bars per group for one method."""

    def __init__(self, on_group, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on_group = on_group
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.cells: list[QWidget] = []  # each plot with its title (and, for many groups, its key) above/below

    def clear(self) -> None:
        for cell in self.cells:
            self.grid.removeWidget(cell)
            cell.hide()  # at once: deleteLater waits for the event loop, and until then the old plot
            cell.deleteLater()  # stayed drawn under the new one (titles and keys overprinted)
        self.cells.clear()
        self.plots.clear()

    def draw(self, breakdown, model: str, metric: str, show: str) -> None:
        self.clear()
        names = sorted(breakdown.attributes, key=lambda n: len(breakdown.attributes[n].groups) > WIDE_GROUPS)
        columns = 2 if len(names) > 1 else 1
        cell = 0
        for name in names:
            ab = breakdown.attributes[name]
            span = columns if len(ab.groups) > WIDE_GROUPS else 1  # many groups: the whole row
            if span > 1 and cell % columns:
                cell += columns - cell % columns
            plot = make_plot("", AXIS_TITLES[show])
            plot.setTitle(None)  # the title is a wrapping label above: a long one must not widen the plot
            plot.setFixedHeight(PLOT_HEIGHT)  # the page scrolls; a plot neither squeezes nor balloons
            plot.setObjectName(f"affectedPlot_{name}")
            self._bars(plot, ab, model, metric, show)
            plot.scene().sigMouseClicked.connect(lambda event, p=plot, a=name: self._clicked(p, a, event))
            self.plots[name] = plot
            holder = _titled(plot, _title(ab, model, metric), _key(ab) if _numbered(ab) else "")
            self.cells.append(holder)
            self.grid.addWidget(holder, cell // columns, cell % columns, 1, span)
            cell += span

    def _bars(self, plot: pg.PlotWidget, ab, model: str, metric: str, show: str) -> None:
        n = len(ab.groups)
        x = np.arange(n, dtype=float)
        cells = [ab.cell(show, model, metric, g) for g in range(n)]
        value, low, high = (np.asarray([c[i] if c else np.nan for c in cells]) for i in range(3))
        height = np.nan_to_num(value)
        colour = QColor(PALETTE[0])
        plot.addItem(pg.BarGraphItem(x=x, height=height, width=0.6, brush=colour, pen=pg.mkPen("#ffffff")))
        keep = np.isfinite(low) & np.isfinite(high)
        if keep.any():
            plot.addItem(
                pg.ErrorBarItem(
                    x=x[keep],
                    y=value[keep],
                    top=(high - value)[keep],
                    bottom=(value - low)[keep],
                    beam=0.15,
                    pen=pg.mkPen(TEXT, width=1),
                )
            )
        if show != CHANGE:  # retraining's own value, or its own change against the original, per group
            ref = np.asarray([(ab.cell(show, "retrain", metric, g) or [np.nan])[0] for g in range(n)])
            ok = np.isfinite(ref)
            dash = np.repeat(x[ok], 2) + np.tile([-0.38, 0.38], int(ok.sum()))
            plot.addItem(
                pg.PlotDataItem(dash, np.repeat(ref[ok], 2), connect="pairs", pen=pg.mkPen(FIXED["retrain"], width=3))
            )
        else:
            plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(FIXED["retrain"], width=2)))
        axis = plot.getPlotItem().getAxis("bottom")
        if _numbered(ab):  # many or long names: numbers on the axis, the names in the key below
            axis.setTicks([[(i, str(i + 1)) for i in range(n)]])
        else:
            axis.setTicks([[(i, _short(g)) for i, g in enumerate(ab.groups)]])
        plot.setXRange(-0.6, n - 0.4, padding=0)
        plot.setToolTip(
            "Bars: the method, with 95 % intervals; green: retraining (the gold standard). Click a bar to list the "
            "group's people."
        )

    def _clicked(self, plot: pg.PlotWidget, attribute: str, event) -> None:
        point = plot.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        self.on_group(attribute, int(round(point.x())))


def _titled(plot: pg.PlotWidget, title: str, key: str) -> QWidget:
    """``plot`` with its title above (wrapping) and, for many groups, the numbered key below."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for text in (title, None, key):
        if text is None:
            layout.addWidget(plot)
        elif text:
            label = QLabel(text, holder)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            layout.addWidget(label)
    layout.addStretch(1)  # side by side, plots line up at the top
    return holder


def _numbered(ab) -> bool:
    """Numbers on the axis (names in a key) where the names would run into each other."""
    return len(ab.groups) > WIDE_GROUPS or (len(ab.groups) > 3 and max(len(g) for g in ab.groups) > 8)


def _key(ab) -> str:
    """``1 administrator · 2 artist · …``: the names behind the numbered bars."""
    return " · ".join(f"<b>{i + 1}</b> {_e(g)}" for i, g in enumerate(ab.groups))


def _short(group: str, width: int = 14) -> str:
    """A tick label: the band without its range (the range is in the list title), "under 18" as
    "<18" (five age bands side by side in a narrow plot ran into each other), long names cut."""
    text = (group.split(" (")[0] if len(group) > 14 else group).replace("under ", "<")
    return text if len(text) <= width else text[: width - 1] + "…"


def _title(ab, model: str, metric: str) -> str:
    gap = ab.gaps.get(model, {}).get(metric)
    base = ab.gaps.get("base", {}).get(metric)
    text = _e(ab.label)
    if gap and all(np.isfinite(gap)):
        text += f" — gap {gap[0]:.3f} [{gap[1]:.3f}, {gap[2]:.3f}]"
        if base and np.isfinite(base[0]):
            text += f" (original {base[0]:.3f})"
    return text


class AffectedView(QWidget):
    """Method and metric choices, the who-else sentence, the small multiples."""

    def __init__(self, people: PeopleList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("affectedView")
        self.people = people
        self.result = None
        self.names = str
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("affectedModel")
        self.metric_combo = QComboBox(self)
        self.metric_combo.setObjectName("affectedMetric")
        self.show_combo = QComboBox(self)
        self.show_combo.setObjectName("affectedShow")
        for key, label in SHOW_CHOICES:
            self.show_combo.addItem(label, key)
        for label, combo in (
            ("Method:", self.model_combo),
            ("Measure:", self.metric_combo),
            ("Show:", self.show_combo),
        ):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            controls.addWidget(QLabel(label, self))
            controls.addWidget(combo)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.sentence = QLabel(EMPTY, self)
        self.sentence.setObjectName("affectedSentence")
        self.sentence.setWordWrap(True)
        self.sentence.setTextFormat(Qt.TextFormat.RichText)
        self.sentence.setProperty("role", "info")
        layout.addWidget(self.sentence)
        self.plots = GroupPlots(self._group_clicked, self)
        scroll = QScrollArea(self)  # the plots keep a readable size and scroll on a small screen
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.plots)
        layout.addWidget(scroll, 1)
        for combo in (self.model_combo, self.metric_combo, self.show_combo):
            combo.currentIndexChanged.connect(lambda *_: self.redraw())

    def set_run(self, result, names) -> None:
        self.result, self.names = result, names
        breakdown = getattr(result, "breakdown", None)
        for combo in (self.model_combo, self.metric_combo):
            combo.blockSignals(True)
            combo.clear()
        if breakdown is not None:
            for name, report in result.models.items():
                if name != "retrain":
                    self.model_combo.addItem(report.label, name)
            methods = [self.model_combo.itemData(i) for i in range(self.model_combo.count())]
            preferred = next((m for m in methods if m != "base"), None)
            if preferred is not None:
                self.model_combo.setCurrentIndex(self.model_combo.findData(preferred))
            for metric in METRIC_CHOICES:
                if metric in breakdown.metrics:
                    self.metric_combo.addItem(metric_short(metric), metric)
        for combo in (self.model_combo, self.metric_combo):
            combo.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        breakdown = getattr(self.result, "breakdown", None)
        model, metric = self.model_combo.currentData(), self.metric_combo.currentData()
        if breakdown is None or model is None or metric is None:
            self.plots.clear()
            self.sentence.setText(EMPTY if self.result is None else "This run has no breakdown by user attribute.")
            return
        said = who_else_sentence(breakdown, model, metric)
        self.sentence.setText(
            _e(
                said
                or f"No group of any attribute lost {metric_short(metric)} against retraining beyond the "
                "tolerance while the others held."
            )
        )
        self.plots.draw(breakdown, model, metric, self.show_combo.currentData())

    def _group_clicked(self, attribute: str, group: int) -> None:
        breakdown = self.result.breakdown
        ab = breakdown.attributes[attribute]
        if not 0 <= group < len(ab.groups):
            return
        users = ab.members(np.asarray(breakdown.users), group)
        model = self.model_combo.currentData()
        moved = None
        topk = self.result.topk
        if model in topk and "retrain" in topk and len(topk[model]) == len(topk["retrain"]):
            moved = moved_from_retrain(topk[model], topk["retrain"])
        self.people.show_people(f"{ab.label}: {ab.groups[group]}", users, self.names, moved)


class AffectedTab(QWidget):
    """The window's *Who was affected* tab: by group and the map, with the people list beside.

    It reads the run the Inspector shows (``inspector.result`` / ``inspector.dataset``) when it
    becomes visible, so the window only has to add it as a tab."""

    def __init__(self, inspector, show_inspector, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("affectedTab")
        self.inspector, self.show_inspector = inspector, show_inspector
        self._shown = None
        self.people = PeopleList(self._open_user, self, listed=inspector.show_users)
        self.by_group = AffectedView(self.people, self)
        from cragru_gui.inspector.map_view import MapView

        self.map = MapView(self.people, self)
        self.pages = QTabWidget(self)
        self.pages.addTab(self.by_group, "By group")
        self.pages.addTab(self.map, "Map")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.pages)
        splitter.addWidget(self.people)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        self.people.setMinimumWidth(300)  # "user 123 — top-10 89% away from retraining's" fits
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Show the Inspector's run, if it changed since last shown."""
        result = getattr(self.inspector, "result", None)
        if result is self._shown:
            return
        self._shown = result
        self.by_group.set_run(result, self._name)
        self.map.set_run(result, getattr(self.inspector, "dataset", None), self._name)

    def _name(self, user: int) -> str:
        dataset = getattr(self.inspector, "dataset", None)
        if dataset is not None and 0 <= user < dataset.n_users:
            return f"user {dataset.user_ids[user]}"
        return f"user #{user}"

    def _open_user(self, user: int) -> None:
        self.inspector.select_user(user)
        self.show_inspector()
