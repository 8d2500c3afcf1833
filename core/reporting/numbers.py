"""The few ways figures are written (what counts as a number: :func:`core.numbers.is_finite`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.numbers import is_finite  # noqa: F401 - re-exported: the views and reports name it from here

SCORE, AUC, SECONDS, SPEEDUP, COUNT = "score", "auc", "seconds", "speedup", "count"
FORMATS = (SCORE, AUC, SECONDS, SPEEDUP, COUNT)
MISSING = "—"


def format_seconds(seconds: float, clock: bool = False) -> str:
    """``12.34 s`` below 100 s, ``12 min 16 s`` below an hour, ``1 h 02 min`` above; as a
    ``clock`` (elapsed and time left) whole seconds, ``12 s`` below a minute, then the same."""
    if clock:
        seconds = max(0, int(round(seconds)))
    if seconds < (60 if clock else 100):
        return f"{seconds} s" if clock else f"{seconds:.2f} s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def format_value(fmt: str, value: Any) -> str:
    """A figure as shown in tables, the story and the report; "—" when there is none."""
    if not is_finite(value):
        return MISSING
    value = float(value)
    if fmt == SECONDS:
        return format_seconds(value)
    if fmt == SPEEDUP:
        return f"{value:.1f}×"
    if fmt == COUNT:
        return f"{int(round(value)):,}"
    if fmt == AUC:
        return f"{value:.3f}"
    return f"{value:.4f}"


def format_delta(fmt: str, value: Any) -> str:
    """A signed difference (model − reference) in the figure's own format."""
    if not is_finite(value):
        return MISSING
    value = float(value)
    if fmt == SECONDS:
        return f"{value:+.2f} s"
    if fmt == SPEEDUP:
        return f"{value:+.1f}×"
    if fmt == COUNT:
        return f"{int(round(value)):+,}"
    if fmt == AUC:
        return f"{value:+.3f}"
    return f"{value:+.4f}"


def format_plain(value: Any, digits: int = 4) -> str:
    """A dataset cell: integers with thousands separators, floats to ``digits`` places."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return MISSING
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{float(value):.{digits}f}"
    return str(value)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table for the terminal: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    return "\n".join(
        "  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])])
        for row in [header] + rows
    )
