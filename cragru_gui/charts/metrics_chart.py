"""All run charts in one widget: live training curves above, result bars below.

Every curve and bar is created once and then updated (``setData``/``setOpts``, never
``clear()``/``plot()`` per tick); axis ranges only grow, so nothing jumps while a run
streams in.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

import pyqtgraph as pg
from cragru_gui.charts.plotting import ModelColours, widget_png
from cragru_gui.charts.result_bars import ResultBars
from cragru_gui.charts.training_curves import TrainingCurves

MODEL_TEXT = {"base": "base (trained on all data)", "retrain": "retrain (gold standard)"}


class MetricsChart(QWidget):
    """The charts tab (object name ``metricsChart``); fed with engine events or a stored run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsChart")
        self.colours = ModelColours()
        self.training = TrainingCurves(self.colours)
        self.bars = ResultBars(self.colours)
        self.legend = QLabel(self)
        self.legend.setObjectName("chartLegend")
        self.legend.setWordWrap(True)
        self.legend.setToolTip("Each model keeps its colour in every chart")
        self._lay_out()

    def _lay_out(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(6)
        grid.addWidget(self.legend, 0, 0, 1, 4)
        panels = self.training.panels
        grid.addWidget(panels["loss"].plot, 1, 0)
        grid.addWidget(panels["validation"].plot, 1, 1)
        grid.addWidget(panels["diagnostics"].plot, 1, 2)
        grid.addWidget(self.bars.memory.plot, 1, 3)
        grid.addWidget(self.bars.hit.plot, 2, 0)
        grid.addWidget(self.bars.ndcg.plot, 2, 1)
        grid.addWidget(self.bars.attack.plot, 2, 2)
        grid.addWidget(self.bars.time.plot, 2, 3)
        for row in (1, 2):
            grid.setRowStretch(row, 1)
        for column in range(4):
            grid.setColumnStretch(column, 1)

    # -- feeding ---------------------------------------------------------------------------------
    def reset(self, mia_enabled: bool = True, *, stored: bool = False) -> None:
        """Start a new run (or show a stored one): every chart emptied."""
        self.training.reset("stored" if stored else None)
        self.bars.reset(attack_enabled=mia_enabled)
        self._update_legend()

    def add_metric(self, event) -> None:
        """A :class:`core.events.MetricEvent`: the model's declared values are drawn."""
        self.training.add(event.model, event.stage, event.step, event.values)
        self._update_legend()

    def add_model_result(self, event) -> None:
        """A :class:`core.events.ModelResultEvent`: grouped metrics and extras of a model."""
        self.bars.set_model(event.model, event.groups, event.extras, event.intervals)
        self._update_legend()

    def add_attack_result(self, event) -> None:
        """A :class:`core.events.AttackResultEvent`."""
        self.bars.set_attack(event.model, event.attack, event.value, event.low, event.high)

    def show_result(self, result) -> None:
        """Fill every chart from a stored :class:`core.result.RunResult`: bars and recorded curves."""
        self.reset(mia_enabled=bool(result.config.get("mia", True)), stored=True)
        for name, report in result.models.items():
            extras = {**report.forgotten_recall, "time_s": report.time_s, "prep_s": report.prep_time_s}
            self.bars.set_model(name, report.groups, extras, report.intervals)
            for attack, entry in report.attacks.items():
                interval = entry.get("interval", {})
                self.bars.set_attack(name, attack, entry.get("auc"), interval.get("low"), interval.get("high"))
        self.training.replay(result.curves or {})
        self._update_legend()

    def _update_legend(self) -> None:
        names = list(self.bars.order) + [m for m in self.training.models if m not in self.bars.order]
        self.legend.setText("&nbsp;&nbsp; ".join(
            f"<span style='color:{self.colours(n)}; font-size:14px'>■</span> {MODEL_TEXT.get(n, n)}" for n in names))

    # -- reading back ----------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.PlotWidget]:
        panels = self.training.panels
        out = {"training_loss": panels["loss"].plot, "validation_ndcg": panels["validation"].plot,
               "diagnostics": panels["diagnostics"].plot}
        out.update({name: chart.plot for name, chart in self.bars.charts().items()})
        return out

    def png_images(self) -> dict[str, bytes]:
        """Every chart as PNG bytes (widget grabs: what the person sees)."""
        return {name: widget_png(widget) for name, widget in self.plots().items()}

    def curve_points(self, series: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The data a live curve shows (``series`` = ``model/stage``)."""
        return self.training.points(series, key)
