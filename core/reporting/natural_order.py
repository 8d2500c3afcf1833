"""IDs in the order people count them: ``u2`` before ``u10``, ``18`` before ``169`` (a plain
text sort puts "169" first), for the reports' lists of forgotten users, items and pairs."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"(\d+)")


def natural_key(text) -> tuple:
    """Sort key: runs of digits compared as numbers, the rest as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(str(text)) if part)
