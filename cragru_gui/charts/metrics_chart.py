"""All run charts in one widget: live training curves above, result bars below.

Every curve and bar is created once and then updated (``setData``/``setOpts``, never
``clear()``/``plot()`` per tick); axis ranges only grow, so nothing jumps while a run
streams in.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from cragru_gui.charts import result_bars as rb
from cragru_gui.charts.chart_frame import ChartFrame, curve_legend_html, legend_html
from cragru_gui.charts.plotting import ModelColours, widget_png
from cragru_gui.charts.result_bars import ResultBars
from cragru_gui.charts.training_curves import TrainingCurves
from cragru_gui.common.run_notes import sampled_models

MODEL_TEXT = {"base": "base (trained on all data)", "retrain": "retrain (gold standard)"}
SHORT_TEXT = {"base": "base", "retrain": "retrain (target)"}
LOSS_HELP = (
    "The training objective of each model being trained, per epoch or step, drawn live. It should "
    "fall and flatten; it says how training went, not how good the model is."
)
VALIDATION_HELP = (
    "Ranking quality (NDCG@10) on validation data — interactions held apart from training — "
    "measured while each model trains. Training stops when it no longer improves."
)
DIAGNOSTICS_HELP = (
    "What each unlearning method tracks about itself while it runs, as it declares it (for "
    "example its loss on the forgotten rows). Outside the shared protocol: not judged."
)


DRAW_EVERY_MS = 500
"""Live curves and bars are drawn at most twice a second. Drawn per point, the charts of a demo
rerun repainted ~80 times a second, and the painting (Python, holding the GIL) slowed the
run's own thread: the second Start took 13.6 s in the window against 8.6 s from the CLI."""


