"""Who else was affected? — ranking quality and people counted, against retraining's own spread.

Two retrainings with different seeds already move about half of each top-10 list, so "further
from retraining than the original" is no harm by itself. With a reference ensemble (R other
retrainings) a person counts as **moved** only when their top-10 lies further from retraining's
than every other retraining's does, and as **harmed** only when they lost more NDCG@10 than any
other retraining costs them (``ModelReport.beyond_spread``). A model that behaves like another
retraining puts each person beyond all R references with chance 1/(R+1) at most (ties count for
it), so a count is flagged only when it clearly exceeds that (:func:`beyond_chance`). Average
quality per group is judged against the band of retrain-vs-retrain differences plus its interval.

Without an ensemble (R = 0) the one-retraining rules apply and the words say so: counts against
the original model, flagged above :data:`MOVED_SHARE`.
"""

from __future__ import annotations

import math
from dataclasses import replace

from core.reporting import judgement
from core.reporting import references as refs
from core.reporting.breakdown_text import who_else_sentence
from core.reporting.catalogue import group_label
from core.reporting.lights import AFFECTED, AMBER, GREEN, GREY, NO_ENSEMBLE, RED, Verdict
from core.reporting.numbers import is_finite
from core.reporting.people import PEOPLE_GROUPS, GroupCount, group_counts, is_sampled

MOVED_SHARE = 0.25
"""Without an ensemble: above this share of people whose top-10 moved further from retraining's
than the original model's, collateral change is flagged (amber) even when average quality held."""
CHANCE_Z = 3.0
"""With an ensemble: a count is flagged when it exceeds n/(R+1) by more than this many binomial
standard deviations (about 1 in 1,000 for a model that behaves like another retraining)."""


def beyond_chance(count: int | None, n: int, r: int) -> bool:
    """True when ``count`` of ``n`` people beyond all ``r`` references is more than chance gives."""
    if count is None or n <= 0 or r <= 0:
        return False
    p = 1.0 / (r + 1)
    return count > n * p + CHANCE_Z * math.sqrt(n * p * (1 - p))


def _of(n: int | None, total: int) -> str:
    return "— (no top-10 lists stored)" if n is None else f"{n:,} of {total:,}"


def _share(n: int, total: int) -> str:
    return f" ({n / total:.0%})" if total else ""


# -- with a reference ensemble ----------------------------------------------------------------
def _beyond_line(group: str, found: refs.Beyond, r: int) -> str:
    text = (
        f"{group_label(group)}: {_of(found.moved, found.n_users)} with a top-10 further from retraining's than "
        f"any of {r} other retraining{'s' if r != 1 else ''} puts it"
    )
    if found.lost is not None:
        text += f"; {_of(found.lost, found.n_users)} lost more NDCG@10 than any other retraining costs them"
    return text + f" (a retraining-like model: about 1 in {r + 1} by chance)"


def _beyond_phrase(found: refs.Beyond | None, r: int) -> str:
    if found is None or found.moved is None:
        return ""
    text = (
        f"; {found.moved:,} of {found.n_users:,} retained users{_share(found.moved, found.n_users)} got a top-10 "
        f"further from retraining's than any of {r} other retrainings"
    )
    if found.lost is not None:
        text += f", {found.lost:,} lost more NDCG@10 than any other retraining costs them"
    return text + f" (about 1 in {r + 1} by chance)"


def _flagged_beyond(result, name: str, r: int) -> list[str]:
    report = result.models[name]
    out = []
    for group in PEOPLE_GROUPS:
        found = refs.beyond_spread(report, group)
        if found is not None and (
            beyond_chance(found.moved, found.n_users, r) or beyond_chance(found.lost, found.n_users, r)
        ):
            out.append(group)
    return out


# -- without: the one-retraining counts ---------------------------------------------------------
def _people_line(count: GroupCount, sampled: bool) -> str:
    who = group_label(count.group)
    text = (
        f"{who}: {_of(count.moved_further, count.n_users)} with a top-10 further from retraining's than the "
        "original model's"
        if count.moved_further is not None or not sampled
        else f"{who}: top-10 changes not counted (a sample of {count.n_users:,} users the run does not name)"
    )
    if count.lost_quality is not None:
        text += (
            f"; {_of(count.lost_quality, count.n_users)} lost NDCG@10 by more than {count.tolerance:.3f} "
            f"against retraining (original model: {count.base_lost_quality:,})"
        )
    elif sampled:
        text += "; quality per person not counted (measured on a user sample)"
    return text


