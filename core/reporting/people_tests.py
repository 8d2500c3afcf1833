"""One plain line per forgotten person from the per-person test (``ModelReport.person_tests``).

For one model: ``user 104: consistent with models never trained on them, p = 0.62``. For a
whole run (the report's page one): one line per person naming each model's reading, e.g.
``user 104: retrain consistent with models never trained on them (p = 0.62); ids_only looks
trained on them (p < 0.001)``. People come in natural ID order (``u2`` before ``u10``).
Where a run or model has no per-person test (no reference ensemble), there are no lines.
"""

from __future__ import annotations

import math
import re

from core.attacks.per_person import MIN_REFERENCES, PersonTests

_DIGITS = re.compile(r"(\d+)")
SKIPPED_MODELS = ("base",)  # the original model was trained on everybody: not a deletion to test


def _natural(text: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text) if part)


def p_text(p: float) -> str:
    """``p = 0.62`` / ``p = 0.004`` / ``p < 0.001``."""
    if p is None or not math.isfinite(p):
        return "p = ?"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def tests_of(item) -> PersonTests | None:
    """The :class:`PersonTests` of a ModelReport, a PersonTests, or its stored dict (None if absent)."""
    found = getattr(item, "person_tests", item)
    if isinstance(found, dict):
        return PersonTests.from_dict(found)
    return found if isinstance(found, PersonTests) else None


def person_lines(report) -> list[str]:
    """Per-person lines of one model (a ModelReport, PersonTests or dict), or of every model
    of a run (a RunResult: one line per person, each model's reading side by side)."""
    if hasattr(report, "models"):
        return _run_lines(report)
    tests = tests_of(report)
    if tests is None:
        return []
    people = sorted(tests.people, key=lambda p: _natural(p.user_id))
    return [f"user {p.user_id}: {p.words}, {p_text(p.p_value)}" for p in people]


def _run_lines(result) -> list[str]:
    readings: dict[str, list[str]] = {}
    for name, report in result.models.items():
        tests = None if name in SKIPPED_MODELS else tests_of(report)
        for p in tests.people if tests is not None else ():
            readings.setdefault(p.user_id, []).append(f"{name} {p.words} ({p_text(p.p_value)})")
    return [f"user {user}: " + "; ".join(readings[user]) for user in sorted(readings, key=_natural)]


def group_line(report) -> str | None:
    """The group result in one line: ``never-trained: 1 of 14 look trained on (p < 0.05); combined p = 0.73;
    mean log likelihood ratio −10.5 [−15.1, −6.6]`` (None without a test)."""
    tests = tests_of(report)
    if tests is None:
        return None
    llr, low, high = tests.group_llr
    return (
        f"{tests.verdict}: {tests.trained_like} of {len(tests.people)} look trained on (p < {tests.alpha:g}); "
        f"combined {p_text(tests.group_p)}; mean log likelihood ratio {llr:+.1f} [{low:+.1f}, {high:+.1f}] "
        f"({tests.score}, {tests.references} reference models per side)"
    )


PERSON_LINES_CAP = 30
"""Up to this many forgotten people get a line each in the terminal and the window; a larger
request gets each model's group result (every person's figures are in the result and report)."""


def named_request_lines(result) -> list[str]:
    """What ``cragru-run`` and the window's Verdict tab show for a request that forgets users:
    per model its group result and one line per person (every named person of ``users:ids:…``;
    otherwise up to :data:`PERSON_LINES_CAP` people); one line saying why when the run has no test."""
    request = result.request or {}
    if request.get("kind") != "users":
        return []
    named = request.get("selector") == "ids"
    lines = [
        "Each " + ("named" if named else "forgotten") + " person (likelihood-ratio test against the reference models):"
    ]
    for name, report in result.models.items():
        if name in SKIPPED_MODELS or tests_of(report) is None:
            continue
        lines.append(f"{getattr(report, 'label', name) or name} — {group_line(report)}")
        people = person_lines(report)
        if named or len(people) <= PERSON_LINES_CAP:
            lines += ["  " + line for line in people]
        else:
            lines.append(f"  ({len(people):,} people: one line each in the report and the result file)")
    if len(lines) == 1:
        refs = getattr(result, "references", None)
        if refs is None or getattr(refs, "r", 0) < MIN_REFERENCES:
            lines.append(f"  not measured: it needs at least {MIN_REFERENCES} reference models (--references)")
        else:
            why = "; ".join(getattr(refs, "notes", None) or []) or "no score could be measured for these people"
            lines.append(f"  not measured: {why}")
    return lines
