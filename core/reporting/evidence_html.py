"""The report's forgetting-evidence section: the attacks with their intervals, differences
against retrain and neutral points; agreement with retraining per group against the
original model's; the known-user count under its own name (a count, not an attack).

Words from the metric catalogue and :mod:`core.reporting.story`; colours from
:func:`core.reporting.judgement.judge_report`, so the report says what the window says.
"""

from __future__ import annotations

import html

from core.groups import GROUPS
from core.reporting import judgement
from core.reporting.catalogue import entry_for, group_label
from core.reporting.intervals import difference_text, value_text
from core.reporting.story import neutral_points, via_notes
from core.result import ATTACK_KEYS, attack_key

AGREEMENT_NAMES = ("jaccard@10", "rbo@10")


def _e(value) -> str:
    return html.escape(str(value))


def _cell(result, name: str, key: str, text: str) -> str:
    found = judgement.judge_report(key, result.models, name)
    title = f" title='{_e(found.reason)}'" if found.reason else ""
    return f"<td class='{found.verdict or ''}'{title}>{_e(text)}</td>"


def _attack_keys(result) -> list[str]:
    names = {name for report in result.models.values() for name in report.attacks}
    return [key for attack, key in ATTACK_KEYS.items() if attack in names] + sorted(
        attack_key(n) for n in names if n not in ATTACK_KEYS
    )


def attacks_table(result) -> str:
    """Per model: each attack's AUC with its interval and its paired difference from retrain."""
    keys = _attack_keys(result)
    if not keys:
        return ""
    head = "".join(
        f"<th title='{_e(entry_for(k).explanation)}'>{_e(entry_for(k).short)}</th><th>Δ retrain</th>" for k in keys
    )
    rows = []
    for name, report in result.models.items():
        flat, cells = report.flat(), []
        for key in keys:
            entry = entry_for(key)
            cells.append(_cell(result, name, key, value_text(entry, report, flat.get(key))))
            paired = report.figure(key).versus("retrain")
            cells.append(f"<td>{_e(difference_text(entry, paired) if paired else '')}</td>")
        rows.append(f"<tr><td class='name'><b>{_e(name)}</b></td>{''.join(cells)}</tr>")
    notes = "".join(f"<li>{_e(text)}</li>" for text in neutral_points(result) + via_notes(result))
    return (
        f"<h3>Can an attacker still tell?</h3><table><tr><th class='name'>model</th>{head}</tr>"
        f"{''.join(rows)}</table><p class='hint'>AUC with its 95 % user-bootstrap interval; Δ retrain is paired "
        "over the same users. The target is the retrained model's value, not 0.5. Neutral points for a request to "
        f"forget {_e(result.request.get('kind', '?'))}:</p><ul>{notes}</ul>"
    )


def agreement_table(result) -> str:
    """Per model and group: top-10 overlap with retrain's lists; the original model's row is the reference."""
    groups = [g for g in GROUPS if any(g in r.agreement for r in result.models.values())]
    if not groups:
        return ""
    head = "".join(
        f"<th>{_e(group_label(g))}<br>{_e(entry_for(f'agreement/{g}/{n}').short)}</th>"
        for g in groups
        for n in AGREEMENT_NAMES
    )
    rows = []
    for name, report in result.models.items():
        if name == "retrain":
            continue
        flat = report.flat()
        cells = "".join(
            _cell(result, name, key, value_text(entry_for(key), report, flat.get(key)))
            for g in groups
            for key in (f"agreement/{g}/{n}" for n in AGREEMENT_NAMES)
        )
        tag = " <span class='hint'>(reference)</span>" if name == "base" else ""
        rows.append(f"<tr><td class='name'><b>{_e(name)}</b>{tag}</td>{cells}</tr>")
    return (
        f"<h3>Agreement with retraining</h3><table><tr><th class='name'>model</th>{head}</tr>{''.join(rows)}"
        "</table><p class='hint'>1 = recommends exactly what the retrained model does. The original model's "
        "agreement is the reference a method should improve on.</p>"
    )


def known_users_table(result) -> str:
    """The plain count of forgotten users each model still has its own profile for."""
    entry = entry_for("known_forgotten_users")
    rows = [
        f"<tr><td class='name'><b>{_e(name)}</b></td>"
        f"{_cell(result, name, entry.key, value_text(entry, report, report.known_users.n_known))}</tr>"
        for name, report in result.models.items()
        if report.known_users is not None
    ]
    if not rows:
        return ""
    return (
        f"<h3>{_e(entry.label[0].upper() + entry.label[1:])}</h3><table>{''.join(rows)}</table>"
        f"<p class='hint'>{_e(entry.family.describe())}</p>"
    )


def evidence_section(result) -> str:
    """The whole section, or nothing for runs stored before the evidence existed."""
    body = attacks_table(result) + agreement_table(result) + known_users_table(result)
    return f"<h2>Forgetting evidence</h2>{body}" if body else ""