class MetricsChart(QWidget):
    """The charts tab (object name ``metricsChart``); fed with engine events or a stored run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsChart")
        self.colours = ModelColours()
        self.training = TrainingCurves(self.colours)
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(DRAW_EVERY_MS)
        self._draw_timer.timeout.connect(self._draw_pending)
        self._bars_pending = False  # live results kept, not drawn yet
        self.bars = ResultBars(self.colours)
        self.legend = QLabel(self)
        self.legend.setObjectName("chartLegend")
        self.legend.setWordWrap(True)
        self.legend.setToolTip("Each model keeps its colour in every chart")
        self.status = QLabel(self)
        self.status.setObjectName("chartStatus")
        self.status.setProperty("role", "banner")
        self.status.setWordWrap(True)
        self.status.hide()
        self.sampled: dict[str, str] = {}  # model -> its "measured on a user sample" note
        panels, bars = self.training.panels, self.bars
        self.frames = {
            "training_loss": ChartFrame(panels["loss"].plot, "Training loss", text=LOSS_HELP, legend=True),
            "validation_ndcg": ChartFrame(
                panels["validation"].plot, "Validation NDCG@10", text=VALIDATION_HELP, legend=True
            ),
            "diagnostics": ChartFrame(
                panels["diagnostics"].plot, "Method diagnostics", text=DIAGNOSTICS_HELP, legend=True
            ),
            "forgotten_recall": ChartFrame(
                bars.memory.plot, "Still remembered", ["forgotten_recall@10"], rb.MEMORY_HELP
            ),
            "hit_by_group": ChartFrame(
                bars.hit.plot, "Hit@10 by user group", ["retain/hit@10"], rb.HIT_HELP, legend=True
            ),
            "ndcg_by_group": ChartFrame(
                bars.ndcg.plot, "NDCG@10 by user group", ["retain/ndcg@10"], rb.NDCG_HELP, legend=True
            ),
            "attack_auc": ChartFrame(
                bars.attack.plot,
                "Membership attacks",
                ["attack/fold_in_auc", "attack/record_auc"],
                rb.ATTACK_HELP,
                legend=True,
            ),
            "time": ChartFrame(
                bars.time.plot,
                "Cost",
                ["prep_time_s", "time_s", "speedup_vs_retrain", "speedup_incl_setup"],
                rb.TIME_HELP,
            ),
        }
        self._lay_out()

    ORDER = (
        "training_loss",
        "validation_ndcg",
        "diagnostics",
        "forgotten_recall",
        "hit_by_group",
        "ndcg_by_group",
        "attack_auc",
        "time",
    )
    COLUMN_WIDTH = 300  # a chart narrower than this crowds its labels: fewer charts per row instead

    def _lay_out(self) -> None:
        self.columns = 0
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(6)
        self._arrange(4)

    def _arrange(self, columns: int) -> None:
        """The eight charts in ``columns`` columns (4, 2 or 1): a small window scrolls down
        through readable charts instead of squeezing all eight into view (issue 23)."""
        if columns == self.columns:
            return
        grid = self.grid
        for widget in (self.status, self.legend, *self.frames.values()):
            grid.removeWidget(widget)
        for i in range(6):
            grid.setRowStretch(2 + i, 0)
            grid.setColumnStretch(i, 0)
        grid.addWidget(self.status, 0, 0, 1, columns)
        grid.addWidget(self.legend, 1, 0, 1, columns)
        for i, name in enumerate(self.ORDER):
            grid.addWidget(self.frames[name], 2 + i // columns, i % columns)
        for row in range(-(-len(self.ORDER) // columns)):
            grid.setRowStretch(2 + row, 1)
        for column in range(columns):
            grid.setColumnStretch(column, 1)
        self.columns = columns

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        width = event.size().width()
        self._arrange(4 if width >= 4 * self.COLUMN_WIDTH else 2 if width >= 2 * self.COLUMN_WIDTH else 1)
        self._fit_rows()
        super().resizeEvent(event)

    def _fit_rows(self) -> None:
        """With fewer than four columns the charts scroll: two rows fill the visible height
        (at least 190 px each), so a chart is neither a sliver nor taller than the view."""
        viewport = self.parentWidget()
        for frame in self.frames.values():
            if self.columns == 4 or viewport is None:
                frame.setMinimumHeight(0)
                frame.setMaximumHeight(16_777_215)
            else:
                height = max(190, (viewport.height() - self.legend.sizeHint().height() - 20) // 2)
                frame.setMinimumHeight(height)
                frame.setMaximumHeight(height)

    # -- feeding ---------------------------------------------------------------------------------
    def reset(self, mia_enabled: bool = True, *, stored: bool = False) -> None:
        """Start a new run (or show a stored one): every chart emptied."""
        self._draw_timer.stop()
        self._bars_pending = False
        self.training.reset("stored" if stored else None)
        self.bars.reset(attack_enabled=mia_enabled)
        self.sampled = {}
        self.set_status("")
        self._update_legend()

    def set_status(self, text: str) -> None:
        """A banner over the charts (e.g. "Cancelled …"); empty hides it."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def stopped(self, text: str, note: str) -> None:
        """The run ended without a result: the banner says so, and so does every empty bar chart."""
        self.set_status(text)
        for chart in self.bars.charts().values():
            if not chart.bars:
                chart.note.set(note)

    def flag_samples(self, sampled: dict[str, str]) -> None:
        """Models measured on a user sample (name → note): said in every legend."""
        self.sampled = dict(sampled)
        self._update_legend()

    def add_metric(self, event) -> None:
        """A :class:`core.events.MetricEvent`: the model's declared values, drawn with the
        others that arrive within :data:`DRAW_EVERY_MS` (a run sends hundreds a second)."""
        self.training.append(event.model, event.stage, event.step, event.values)
        self._draw_soon()

    def _draw_soon(self) -> None:
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    def draw_now(self) -> None:
        """Draw what live events left pending (before the charts are read or captured)."""
        self._draw_timer.stop()
        self._draw_pending()

    def _draw_pending(self) -> None:
        bars, self._bars_pending = self._bars_pending, False
        if bars:
            self.bars.refresh()
        if self.training.draw_pending() or bars:
            self._update_legend()

    def add_model_result(self, event) -> None:
        """A :class:`core.events.ModelResultEvent`: grouped metrics and extras of a model."""
        self.bars.set_model(event.model, event.groups, event.extras, event.intervals, redraw=False)
        self._bars_pending = True
        self._draw_soon()

    def add_attack_result(self, event) -> None:
        """A :class:`core.events.AttackResultEvent`."""
        self.bars.set_attack(event.model, event.attack, event.value, event.low, event.high, redraw=False)
        self._bars_pending = True
        self._draw_soon()

    def show_result(self, result) -> None:
        """Fill every chart from a stored :class:`core.result.RunResult`: bars and recorded curves."""
        self._draw_timer.stop()
        self.reset(mia_enabled=bool(result.config.get("mia", True)), stored=True)
        for name, report in result.models.items():
            extras = {**report.forgotten_recall, "time_s": report.time_s, "prep_s": report.prep_time_s}
            intervals = {key: (found.low, found.high) for key, found in report.intervals.items()}
            self.bars.set_model(name, report.groups, extras, intervals, redraw=False)
            for attack, found in report.attacks.items():
                self.bars.set_attack(name, attack, found.auc, found.interval.low, found.interval.high, redraw=False)
        self.bars.refresh()  # once, not once per model
        self.training.replay(result.curves or {})
        self.flag_samples(sampled_models(result))

    def _update_legend(self) -> None:
        names = list(self.bars.order) + [m for m in self.training.models if m not in self.bars.order]
        self.legend.setText(legend_html(names, self.colours, self._model_text))
        grouped = legend_html(self.bars.order, self.colours, self._short_text, "bars left to right:")
        for name in ("hit_by_group", "ndcg_by_group", "attack_auc"):
            self.frames[name].set_legend(grouped)
        for name, panel in (
            ("training_loss", "loss"),
            ("validation_ndcg", "validation"),
            ("diagnostics", "diagnostics"),
        ):
            self.frames[name].set_legend(curve_legend_html(self.training.legend_entries(panel)))

    def _model_text(self, name: str) -> str:
        sample = " — measured on a user sample" if name in self.sampled else ""
        return MODEL_TEXT.get(name, name) + sample

    def _short_text(self, name: str) -> str:
        return SHORT_TEXT.get(name, name) + (" (user sample)" if name in self.sampled else "")

    # -- reading back ----------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.PlotWidget]:
        return {name: frame.plot for name, frame in self.frames.items()}

    def png_images(self) -> dict[str, bytes]:
        """Every chart as PNG bytes: the plot with its colour legend (what the person sees),
        without the "?" button, which means nothing on paper."""
        self.draw_now()
        images = {}
        for name, frame in self.frames.items():
            frame.help.hide()
            images[name] = widget_png(frame)
            frame.help.show()
        return images

    def curve_points(self, series: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The data a live curve shows (``series`` = ``model/stage``)."""
        return self.training.points(series, key)
