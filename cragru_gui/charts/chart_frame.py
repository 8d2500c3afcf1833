"""One chart as the person sees it: the plot, a "?" in its corner that opens what it shows
(glossary), and — for bar charts — a legend under it mapping each colour to a model, so a
chart grabbed alone for the report still says which bar is which."""

from __future__ import annotations

import html
from typing import Iterable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from cragru_gui.common.glossary import HelpButton


def legend_html(names: Iterable[str], colour, text=lambda name: name, lead: str = "") -> str:
    """Coloured squares with each model's name (``text`` gives its words); ``lead`` before them
    (e.g. "bars left to right:", so the order is a second cue beside the colour)."""
    names = list(names)
    items = "&nbsp;&nbsp; ".join(f"<span style='color:{colour(n)}'>■</span>&nbsp;{html.escape(text(n))}" for n in names)
    return f"{html.escape(lead)} {items}" if lead and names else items


def curve_legend_html(entries: Iterable[tuple[str, str, bool]]) -> str:
    """A line sample (solid or dashed) in each curve's colour with its name."""
    return "&nbsp;&nbsp; ".join(
        f"<span style='color:{colour}'>{'╍╍' if dashed else '━━'}</span>&nbsp;{html.escape(name)}"
        for name, colour, dashed in entries
    )


class ChartFrame(QWidget):
    """A plot with its "?" button (top left, above the value axis, clear of the title) and, when ``legend``,
    a colour legend below."""

    def __init__(
        self,
        plot: pg.PlotWidget,
        title: str,
        keys: Iterable[str] = (),
        text: str = "",
        legend: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chartFrame")
        self.plot = plot
        self.help = HelpButton(title, keys, text, parent=self)
        self.legend = QLabel(self)
        self.legend.setObjectName("barLegend")
        self.legend.setProperty("role", "hint")
        self.legend.setWordWrap(True)
        self.legend.setVisible(legend)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        grid.addWidget(plot, 0, 0)
        grid.addWidget(self.help, 0, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.legend, 1, 0)
        grid.setRowStretch(0, 1)
        self.help.raise_()  # the plot was re-parented after the button was made: keep the "?" on top

    def set_legend(self, text: str) -> None:
        if text != self.legend.text():  # live curves call this per point: no relayout when nothing changed
            self.legend.setText(text)
