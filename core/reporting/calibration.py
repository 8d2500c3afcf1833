"""Calibration of the verdict words on controls whose right answer is known (PROTOCOL.md).

A run with retraining and the controls (:mod:`core.methods.controls`, ``ids_only``) gives,
per control and question, one word. Over several runs (seeds, datasets, request kinds) the
rate of each word per control and question is the calibration table; the targets:

* a second retraining (another model seed) is never *fail* on any question, and *pass* on
  "forgotten?" and "affected?" in at least :data:`RETRAIN_PASS_RATE` of runs;
* every do-nothing control (``ids_only``, base unchanged, base + 1 % noise, re-draw of the
  forgotten users' vectors) is *fail* on "forgotten?" in every run.

Used by ``bench/bench_calibration.py`` and ``tests/test_calibration.py``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable, Mapping

from core.reporting.lights import AFFECTED, FORGOTTEN, LIGHT_WORDS, QUESTIONS
from core.reporting.verdicts import verdicts

SECOND_RETRAIN = "control_retrain_seed"
DO_NOTHING = ("control_base", "control_noise", "control_redraw", "ids_only")
CONTROLS = (SECOND_RETRAIN, *DO_NOTHING)
RETRAIN_PASS_RATE = 0.9
WORDS = tuple(LIGHT_WORDS.values())
SHORT = {FORGOTTEN: "forgotten?", AFFECTED: "affected?", "What did it cost?": "cost?"}

Words = dict[str, dict[str, str]]
"""control -> question -> word, for one run."""


def words_of(result) -> Words:
    """The word each control got on each question in one run."""
    return {mv.model: {v.question: v.word for v in mv.answers} for mv in verdicts(result) if mv.model in CONTROLS}


def rates(runs: Iterable[Words]) -> dict[str, dict[str, dict[str, float]]]:
    """control -> question -> word -> share of runs (over the runs that had the control)."""
    counts: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for run in runs:
        for control, answers in run.items():
            for question, word in answers.items():
                counts[control][question][word] += 1
    return {
        control: {q: {w: n / sum(c.values()) for w, n in c.items()} for q, c in by_q.items()}
        for control, by_q in counts.items()
    }


def targets(table: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[tuple[str, bool]]:
    """Each target of the calibration, as (sentence with the measured rate, holds)."""
    out = []
    second = table.get(SECOND_RETRAIN)
    if second:
        fails = max(second.get(q, {}).get("fail", 0.0) for q in QUESTIONS)
        out.append((f"second retraining never 'fail' on any question (worst {fails:.0%})", fails == 0.0))
        for question in (FORGOTTEN, AFFECTED):
            rate = second.get(question, {}).get("pass", 0.0)
            out.append(
                (
                    f"second retraining 'pass' on {SHORT[question]} in >= {RETRAIN_PASS_RATE:.0%} ({rate:.0%})",
                    rate >= RETRAIN_PASS_RATE,
                )
            )
    for control in DO_NOTHING:
        if control in table:
            rate = table[control].get(FORGOTTEN, {}).get("fail", 0.0)
            out.append((f"{control} 'fail' on forgotten? in 100 % ({rate:.0%})", rate == 1.0))
    return out


def table_text(table: Mapping[str, Mapping[str, Mapping[str, float]]], n_runs: int) -> str:
    """A plain table: one row per control and question, one column per word (share of runs)."""
    head = f"{'control':<22} {'question':<11} " + " ".join(f"{w:>14}" for w in WORDS) + f"   runs {n_runs}"
    lines = [head]
    for control in CONTROLS:
        for question in QUESTIONS:
            found = table.get(control, {}).get(question)
            if not found:
                continue
            cells = " ".join(f"{found.get(w, 0.0):>14.0%}" for w in WORDS)
            lines.append(f"{control:<22} {SHORT[question]:<11} {cells}")
    return "\n".join(lines)