def _people_phrase(count: GroupCount | None) -> str:
    if count is None or count.moved_further is None:
        return ""
    text = (
        f"; {count.moved_further:,} of {count.n_users:,} retained users{_share(count.moved_further, count.n_users)} "
        "got a top-10 further from retraining's than the original model's"
    )
    if count.lost_quality is not None:
        text += (
            f", {count.lost_quality:,} lost NDCG@10 beyond {count.tolerance:.3f} (original model: "
            f"{count.base_lost_quality:,})"
        )
    return text


def _gap(result, name: str, group: str) -> float:
    """Method − retrain on the group's NDCG@10 (the paired difference where there is one)."""
    key = f"{group}/ndcg@10"
    found = result.models[name].figure(key).versus("retrain")
    if found is not None:
        return found.value
    mine, retrain = result.models[name].flat().get(key), result.models["retrain"].flat().get(key)
    return float(mine - retrain) if is_finite(mine) and is_finite(retrain) else 0.0


def affected_verdict(result, name: str) -> Verdict:
    report, r = result.models[name], refs.r_of(result)
    sampled = is_sampled(report)
    counts = group_counts(result, name)
    quality = {
        c.group: judgement.judge_report(
            f"{c.group}/ndcg@10", result.models, name, band=refs.band(result, f"{c.group}/ndcg@10")
        )
        for c in counts
    }
    if r:
        beyond = {g: refs.beyond_spread(report, g) for g in PEOPLE_GROUPS}
        evidence = [_beyond_line(g, b, r) for g, b in beyond.items() if b is not None]
        people = _beyond_phrase(beyond.get("retain"), r)
        flagged = _flagged_beyond(result, name, r)
        moved_words = f"more people than another retraining would moves ({', '.join(map(group_label, flagged))})"
    else:
        evidence = [_people_line(c, sampled) for c in counts]
        retained = next((c for c in counts if c.group == "retain"), None)
        people = _people_phrase(retained)
        moved = retained.moved_further if retained is not None else None
        share = moved / retained.n_users if moved is not None and retained.n_users else 0.0
        flagged = ["retain"] if share > MOVED_SHARE else []
        moved_words = f"{people.removeprefix('; ')} (flagged above {MOVED_SHARE:.0%})"
    evidence += [f"{group_label(g)} NDCG@10: {j.reason}" for g, j in quality.items() if j.reason]
    if not r:
        evidence.append(NO_ENSEMBLE)
    return _by_attribute(result, name, _answer(result, name, quality, flagged, people, moved_words, tuple(evidence)))


def _by_attribute(result, name: str, answer: Verdict) -> Verdict:
    """The answer naming a group of users (by age, gender, occupation, activity...) that lost
    against retraining beyond the tolerance while the rest of its attribute did not (issue 25;
    :func:`core.reporting.breakdown_text.who_else_sentence`); the light stays what the groups' averages gave."""
    breakdown = getattr(result, "breakdown", None)
    short = who_else_sentence(breakdown, name, intervals=False)
    if short is None:
        return answer
    full = who_else_sentence(breakdown, name)
    return replace(answer, sentence=f"{answer.sentence} By group: {short}", evidence=(*answer.evidence, full))


def _answer(result, name, quality: dict, flagged: list, people: str, moved_words: str, evidence) -> Verdict:
    judged = {g: j.verdict for g, j in quality.items() if j.verdict is not None}
    bad = [g for g, v in judged.items() if v == judgement.BAD]
    fell = [g for g in bad if _gap(result, name, g) < 0]
    if fell:
        return Verdict(
            AFFECTED,
            RED,
            f"Harmed: ranking quality of {' and '.join(group_label(g) for g in fell)} fell "
            f"beyond what retraining gives{people}.",
            evidence,
        )
    if bad:
        return Verdict(
            AFFECTED,
            AMBER,
            f"Changed: ranking quality of {' and '.join(group_label(g) for g in bad)} "
            f"rose beyond what retraining gives: not what retraining would give{people}.",
            evidence,
        )
    unsure = [g for g, v in judged.items() if v == judgement.UNSURE]
    if unsure or not judged:
        what = " and ".join(group_label(g) for g in unsure) if unsure else "any group"
        return Verdict(AFFECTED, GREY, f"Not enough users to tell whether quality held for {what}{people}.", evidence)
    if flagged:
        return Verdict(AFFECTED, AMBER, f"Some: quality held on average, but {moved_words}.", evidence)
    if any(v == judgement.NEUTRAL for v in judged.values()):
        return Verdict(
            AFFECTED, AMBER, f"Some: ranking quality moved somewhat away from retraining's{people}.", evidence
        )
    return Verdict(
        AFFECTED,
        GREEN,
        f"Few: ranking quality of retained and similar users stayed within what retraining gives{people}.",
        evidence,
    )
