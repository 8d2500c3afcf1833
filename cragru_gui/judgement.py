"""Good / bad colouring of a result cell: plain rules, no Qt, unit-testable.

The retrained model is the target (PROTOCOL.md): for utility on every group, for
forgotten-item recall and for membership-inference AUC a model is good when it is close
to retrain — not when a number is high or low. Cost is judged by the speed-up.
"""

from __future__ import annotations

import math

GOOD, BAD, NEUTRAL = "good", "bad", "neutral"

RELATIVE_TOLERANCE = 0.10  # within 10 % of retrain's value ...
ABSOLUTE_TOLERANCE = 0.005  # ... or within this, whichever is larger


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value))


def tolerance(reference: float) -> float:
    return max(RELATIVE_TOLERANCE * abs(reference), ABSOLUTE_TOLERANCE)


def judge(key: str, value, base, retrain, model: str = "") -> str | None:
    """``good``/``bad``/``neutral`` for ``model``'s ``value`` of metric ``key``; None = no opinion.

    Close to retrain (within :func:`tolerance`) is good; having moved more than halfway
    from base to retrain is good; further than three tolerances and not halfway is bad.
    """
    if model == "retrain" or not _number(value):
        return None
    if key == "time_s":
        return None
    if key == "speedup_vs_retrain":
        return GOOD if value > 1.0 else BAD if value < 1.0 else NEUTRAL
    if not _number(retrain):
        return None
    gap = abs(value - retrain)
    tol = tolerance(retrain)
    if gap <= tol:
        return GOOD
    moved = abs(base - retrain) if _number(base) else 0.0
    if moved > tol and gap < 0.5 * moved and model != "base":
        return GOOD
    if gap > 3 * tol:
        return BAD
    return NEUTRAL


def explain(verdict: str | None) -> str:
    return {
        GOOD: "close to the retrained model (the target)",
        BAD: "far from the retrained model: collateral damage or remaining memory",
        NEUTRAL: "somewhat away from the retrained model",
    }.get(verdict or "", "")
