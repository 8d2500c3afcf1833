"""Is the data forgotten? — the per-person test where the run has one, the attacks and recall beside it.

Measures, each judged against retraining (:func:`core.reporting.judgement.judge_report`; with
a reference ensemble against the band of retrain-vs-retrain differences plus its interval):

* the **per-person test** (``ModelReport.person_tests``): each forgotten person's score against
  models that trained on them and models that never did, combined into a group result. Where
  the run has it, the verdict reads it (never-trained → pass, trained → fail, unsure → can't
  tell); an attack that still clearly differs from retraining keeps a pass to "partly".
* the **fold-in** and **white-box** attacks (users requests) or the **record-level** attack
  (items, interactions), and forgotten-item recall@10.

For a users request, a model that marks the forgotten users unknown ranks them by the same
popularity fallback as retraining: its forgotten-item recall and record-level AUC equal
retraining's *by construction* (the ``ids_only`` control matches them exactly). Those two
are then shown but cannot lift the verdict: they never turn a fail into "partly", and alone
they give "can't tell".
"""

from __future__ import annotations

from core.reporting import judgement
from core.reporting import references as refs
from core.reporting.catalogue import entry_for
from core.reporting.intervals import value_text
from core.reporting.lights import AMBER, FORGOTTEN, GREEN, GREY, NO_ENSEMBLE, RED, UNSURE_WORDS, Verdict
from core.reporting.numbers import is_finite
from core.result import ATTACK_KEYS

SAME, MOVED, KEPT, OVER, UNSURE = "same", "moved", "kept", "over", "unsure"
RECALL = "forgotten_recall@10"
FOLD_IN, RECORD = ATTACK_KEYS["fold-in"], ATTACK_KEYS["record-level"]
WHITE_BOX = ATTACK_KEYS.get("white-box", "attack/white_box_auc")
BY_CONSTRUCTION = (
    "matched by construction: the model ranks the forgotten users by the same popularity fallback as "
    "retraining, so this figure cannot show forgetting (shown, not counted toward a pass)"
)


def _measured(report, key: str) -> bool:
    return is_finite(report.flat().get(key))


def attack_key(report, kind: str) -> str | None:
    """The attack the verdict reads: fold-in for user requests, record-level otherwise."""
    order = (FOLD_IN, RECORD) if kind == "users" else (RECORD, FOLD_IN)
    for key in order:
        if _measured(report, key):
            return key
    return "mia_auc" if is_finite(report.mia_auc) else None


def marks_unknown(report) -> bool:
    """True when the model ranks every forgotten user by the popularity fallback (knows none)."""
    known = report.known_users
    return known is not None and known.n_known == 0 and int(known.n_users or 0) > 0


def measures(report, kind: str) -> tuple[list[str], list[str]]:
    """``(deciding, by construction)``: the keys the verdict rests on, and those shown beside them."""
    attack = attack_key(report, kind)
    deciding = [k for k in (attack, WHITE_BOX if kind == "users" else None) if k and _measured(report, k)]
    fallback: list[str] = []
    if kind == "users" and marks_unknown(report):
        fallback = [RECALL] + ([RECORD] if RECORD not in deciding and _measured(report, RECORD) else [])
    else:
        deciding.insert(0, RECALL)
    return [k for k in deciding if _measured(report, k)], [k for k in fallback if _measured(report, k)]


def _state(result, name: str, key: str) -> tuple[str, str] | None:
    """(state, evidence line) of one forgetting measure, or None when not measured."""
    found = judgement.judge_report(key, result.models, name, band=refs.band(result, key))
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


