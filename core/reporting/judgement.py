"""Good / bad colouring of a result cell: plain rules read from the metric catalogue.

The retrained model is the target (PROTOCOL.md): for a "close to retrain" figure
(utility on every group, forgotten-item recall, the attacks) a model is good when it is
close to retrain — not when a number is high or low. A figure with a neutral point
(the speed-up: 1×) is judged against it; agreement with retrain against the original
model's agreement; times are not judged.
"""

from __future__ import annotations

from core.reporting import catalogue
from core.reporting.numbers import is_finite

GOOD, BAD, NEUTRAL = "good", "bad", "neutral"

RELATIVE_TOLERANCE = 0.10  # within 10 % of the reference value ...
ABSOLUTE_TOLERANCE = 0.005  # ... or within this, whichever is larger

EXPLANATIONS = {
    GOOD: "close to the retrained model (the target)",
    BAD: "far from the retrained model: collateral damage or remaining memory",
    NEUTRAL: "somewhat away from the retrained model",
}
LEGEND = {GOOD: "close to retrain", NEUTRAL: "somewhat off", BAD: "far from retrain"}


def tolerance(reference: float) -> float:
    return max(RELATIVE_TOLERANCE * abs(reference), ABSOLUTE_TOLERANCE)


def _close_to_retrain(value: float, base, retrain, model: str) -> str | None:
    """Within :func:`tolerance` of retrain is good; having moved more than halfway from
    base to retrain is good; further than three tolerances and not halfway is bad."""
    if not is_finite(retrain):
        return None
    gap = abs(value - retrain)
    tol = tolerance(retrain)
    if gap <= tol:
        return GOOD
    moved = abs(base - retrain) if is_finite(base) else 0.0
    if moved > tol and gap < 0.5 * moved and model != "base":
        return GOOD
    if gap > 3 * tol:
        return BAD
    return NEUTRAL


def _against(value: float, reference, higher_is_better: bool) -> str | None:
    """Better than ``reference`` by more than the tolerance is good, worse is bad."""
    if not is_finite(reference):
        return None
    gain = (value - reference) if higher_is_better else (reference - value)
    tol = tolerance(reference)
    return GOOD if gain > tol else BAD if gain < -tol else NEUTRAL


def judge(key: str, value, base, retrain, model: str = "") -> str | None:
    """``good``/``bad``/``neutral`` for ``model``'s ``value`` of metric ``key``; None = no opinion."""
    entry = catalogue.entry_for(key)
    family = entry.family
    if model == "retrain" or not is_finite(value):
        return None
    higher = family.target != catalogue.LOWER_IS_BETTER
    if family.judge_by == catalogue.JUDGE_RETRAIN:
        return _close_to_retrain(float(value), base, retrain, model)
    if family.judge_by == catalogue.JUDGE_THRESHOLD and family.threshold is not None:
        value, threshold = float(value), family.threshold
        if value == threshold:
            return NEUTRAL
        return GOOD if (value > threshold) == higher else BAD
    if family.judge_by == catalogue.JUDGE_BASE and model != "base":
        return _against(float(value), base, higher)
    return None


def explain(verdict: str | None) -> str:
    return EXPLANATIONS.get(verdict or "", "")
