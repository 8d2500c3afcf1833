"""How a figure's 95 % interval and its paired differences are written.

Where they live is the result's business: :meth:`core.result.ModelReport.figure` gives a
``flat()`` key's value, interval and paired differences from retrain and base as fields.
Runs stored before the evidence existed simply have none.
"""

from __future__ import annotations

from core.evaluation.estimates import Estimate
from core.reporting.catalogue import MetricEntry
from core.reporting.numbers import MISSING
from core.result import ModelReport


def interval_text(entry: MetricEntry, low: float, high: float, signed: bool = False) -> str:
    """``[0.1980, 0.2310]`` in the figure's own format."""
    fmt = entry.format_delta if signed else entry.format
    return f"[{fmt(low)}, {fmt(high)}]"


def value_text(entry: MetricEntry, report: ModelReport | None, value) -> str:
    """The value with its interval where it has one (``0.2140 [0.1980, 0.2310]``); the
    known-user count as ``12 of 42``."""
    text = entry.format(value)
    if report is None or text == MISSING:
        return text
    if entry.key == "known_forgotten_users" and report.known_users is not None:
        return f"{text} of {entry.format(report.known_users.n_users)}"
    found = report.figure(entry.key).finite_interval
    return f"{text} {interval_text(entry, found.low, found.high)}" if found else text


def difference_text(entry: MetricEntry, found: Estimate | None, point=None) -> str:
    """A paired difference with its interval, else the plain point difference ``point``."""
    if found is None:
        return entry.format_delta(point)
    return f"{entry.format_delta(found.value)} {interval_text(entry, found.low, found.high, signed=True)}"
