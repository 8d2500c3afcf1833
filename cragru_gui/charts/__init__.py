"""Live charts (pyqtgraph): training curves as declared by each model, result bars."""

from cragru_gui.charts.metrics_chart import MetricsChart  # noqa: F401
from cragru_gui.charts.plotting import ModelColours, widget_png  # noqa: F401
