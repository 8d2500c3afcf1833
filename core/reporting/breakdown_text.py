"""The breakdown by user attribute told in words and tables (window, report, ``cragru-run``).

* :func:`who_else_sentence` names a group hurt beyond the tolerance against retraining when
  the attribute's other groups are not ("older users (50+) lost NDCG@10 against retraining
  (…); other age groups did not") — what *Who else was affected?* can show;
* :func:`hurt_most` picks, per attribute, the group whose change against retraining is the
  most negative, with its interval;
* :func:`breakdown_table` is the plain-text table ``cragru-run --by age,gender`` prints.

The tolerance is the catalogue's for the metric (:mod:`core.reporting.families`), taken at
retraining's value in that group, and judged by the one rule
:func:`core.evaluation.bootstrap.verdict` every other view uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.breakdown.attributes import ACTIVITY
from core.breakdown.model import AttributeBreakdown, Breakdown
from core.evaluation.bootstrap import DIFFERENT, Interval, verdict
from core.reporting.catalogue import entry_for
from core.reporting.numbers import text_table

METRIC = "ndcg@10"
MAX_NAMED = 3
"""Groups named in one sentence (the most hurt first); the rest are counted."""
GENDER_WORDS = {"M": "men", "F": "women", "m": "men", "f": "women"}


@dataclass(frozen=True)
class GroupFinding:
    """One group's change against retraining on one metric."""

    attribute: str
    group: int
    label: str  # the group as people read it ("older users (50+)")
    n: int
    change: tuple[float, float, float]  # method − retrain: value, low, high
    tolerance: float
    against_original: tuple[float, float, float] | None = None  # method − base, where measured

    @property
    def hurt(self) -> bool:
        """Below retraining beyond the tolerance with 95 % confidence, and below the original
        model too: a group the original model already served worse than retraining does (the
        noise between two trainings) is not the method's doing."""
        value, low, high = self.change
        if not (verdict(Interval(value, low, high, self.n), self.tolerance) == DIFFERENT and high < 0):
            return False
        return self.against_original is None or self.against_original[2] < 0


def group_phrase(attribute: str, group: str) -> str:
    """A group named for a sentence: ``older users (50+)``, ``women``, ``the least active users (3–20 …)``."""
    if attribute == "age":
        return {"50+": "older users (50+)", "under 18": "younger users (under 18)"}.get(group, f"users aged {group}")
    if attribute == "gender":
        return GENDER_WORDS.get(group, f"users of gender {group}")
    if attribute == "occupation":
        return f"users whose occupation is {group}"
    if attribute == ACTIVITY:
        if group.startswith(("least active", "most active")):
            return "the " + group.replace(" (", " users (", 1)
        return f"users in activity {group}"
    return f"users with {attribute} {group}"


def _tolerance(ab: AttributeBreakdown, metric: str, group: int) -> float:
    retrain = ab.cell("value", "retrain", metric, group)
    family = entry_for(f"retain/{metric}").family
    return family.tolerance_for(retrain[0] if retrain is not None else None)


def findings(breakdown: Breakdown, model: str, attribute: str, metric: str = METRIC) -> list[GroupFinding]:
    """Every group large enough to judge (at least ``min_group`` users) with its change."""
    ab = breakdown.attributes.get(attribute)
    if ab is None:
        return []
    out = []
    sizes = ab.sizes.get(model, [])
    for g, name in enumerate(ab.groups):
        change = ab.cell("vs_retrain", model, metric, g)
        n = sizes[g] if g < len(sizes) else 0
        if change is None or n < breakdown.min_group:
            continue
        base = ab.cell("vs_base", model, metric, g) if model != "base" else None
        out.append(
            GroupFinding(
                attribute,
                g,
                group_phrase(attribute, name),
                n,
                tuple(change),
                _tolerance(ab, metric, g),
                tuple(base) if base is not None else None,
            )
        )
    return out


