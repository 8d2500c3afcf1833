"""The run told in a few sentences: what was forgotten, what each model still remembers,
how an attacker fares (with 95 % intervals, retrain's value as the target), how much its
lists agree with retraining, who else was hurt, what it cost. Words and formats come
from the metric catalogue; intervals from :mod:`core.reporting.intervals`."""

from __future__ import annotations

import html

from core.groups import GROUPS
from core.reporting.catalogue import entry_for, group_label
from core.reporting.intervals import interval_text
from core.reporting.numbers import format_value, is_finite
from core.result import ATTACK_KEYS, attack_key

STORY_KEYS = ("forgotten_recall@10", "mia_auc", "similar/ndcg@10")
"""Figures told per model, before → after, when the run measured them."""
ATTACK_STORY_KEYS = ("attack/fold_in_auc", "attack/record_auc")
"""Attacks told per model with their interval, against retrain's value (the target)."""
AGREEMENT_KEY = "rbo@10"


def _arrow(key: str, before, after) -> str:
    entry = entry_for(key)
    if not (is_finite(before) and is_finite(after)):
        return ""
    return f"{entry.short} {entry.format(before)} → <b>{entry.format(after)}</b>"


def _attack(key: str, report, retrain) -> str:
    """``fold-in attack AUC 0.90 [0.87, 0.93] (retrain 0.50)``."""
    entry, value = entry_for(key), report.flat().get(key)
    if not is_finite(value):
        return ""
    found = report.figure(key).finite_interval
    text = f"{entry.short} <b>{entry.format(value)}</b>" + (
        f" {interval_text(entry, found.low, found.high)}" if found else ""
    )
    target = retrain.flat().get(key) if retrain is not None and retrain is not report else None
    return text + (f" (retrain {entry.format(target)})" if is_finite(target) else "")


def _agreement(report, base) -> str:
    """Top-10 agreement with retrain per group, base's as the reference."""
    mine = report.agreement
    if not mine:
        return ""
    parts = []
    for group in GROUPS:
        found = _overlap(report, group)
        if found is None or not is_finite(found.value):
            continue
        ref = _overlap(base, group) if base is not None and base is not report else None
        parts.append(
            f"{group_label(group, short=True)} {found.value:.2f}"
            + (f" (original {ref.value:.2f})" if ref and is_finite(ref.value) else "")
        )
    return "top-10 agreement with retraining (RBO): " + ", ".join(parts) if parts else ""


def _overlap(report, group: str):
    """The model's RBO with retrain's lists on ``group`` (an Estimate), None where not measured."""
    found = report.agreement.get(group)
    return found.get(AGREEMENT_KEY) if found is not None else None


def _known(report) -> str:
    known = report.known_users
    if known is None or not known.n_users:
        return ""
    return f"{entry_for('known_forgotten_users').label}: {known.n_known:,} of {known.n_users:,}"


def _cost(flat: dict, name: str) -> str:
    cost = f"{entry_for('time_s').short} {format_value('seconds', flat.get('time_s'))}"
    if is_finite(flat.get("prep_time_s")) and flat["prep_time_s"] > 0:
        cost += f" + {entry_for('prep_time_s').short} {format_value('seconds', flat['prep_time_s'])}"
    speedup, overall = flat.get("speedup_vs_retrain"), flat.get("speedup_incl_setup")
    if name != "retrain" and is_finite(speedup) and is_finite(overall):
        per, incl = entry_for("speedup_vs_retrain").format(speedup), entry_for("speedup_incl_setup").format(overall)
        cost += f" (against retraining: {per} per request, {incl} including set-up"
        cost += "; set-up + request took longer than retraining)" if overall < 1 else ")"
    return cost


def neutral_points(result, calibration: bool = True) -> list[str]:
    """One phrase per attack: where its neutral point lies for this kind of request (the
    calibration line's note says what it measures instead)."""
    seen: dict[str, str] = {}
    for report in result.models.values():
        for name, found in report.attacks.items():
            if found.neutral_note and name not in seen:
                seen[name] = found.neutral_note
    order = list(ATTACK_KEYS)
    names = sorted(seen, key=lambda n: order.index(n) if n in order else len(order))
    return [
        f"{entry_for(attack_key(name)).short}: {seen[name]}"
        for name in names
        if calibration or attack_key(name) != "attack/calibration_auc"
    ]


def via_notes(result) -> list[str]:
    """A sentence for each model whose attack was measured through another model."""
    return [
        f"{report.label}: the {name} attack was {found.via}."
        for report in result.models.values()
        for name, found in report.attacks.items()
        if found.via
    ]


def model_line(name: str, report, models: dict) -> str:
    """One model's sentence: memory, attacks, agreement, known users, harm, cost."""
    base, retrain = models.get("base"), models.get("retrain")
    before, after = (base.flat() if base is not None else {}), report.flat()
    parts = [_arrow(key, before.get(key), after.get(key)) for key in STORY_KEYS[:2]]
    parts += [_attack(key, report, retrain) for key in ATTACK_STORY_KEYS]
    harm = STORY_KEYS[2]
    parts += [
        _agreement(report, base) if name != "retrain" else "",
        _known(report),
        _arrow(harm, before.get(harm), after.get(harm)),
        _cost(after, name),
    ]
    return f"<b>{html.escape(report.label)}</b>: " + "; ".join(p for p in parts if p) + "."


def result_story(result) -> str:
    """HTML: one headline sentence, one line per model after the original one, then where
    each attack's neutral point lies for this request (and any attack measured "via")."""
    req = result.request
    head = (
        f"Forgot <b>{html.escape(str(req.get('description', '?')))}</b> "
        f"({req.get('n_removed_rows', 0):,} training interactions) from "
        f"<b>{html.escape(str(result.dataset.get('name', '?')))}</b>."
    )
    if "base" not in result.models:
        return head
    lines = [head] + [
        model_line(name, report, result.models) for name, report in result.models.items() if name != "base"
    ]
    notes = neutral_points(result, calibration=False)
    if notes:
        kind = html.escape(str(req.get("kind", "this")))
        lines.append(
            f"<i>Attack targets are retrain's values. Neutral points for a request to forget {kind} — "
            + html.escape("; ".join(notes))
            + ".</i>"
        )
    lines += [html.escape(text) for text in via_notes(result)]
    return "<br>".join(lines)
