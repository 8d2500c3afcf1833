"""Where a figure's 95 % interval and its paired differences live, and how they are written.

The evidence (``core/evidence.py``) stores intervals in a few places of a
:class:`core.result.ModelReport`: ``intervals`` for per-user figures, ``differences`` for
paired differences against retrain and base, the attacks' own entries (with
``vs_retrain``), and ``agreement``. Views ask here, by ``flat()`` key, so no view knows
that layout. Runs stored before the evidence existed simply have no intervals.
"""

from __future__ import annotations

from core.reporting.catalogue import MetricEntry
from core.reporting.numbers import MISSING, is_finite
from core.result import ATTACK_KEYS, ModelReport

Triple = tuple[float, float, float]  # value, low, high

_ATTACK_OF_KEY = {key: name for name, key in ATTACK_KEYS.items()}


def attack_name(key: str) -> str | None:
    """The attack a ``flat()`` key reports (``attack/record_auc`` → ``record-level``)."""
    if key in _ATTACK_OF_KEY:
        return _ATTACK_OF_KEY[key]
    return key.removeprefix("attack/") if key.startswith("attack/") else None


def value_interval(report: ModelReport, key: str) -> tuple[float, float] | None:
    """The figure's own 95 % interval, or None where there is none (or it is NaN)."""
    found = report.interval_of(key)
    if found is None or not (is_finite(found[0]) and is_finite(found[1])):
        return None
    return float(found[0]), float(found[1])


def difference(report: ModelReport, key: str, reference: str) -> Triple | None:
    """``model − reference`` paired over the same users, with its interval; None where the
    evidence has no paired difference for this figure (an attack has one against retrain only)."""
    found = report.differences.get(reference, {}).get(key)
    if found is None and reference == "retrain":
        attack = report.attacks.get(attack_name(key) or "", {})
        found = attack.get("vs_retrain")
    if found is None or not all(is_finite(v) for v in found):
        return None
    value, low, high = found
    return float(value), float(low), float(high)


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
    if entry.key == "known_forgotten_users" and report.known_users.get("n_users") is not None:
        return f"{text} of {entry.format(report.known_users['n_users'])}"
    found = value_interval(report, entry.key)
    return f"{text} {interval_text(entry, *found)}" if found else text


def difference_text(entry: MetricEntry, found: Triple | None, point=None) -> str:
    """A paired difference with its interval, else the plain point difference ``point``."""
    if found is None:
        return entry.format_delta(point)
    value, low, high = found
    return f"{entry.format_delta(value)} {interval_text(entry, low, high, signed=True)}"