def who_else_sentence(
    breakdown: Breakdown | None,
    model: str,
    metric: str = METRIC,
    attributes: list[str] | None = None,
    *,
    intervals: bool = True,
) -> str | None:
    """Groups hurt beyond the tolerance against retraining (and below the original model)
    while most of their attribute is not, in one sentence (None when no attribute singles a
    group out); ``intervals=False`` names the groups only (the verdict's short form). With many
    groups (21 occupations) one may be singled out by chance: the interval is per group, not
    corrected for the number of groups."""
    if breakdown is None or model in ("retrain",):
        return None
    short = metric_short(metric)
    parts = []
    for attribute, ab in breakdown.attributes.items():
        if attributes is not None and attribute not in attributes:
            continue
        found = findings(breakdown, model, attribute, metric)
        hurt = [f for f in found if f.hurt]
        if not hurt or len(hurt) > len(found) // 2:
            continue  # nobody, or most groups: a loss for everyone, which the overall verdict tells
        hurt.sort(key=lambda f: f.change[0])
        names = " and ".join(f"{f.label} ({_change_text(f)})" if intervals else f.label for f in hurt[:MAX_NAMED])
        if len(hurt) > MAX_NAMED:
            names += f" and {len(hurt) - MAX_NAMED} more {ab.name} group{'s' if len(hurt) > MAX_NAMED + 1 else ''}"
        parts.append(f"{names} lost {short} against retraining; other {ab.name} groups did not")
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def metric_short(metric: str) -> str:
    """``NDCG@10`` for ``ndcg@10`` (the catalogue's column header, without the group)."""
    try:
        family = entry_for(f"retain/{metric}").family
        return family.short.format(k=metric.rpartition("@")[2])
    except (KeyError, ValueError):
        return metric


def _change_text(f: GroupFinding) -> str:
    value, low, high = f.change
    return f"{value:+.3f}, 95 % interval {low:+.3f} to {high:+.3f}, n = {f.n}"


def hurt_most(breakdown: Breakdown, model: str, attribute: str, metric: str = METRIC) -> GroupFinding | None:
    """The judged group with the most negative change against retraining."""
    found = findings(breakdown, model, attribute, metric)
    return min(found, key=lambda f: f.change[0]) if found else None


def _triple_text(triple) -> str:
    if triple is None:
        return "—"
    value, low, high = triple
    return f"{value:+.3f} [{low:+.3f}, {high:+.3f}]"


def breakdown_table(
    breakdown: Breakdown, attributes: list[str] | None = None, metric: str = METRIC, models: list[str] | None = None
) -> str:
    """Per attribute: each group's change against retraining per model (95 % interval), then
    the fairness gap per model (the original model's gap is the reference)."""
    short = metric_short(metric)
    wanted = attributes or list(breakdown.attributes)
    blocks = []
    for name in wanted:
        ab = breakdown.attributes.get(name)
        if ab is None:
            blocks.append(f"{name}: not in this run's data (available: {', '.join(breakdown.attributes)})")
            continue
        shown = [m for m in (models or list(next(iter(ab.cells.values()), {}))) if m != "retrain"]
        header = ["group", "n"] + shown
        rows = []
        sizes = ab.sizes.get("retrain") or next(iter(ab.sizes.values()), [])
        for g, group in enumerate(ab.groups):
            n = sizes[g] if g < len(sizes) else 0
            rows.append([group, str(n)] + [_triple_text(ab.cell("vs_retrain", m, metric, g)) for m in shown])
        rows.append(["fairness gap", ""] + [_triple_text(ab.gaps.get(m, {}).get(metric)) for m in shown])
        title = f"{ab.label} — {short} against retraining, per group (method − retrain, 95 % interval)"
        blocks.append(title + "\n" + text_table(header, rows))
    return "\n\n".join(blocks)


def breakdown_report(result, by: str | None, metric: str = METRIC) -> str:
    """What ``cragru-run --by age,gender`` prints: the table for those attributes ('all' for
    every one; activity is always available), then the group each method hurts most."""
    breakdown = getattr(result, "breakdown", None)
    if not by:
        return ""
    if breakdown is None:
        return "breakdown by user attribute: not measured in this run"
    names = None if by.strip() == "all" else [n.strip() for n in by.split(",") if n.strip()]
    methods = [m for m in result.models if m not in ("base", "retrain")]
    lines = [breakdown_table(breakdown, names, metric), ""]
    lines += [f"who each method hurts most ({metric_short(metric)} against retraining):"]
    chosen = {n: breakdown.attributes[n] for n in (names or breakdown.attributes) if n in breakdown.attributes}
    for model in methods:
        for name in chosen:
            worst = hurt_most(breakdown, model, name, metric)
            if worst is not None:
                word = (
                    "hurt beyond the tolerance"
                    if worst.hurt
                    else "no group below retraining: the least gain"
                    if worst.change[0] >= 0
                    else "not beyond the tolerance, or undecided"
                )
                lines.append(f"  {model}: {name}: {worst.label} ({_change_text(worst)}; {word})")
        sentence = who_else_sentence(breakdown, model, metric, list(chosen))
        if sentence:
            lines.append(f"  {model}: {sentence}")
    return "\n".join(lines)