def _person_line(tests, r: int) -> tuple[str, str]:
    """(state, evidence line) of the per-person test's group result."""
    get = refs.person_field
    verdict = get(tests, "verdict", refs.UNSURE)
    people = get(tests, "people", []) or []
    llr = get(tests, "group_llr", []) or []
    state = {refs.NEVER_TRAINED: SAME, refs.TRAINED: KEPT}.get(verdict, UNSURE)
    words = {
        refs.NEVER_TRAINED: "consistent with models never trained on them",
        refs.TRAINED: "looks like models trained on them",
    }.get(verdict, UNSURE_WORDS)
    text = (
        f"per-person test ({get(tests, 'score', 'score')} score, {r} retrainings and {r} originals with other "
        f"seeds): {get(tests, 'trained_like', 0)} of {len(people)} forgotten people look trained on (p < 0.05)"
    )
    if len(llr) == 3 and all(is_finite(v) for v in llr):
        text += f"; group log-likelihood ratio {llr[0]:+.2f} [{llr[1]:+.2f}, {llr[2]:+.2f}]"
    p = get(tests, "group_p")
    if is_finite(p):
        text += f", combined p = {p:.3g}"
    return state, f"{text}: {words}"


def forgotten_verdict(result, name: str, kind: str) -> Verdict:
    report = result.models[name]
    deciding, fallback = measures(report, kind)
    states = {k: s for k in deciding if (s := _state(result, name, k)) is not None}
    shown = {k: s for k in fallback if (s := _state(result, name, k)) is not None}
    evidence = [line for _, line in states.values()]
    evidence += [f"{line} — {BY_CONSTRUCTION}" for _, line in shown.values()]
    r = refs.r_of(result)
    if not r:
        evidence.append(NO_ENSEMBLE)
    tests = refs.person_tests(report) if r else None
    if tests is not None:
        state, line = _person_line(tests, r)
        return _with_person_test(state, states, tuple([line, *evidence]))
    return _from_states(states, bool(shown), tuple(evidence))


def _by(states: dict) -> dict[str, list[str]]:
    return {state: [k for k, (s, _) in states.items() if s == state] for state in (SAME, MOVED, KEPT, OVER, UNSURE)}


def _with_person_test(state: str, states: dict, evidence: tuple[str, ...]) -> Verdict:
    """The group result of the per-person test decides; an attack that still clearly differs
    from retraining is not outweighed by it; where the test cannot tell, the attacks may."""
    if state == KEPT:
        return Verdict(
            FORGOTTEN,
            RED,
            "No: the forgotten people's scores look like those of models trained on them — traces of the "
            "forgotten data remain.",
            evidence,
        )
    others = _from_states(states, False, evidence)
    if state == UNSURE:
        if others.light == GREY:
            return Verdict(
                FORGOTTEN, GREY, "Not enough users to tell: the per-person test is not conclusive.", evidence
            )
        return others
    if others.light in (RED, AMBER):
        head, _, rest = others.sentence.partition(": ")  # "No: …" / "Partly: …"
        return Verdict(
            FORGOTTEN,
            others.light,
            f"{head}: the per-person test is consistent with models never trained on them, but {rest}",
            evidence,
        )
    return Verdict(
        FORGOTTEN,
        GREEN,
        "Yes: the forgotten people's scores are consistent with models never trained on them"
        + (f"; {_names(_by(states)[SAME], 'match', 'matches')} retraining." if _by(states)[SAME] else "."),
        evidence,
    )


def _from_states(states: dict, by_construction: bool, evidence: tuple[str, ...]) -> Verdict:
    """Without a per-person test: the deciding measures' states (the one-retraining rules)."""
    by = _by(states)
    if not states:
        if by_construction:
            return Verdict(
                FORGOTTEN,
                GREY,
                "Cannot tell: the only figures measured match retraining by construction for a model that marks "
                "the forgotten users unknown.",
                evidence,
            )
        return Verdict(FORGOTTEN, GREY, "Cannot tell: this run measured no forgetting figure for this method.")
    if len(by[SAME]) == len(states):
        return Verdict(
            FORGOTTEN,
            GREEN,
            f"Yes: {_names(by[SAME], 'match', 'matches')} the retrained model within the tolerance.",
            evidence,
        )
    if by[KEPT] and not (by[MOVED] or by[OVER]):  # a measure that matches does not outweigh one that remembers
        also = f" ({_names(by[SAME], 'match', 'matches')} it)" if by[SAME] else ""
        return Verdict(
            FORGOTTEN,
            RED,
            f"No: {_names(by[KEPT], 'still differ', 'still differs')} clearly from the retrained model, "
            f"toward the original: traces of the forgotten data remain{also}.",
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
