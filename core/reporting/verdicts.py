"""Three plain questions per method, each a traffic light and one sentence naming its evidence.

* **Is the data forgotten?** forgotten-item recall@10 and one membership attack (fold-in
  for a request to forget users, record-level otherwise, the other where the preferred
  one was not measured), each judged against the retrained model by its paired
  difference interval (:func:`core.reporting.judgement.judge_report`).
* **Who else was affected?** ranking quality (NDCG@10) of retained and similar users
  against retraining, judged by interval, told as people counted
  (:mod:`core.reporting.people`).
* **What did it cost?** set-up + this request against retraining (:mod:`core.reporting.cost`);
  never green when the total exceeds retraining's.

Lights: green (passes), amber (partly), red (fails), grey (not enough users to tell, or
nothing to judge by). The window, the report and ``cragru-run`` all print these words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.reporting import judgement
from core.reporting.catalogue import entry_for, group_label
from core.reporting.cost import Cost, cost_of, cost_text
from core.reporting.intervals import difference, value_text
from core.reporting.numbers import format_seconds, is_finite
from core.reporting.people import GroupCount, group_counts, is_sampled

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
LIGHTS = (GREEN, AMBER, RED, GREY)
LIGHT_WORDS = {GREEN: "pass", AMBER: "partly", RED: "fail", GREY: "can't tell"}
LIGHT_COLOURS = {GREEN: "#2e9d4f", AMBER: "#e0a100", RED: "#d0453a", GREY: "#8a94a3"}
FORGOTTEN, AFFECTED, COST = "Is the data forgotten?", "Who else was affected?", "What did it cost?"
QUESTIONS = (FORGOTTEN, AFFECTED, COST)
MOVED_SHARE = 0.25
"""Above this share of people whose top-10 moved further from retraining's than the original
model's, collateral change is flagged (amber) even when average quality held."""
UNSURE_WORDS = "not enough users to tell"

# per-measure states for "Is the data forgotten?"
SAME, MOVED, KEPT, OVER, UNSURE = "same", "moved", "kept", "over", "unsure"


@dataclass(frozen=True)
class Verdict:
    """One answer: the question, its light, one sentence, and the evidence lines it rests on."""

    question: str
    light: str
    sentence: str
    evidence: tuple[str, ...] = ()

    @property
    def word(self) -> str:
        return LIGHT_WORDS[self.light]


@dataclass(frozen=True)
class MethodVerdict:
    """A method's three answers (a card in the window, a block in the report and the CLI)."""

    model: str
    label: str
    forgotten: Verdict
    affected: Verdict
    cost: Verdict
    sampled: bool = False  # measured on a user sample

    @property
    def answers(self) -> tuple[Verdict, Verdict, Verdict]:
        return self.forgotten, self.affected, self.cost

    def as_dict(self) -> dict:
        return asdict(self)


def verdicts(result) -> list[MethodVerdict]:
    """One :class:`MethodVerdict` per unlearning method of ``result`` (not base, not retrain)."""
    return [method_verdict(result, name) for name in result.models if name not in ("base", "retrain")]


def method_verdict(result, name: str) -> MethodVerdict:
    report = result.models[name]
    kind = str(result.request.get("kind", "users"))
    return MethodVerdict(
        name,
        report.label,
        forgotten_verdict(result, name, kind),
        affected_verdict(result, name),
        cost_verdict(cost_of(result.models, name)),
        is_sampled(report),
    )


# -- Is the data forgotten? ------------------------------------------------------------------
def attack_key(report, kind: str) -> str | None:
    """The attack the verdict reads: fold-in for user requests, record-level otherwise."""
    order = ("fold-in", "record-level") if kind == "users" else ("record-level", "fold-in")
    for attack in order:
        if attack in report.attacks and is_finite(report.attacks[attack].get("auc")):
            return "attack/fold_in_auc" if attack == "fold-in" else "attack/record_auc"
    return "mia_auc" if is_finite(report.mia_auc) else None


def _state(result, name: str, key: str) -> tuple[str, str] | None:
    """(state, evidence line) of one forgetting measure, or None when not measured."""
    found = judgement.judge_report(key, result.models, name)
    if found.verdict is None:
        return None
    state = {judgement.GOOD: SAME, judgement.UNSURE: UNSURE, judgement.NEUTRAL: MOVED}.get(found.verdict, KEPT)
    flats = {m: r.flat() for m, r in result.models.items() if m in (name, "base", "retrain")}
    mine, base, retrain = (flats.get(m, {}).get(key) for m in (name, "base", "retrain"))
    if state in (KEPT, MOVED) and all(is_finite(v) for v in (mine, base, retrain)):
        if (mine - retrain) * (base - retrain) < 0:
            state = OVER  # past retraining, away from the original: the deletion itself shows
        elif state == KEPT and abs(mine - retrain) < 0.5 * abs(base - retrain):
            state = MOVED  # clearly different from retraining, but more than halfway there from the original
    entry = entry_for(key)
    line = (
        f"{entry.label}: {value_text(entry, result.models[name], mine)}, retrain {entry.format(retrain)}, "
        f"original {entry.format(base)} — {found.reason}"
    )
    return state, line


