"""Good / bad judgement of a figure: by its 95 % interval where it has one, else a point rule.

The retrained model is the target (PROTOCOL.md). A "close to retrain" figure (utility on
every group, forgotten-item recall, the attacks) is judged on its *paired difference
interval against retrain* and the catalogue's tolerance, through the one verdict rule
:func:`core.evaluation.bootstrap.verdict`:

* the whole interval inside ±tolerance → equivalent → **good**;
* the whole interval outside it → different → **bad**;
* otherwise → **not enough users to tell** (its own state, never coloured good or bad).

With a reference ensemble (``--references R``) a "close to retrain" figure is judged
against the *band* of retrain-vs-retrain differences (other model seeds) together with its
own interval — :func:`by_band`: the catalogue tolerance stays as the floor of that band.
A figure measured on a user sample too small for an interval
(:data:`MIN_INTERVAL_USERS`) is never coloured: "not enough users to tell", with the count.

Agreement with retrain is judged against the original model's agreement (its interval
shifted by base's value; base is the reference, its own spread is left out). Only a
figure without an interval (other cut-offs, runs stored before the evidence, the
speed-up) falls back to the point rule :func:`judge`; times are not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from core.evaluation import bootstrap
from core.reporting import catalogue
from core.reporting.numbers import is_finite

GOOD, BAD, NEUTRAL, UNSURE = "good", "bad", "neutral", "unsure"
VERDICTS = (GOOD, BAD, NEUTRAL, UNSURE)

RELATIVE_TOLERANCE = 0.10  # point rule: within 10 % of the reference value ...
ABSOLUTE_TOLERANCE = 0.005  # ... or within this, whichever is larger

EXPLANATIONS = {
    GOOD: "close to the retrained model (the target)",
    BAD: "far from the retrained model: collateral damage or remaining memory",
    NEUTRAL: "in between: somewhat away from the target",
    UNSURE: "not enough users to tell: the 95 % interval is wider than the tolerance allows",
}
LEGEND = {GOOD: "close to retrain", NEUTRAL: "in between", BAD: "far from retrain", UNSURE: "not enough users to tell"}
INTERVAL, POINT = "interval", "point"
SETUP_EXCEEDS = (
    "faster per request, but set-up + this request took longer than retraining: never judged good "
    "(see the speed-up including set-up)"
)
_SAID = {
    bootstrap.EQUIVALENT: "the same as retraining",
    bootstrap.DIFFERENT: "clearly different from retraining",
    bootstrap.UNDECIDED: bootstrap.UNDECIDED,
}


MIN_INTERVAL_USERS = 10
"""Fewer users than this (a sampled model's group) give no usable 95 % interval: "can't tell"."""


@dataclass(frozen=True)
class Judgement:
    """A verdict (None: not judged), the rule used, and one sentence naming the evidence."""

    verdict: str | None
    rule: str = ""
    reason: str = ""


NOT_JUDGED = Judgement(None)


# -- the point rule (figures without an interval) ----------------------------------------------
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
    """The point rule: ``good``/``bad``/``neutral`` for ``model``'s ``value`` of ``key``
    from the point values alone; None = no opinion."""
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


# -- the interval rule -----------------------------------------------------------------------------
def _by_interval(low: float, high: float, tol: float) -> str:
    return bootstrap.verdict(bootstrap.Interval(float("nan"), low, high, 0), tol)


def _against_retrain(entry, report, reference_value) -> Judgement | None:
    found = report.figure(entry.key).versus("retrain")
    if found is None:
        return None
    value, low, high = found.value, found.low, found.high
    tol = entry.family.tolerance_for(reference_value)
    decided = _by_interval(low, high, tol)
    verdict = {bootstrap.EQUIVALENT: GOOD, bootstrap.DIFFERENT: BAD}.get(decided, UNSURE)
    reason = (
        f"differs from retrain by {entry.format_delta(value)} (95 % interval "
        f"{entry.format_delta(low)} to {entry.format_delta(high)}; ±{entry.format(tol)} counts as "
        f"the same): {_SAID[decided]}"
    )
    return Judgement(verdict, INTERVAL, reason)


def _against_base(entry, report, base_value) -> Judgement | None:
    found = report.figure(entry.key).finite_interval
    if found is None or not is_finite(base_value):
        return None
    low, high = found.low - base_value, found.high - base_value
    tol = entry.family.tolerance_for(base_value)
    decided = _by_interval(low, high, tol)
    higher = entry.target != catalogue.LOWER_IS_BETTER
    if decided == bootstrap.DIFFERENT:
        verdict = GOOD if (low > 0) == higher else BAD
    else:
        verdict = NEUTRAL if decided == bootstrap.EQUIVALENT else UNSURE
    words = {
        GOOD: "closer to retraining than the original model",
        BAD: "further from retraining than the original model",
        NEUTRAL: "no closer to retraining than the original model",
        UNSURE: decided,
    }
    reason = (
        f"{entry.format_delta(low)} to {entry.format_delta(high)} against the original model's "
        f"{entry.format(base_value)} (95 % interval; ±{entry.format(tol)} counts as the same): {words[verdict]}"
    )
    return Judgement(verdict, INTERVAL, reason)


def by_band(value: float, low: float, high: float, band: tuple[float, float], tol: float) -> str:
    """A method's difference from retrain (``value``, 95 % interval ``low``..``high``) against the
    band of retrain-vs-retrain differences, at least ±``tol`` wide (the catalogue tolerance is its floor).

    The band holds what other retrainings differ by *on the same users*: under "this model is like
    another retraining" the difference is one more draw of it. So the difference lying inside the band
    is "like retraining"; so is an interval that reaches the band while being no wider than it (a
    little beyond, within what the users measured allow: PROTOCOL.md "within that spread plus its
    interval"); the whole interval beyond the band is clearly different; anything else is not enough
    users to tell. The band is made symmetric: the run's own retraining is one draw among the
    references, so the sign of their differences is chance."""
    reach = max(abs(float(band[0])), abs(float(band[1])), float(tol))
    if low > reach or high < -reach:
        return bootstrap.DIFFERENT
    if abs(value) <= reach or (high - low) / 2 <= reach:
        return bootstrap.EQUIVALENT
    return bootstrap.UNDECIDED


def _against_band(entry, report, reference_value, band: tuple[float, float]) -> Judgement | None:
    found = report.figure(entry.key).versus("retrain")
    if found is None:
        return None
    value, low, high = found.value, found.low, found.high
    tol = entry.family.tolerance_for(reference_value)
    decided = by_band(value, low, high, band, tol)
    verdict = {bootstrap.EQUIVALENT: GOOD, bootstrap.DIFFERENT: BAD}.get(decided, UNSURE)
    reach = max(abs(band[0]), abs(band[1]), tol)
    reason = (
        f"differs from retrain by {entry.format_delta(value)} (95 % interval {entry.format_delta(low)} to "
        f"{entry.format_delta(high)}); retrainings with other seeds differ by {entry.format_delta(band[0])} to "
        f"{entry.format_delta(band[1])} (±{entry.format(reach)} counts as the same): {_SAID[decided]}"
    )
    return Judgement(verdict, INTERVAL, reason)


_SAMPLED_GROUP = {"forgotten_recall": "forgotten", "attack/record_auc": "forgotten", "attack/calibration_auc": "retain"}
"""The sampled group behind a figure that names none (the fold-in attack is never on a sample)."""


def too_few_users(report, key: str) -> Judgement | None:
    """ "Can't tell" for a figure of a sampled model whose group sample is too small for an interval."""
    entry = catalogue.entry_for(key)
    group = entry.group or _SAMPLED_GROUP.get(key.split("@")[0])
    found = report.extras.get(f"eval_sample/{group}") if group else None
    if found is None or int(found) >= MIN_INTERVAL_USERS:
        return None
    return Judgement(
        UNSURE,
        INTERVAL,
        f"measured on only {int(found)} user{'s' if int(found) != 1 else ''} (a sample): too few for a 95 % "
        f"interval (at least {MIN_INTERVAL_USERS}) — not enough users to tell",
    )


def judge_report(key: str, reports: Mapping, model: str, band: tuple[float, float] | None = None) -> Judgement:
    """Judge ``model``'s figure ``key`` among a run's ``reports`` (name → ModelReport):
    against the reference ensemble's ``band`` where there is one, else by interval where the
    evidence has one, else by :func:`judge`."""
    report = reports.get(model)
    if report is None or model == "retrain":
        return NOT_JUDGED
    entry = catalogue.entry_for(key)
    value = report.flat().get(key)
    if not is_finite(value):
        return NOT_JUDGED
    small = too_few_users(report, key)
    if small is not None:
        return small
    base = reports["base"].flat().get(key) if "base" in reports else None
    retrain = reports["retrain"].flat().get(key) if "retrain" in reports else None
    found = None
    if entry.family.judge_by == catalogue.JUDGE_RETRAIN and "retrain" in reports and band is not None:
        found = _against_band(entry, report, retrain, band)
    if found is None and entry.family.judge_by == catalogue.JUDGE_RETRAIN and "retrain" in reports:
        found = _against_retrain(entry, report, retrain)
    elif entry.family.judge_by == catalogue.JUDGE_BASE and model != "base":
        found = _against_base(entry, report, base)
    if found is not None:
        return found
    verdict = judge(key, value, base, retrain, model)
    if verdict == GOOD and entry.section == catalogue.COST:
        overall = report.flat().get("speedup_incl_setup")
        if is_finite(overall) and overall < 1.0:  # quick per request, but set-up + request exceeded retraining
            return Judgement(NEUTRAL, POINT, SETUP_EXCEEDS)
    return Judgement(verdict, POINT, explain(verdict)) if verdict else NOT_JUDGED


def explain(verdict: str | None) -> str:
    return EXPLANATIONS.get(verdict or "", "")