def _names(keys: list[str], plural: str = "", singular: str = "") -> str:
    """``forgotten-item recall@10 and fold-in attack AUC`` (+ the verb agreeing with them)."""
    text = " and ".join(entry_for(k).short for k in keys)
    verb = plural if len(keys) > 1 else singular
    return f"{text} {verb}" if verb else text


def forgotten_verdict(result, name: str, kind: str) -> Verdict:
    keys = ["forgotten_recall@10", attack_key(result.models[name], kind)]
    states = {k: s for k in keys if k and (s := _state(result, name, k)) is not None}
    evidence = tuple(line for _, line in states.values())
    by = {state: [k for k, (s, _) in states.items() if s == state] for state in (SAME, MOVED, KEPT, OVER, UNSURE)}
    if not states:
        return Verdict(FORGOTTEN, GREY, "Cannot tell: this run measured no forgetting figure for this method.")
    if len(by[SAME]) == len(states):
        return Verdict(
            FORGOTTEN,
            GREEN,
            f"Yes: {_names(by[SAME], 'match', 'matches')} the retrained model within the tolerance.",
            evidence,
        )
    if by[KEPT] and not (by[SAME] or by[MOVED] or by[OVER]):
        return Verdict(
            FORGOTTEN,
            RED,
            f"No: {_names(by[KEPT], 'still differ', 'still differs')} clearly from the retrained model, "
            "toward the original: traces of the forgotten data remain.",
            evidence,
        )
    if by[UNSURE] and not (by[KEPT] or by[MOVED] or by[OVER]):
        return Verdict(
            FORGOTTEN,
            GREY,
            f"Not enough users to tell: the 95 % interval of {_names(by[UNSURE])} is wider than the tolerance.",
            evidence,
        )
    parts = []
    if by[SAME]:
        parts.append(f"{_names(by[SAME], 'match', 'matches')} the retrained model")
    if by[MOVED]:
        parts.append(f"{_names(by[MOVED], 'moved', 'moved')} toward the retrained model but not all the way")
    if by[KEPT]:
        parts.append(f"{_names(by[KEPT], 'still differ', 'still differs')} clearly from the retrained model")
    if by[OVER]:
        parts.append(
            f"{_names(by[OVER], 'overshot', 'overshot')} the retrained model, away from the original: more "
            "forgotten than retraining would, which itself shows the deletion"
        )
    if by[UNSURE]:
        parts.append(f"{_names(by[UNSURE])}: {UNSURE_WORDS}")
    return Verdict(FORGOTTEN, AMBER, "Partly: " + "; ".join(parts) + ".", evidence)


# -- Who else was affected? ------------------------------------------------------------------
def _people_line(count: GroupCount, sampled: bool) -> str:
    who = group_label(count.group)
    text = (
        f"{who}: {_of(count.moved_further, count.n_users)} with a top-10 further from retraining's than the "
        "original model's"
    )
    if count.lost_quality is not None:
        text += (
            f"; {_of(count.lost_quality, count.n_users)} lost NDCG@10 by more than {count.tolerance:.3f} "
            f"against retraining (original model: {count.base_lost_quality:,})"
        )
    elif sampled:
        text += "; quality per person not counted (measured on a user sample)"
    return text


def _of(n: int | None, total: int) -> str:
    return "— (no top-10 lists stored)" if n is None else f"{n:,} of {total:,}"


def affected_verdict(result, name: str) -> Verdict:
    report, counts = result.models[name], group_counts(result, name)
    sampled = is_sampled(report)
    quality = {c.group: judgement.judge_report(f"{c.group}/ndcg@10", result.models, name) for c in counts}
    evidence = [_people_line(c, sampled) for c in counts]
    evidence += [f"{group_label(g)} NDCG@10: {j.reason}" for g, j in quality.items() if j.reason]
    judged = {g: j.verdict for g, j in quality.items() if j.verdict is not None}
    retained = next((c for c in counts if c.group == "retain"), None)
    moved = retained.moved_further if retained is not None else None
    share = moved / retained.n_users if moved is not None and retained.n_users else 0.0
    people = _people_phrase(retained)
    bad = [g for g, v in judged.items() if v == judgement.BAD]
    fell = [g for g in bad if _gap(result, name, g) < 0]
    if fell:
        return Verdict(
            AFFECTED,
            RED,
            f"Harmed: ranking quality of {' and '.join(group_label(g) for g in fell)} fell "
            f"beyond the tolerance against retraining{people}.",
            tuple(evidence),
        )
    if bad:
        return Verdict(
            AFFECTED,
            AMBER,
            f"Changed: ranking quality of {' and '.join(group_label(g) for g in bad)} "
            f"rose beyond the tolerance above retraining's: not what retraining would give{people}.",
            tuple(evidence),
        )
    unsure = [g for g, v in judged.items() if v == judgement.UNSURE]
    if unsure or not judged:
        what = " and ".join(group_label(g) for g in unsure) if unsure else "any group"
        return Verdict(
            AFFECTED, GREY, f"Not enough users to tell whether quality held for {what}{people}.", tuple(evidence)
        )
    if share > MOVED_SHARE:
        return Verdict(
            AFFECTED,
            AMBER,
            f"Some: quality held on average, but{people.removeprefix(';')} (flagged above {MOVED_SHARE:.0%}).",
            tuple(evidence),
        )
    if any(v == judgement.NEUTRAL for v in judged.values()):
        return Verdict(
            AFFECTED, AMBER, f"Some: ranking quality moved somewhat away from retraining's{people}.", tuple(evidence)
        )
    return Verdict(
        AFFECTED,
        GREEN,
        f"Few: ranking quality of retained and similar users stayed within the tolerance of retraining{people}.",
        tuple(evidence),
    )


def _gap(result, name: str, group: str) -> float:
    """Method − retrain on the group's NDCG@10 (the paired difference where there is one)."""
    key = f"{group}/ndcg@10"
    found = difference(result.models[name], key, "retrain")
    if found is not None:
        return found[0]
    mine, retrain = result.models[name].flat().get(key), result.models["retrain"].flat().get(key)
    return float(mine - retrain) if is_finite(mine) and is_finite(retrain) else 0.0


def _people_phrase(count: GroupCount | None) -> str:
    if count is None or count.moved_further is None:
        return ""
    share = count.moved_further / count.n_users if count.n_users else 0.0
    text = (
        f"; {count.moved_further:,} of {count.n_users:,} retained users ({share:.0%}) got a top-10 further "
        "from retraining's than the original model's"
    )
    if count.lost_quality is not None:
        text += (
            f", {count.lost_quality:,} lost NDCG@10 beyond {count.tolerance:.3f} (original model: "
            f"{count.base_lost_quality:,})"
        )
    return text


# -- What did it cost? ----------------------------------------------------------------------
def cost_verdict(cost: Cost) -> Verdict:
    evidence = (cost_text(cost),)
    if cost.retrain_s is None:
        return Verdict(
            COST,
            GREY,
            f"Cannot compare: no retraining in this run; set-up + request took {format_seconds(cost.total_s)}.",
            evidence,
        )
    total, retrain = format_seconds(cost.total_s), format_seconds(cost.retrain_s)
    if not cost.exceeds_retraining:
        return Verdict(
            COST, GREEN, f"Cheaper than retraining: {total} including set-up against retraining's {retrain}.", evidence
        )
    if cost.request_s < cost.retrain_s:
        pays = (
            f"; set-up pays for itself after {cost.break_even_requests:,} requests" if cost.break_even_requests else ""
        )
        return Verdict(
            COST,
            AMBER,
            f"Quick per request ({format_seconds(cost.request_s)}), but set-up + this "
            f"request took {total}, more than retraining's {retrain}{pays}.",
            evidence,
        )
    return Verdict(
        COST,
        RED,
        f"Dearer than retraining: this request alone took {format_seconds(cost.request_s)} "
        f"against retraining's {retrain}.",
        evidence,
    )


# -- plain text (``cragru-run``) ----------------------------------------------------------------
def verdicts_text(found: list[MethodVerdict], evidence: bool = False) -> str:
    """The verdicts as terminal lines: ``[pass] Is the data forgotten? Yes: …``."""
    lines = []
    for mv in found:
        lines.append(f"{mv.label} ({mv.model})" + (" — measured on a user sample" if mv.sampled else ""))
        for v in mv.answers:
            lines.append(f"  [{v.word:^10}] {v.question} {v.sentence}")
            lines += [f"      · {line}" for line in v.evidence] if evidence else []
    return "\n".join(lines)
