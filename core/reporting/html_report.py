"""A self-contained HTML report of one run, readable without the window.

Numbers come from :class:`core.result.RunResult`; every label, target and explanation
from the metric catalogue; the colours from :mod:`core.reporting.judgement`. Chart
images are optional PNG bytes (the window hands in its grabs; ``cragru-run`` none).
"""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime

from core.reporting import judgement
from core.reporting.audit_html import CSS as AUDIT_CSS
from core.reporting.audit_html import (
    erasure_section,
    examples_section,
    provenance_section,
    sign_off,
    subjects_section,
    verdict_table,
    verdicts_section,
)
from core.reporting.breakdown_page import breakdown_html
from core.reporting.catalogue import (
    GROUP_INFO,
    SECTION_TITLES,
    TARGET_SENTENCES,
    entry_for,
    families_in,
    headline_keys,
    ordered_keys,
    present_keys,
)
from core.reporting.evidence_html import evidence_section
from core.reporting.intervals import difference_text, value_text
from core.reporting.named_people import named_people_lines
from core.reporting.svg_charts import charts_html
from core.reporting.verdicts import verdicts

CHARTS = {
    "training_loss": ("Training loss", None),
    "validation_ndcg": ("Validation NDCG@10", None),
    "diagnostics": ("Method diagnostics", None),
    "hit_by_group": ("Hit@10 by user group", "retain/hit@10"),
    "ndcg_by_group": ("NDCG@10 by user group", "retain/ndcg@10"),
    "forgotten_recall": ("What the model still remembers", "forgotten_recall@10"),
    "attack_auc": ("Can an attacker still tell? (fold-in attack AUC)", "attack/fold_in_auc"),
    "mia_auc": ("Retired membership classifier (AUC)", "mia_auc"),
    "time": ("Cost: set-up + unlearning vs retraining", "time_s"),
}
"""Chart name (as the window names its grabs) → (title, the catalogue key it shows)."""

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #13243a; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; line-height: 1.4; }
h1 { color: #1d3f66; } h2 { color: #1d3f66; border-bottom: 1px solid #d5d9e0; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em 0; font-size: 13px; }
th, td { border: 1px solid #d5d9e0; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #eceff3; } td.name, th.name { text-align: left; }
td.good, span.good { background: #dff3e4; } td.bad, span.bad { background: #fbe0de; }
td.neutral, span.neutral { background: #fff5d6; } td.unsure, span.unsure { background: #e3e9f3; }
.charts { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; }
.charts figure { margin: 0; border: 1px solid #d5d9e0; border-radius: 4px; padding: 4px; }
.charts img { width: 100%; } figcaption { font-size: 12px; color: #5d6878; }
.request { background: #fff4e8; border: 1px solid #ffd2a8; border-radius: 4px; padding: 8px 12px; }
pre { background: #f6f7f9; border: 1px solid #d5d9e0; padding: 8px; font-size: 12px; overflow-x: auto; }
.hint { color: #5d6878; font-size: 12px; } dt { font-weight: bold; margin-top: 0.6em; } dd { margin-left: 1.2em; }
"""


def _e(value) -> str:
    return html.escape(str(value))


def _judged_cell(result, key: str, model: str, text: str) -> str:
    """A value cell coloured by :func:`judgement.judge_report`, its reason as the hover text."""
    found = judgement.judge_report(key, result.models, model)
    title = f" title='{_e(found.reason)}'" if found.reason else ""
    return f"<td class='{found.verdict or ''}'{title}>{_e(text)}</td>"


def _value(result, flats: dict, model: str, key: str) -> str:
    return value_text(entry_for(key), result.models[model], flats[model].get(key))


def _key_table(result, flats: dict) -> str:
    keys = headline_keys(flats.values())
    head = "".join(f"<th title='{_e(entry_for(k).explanation)}'>{_e(entry_for(k).short)}</th>" for k in keys)
    body = []
    for name, report in result.models.items():
        cells = "".join(_judged_cell(result, k, name, _value(result, flats, name, k)) for k in keys)
        body.append(
            f"<tr><td class='name'><b>{_e(name)}</b><br><span class='hint'>{_e(report.label)}</span></td>{cells}</tr>"
        )
    legend = " ".join(f"<span class='{v}'>&nbsp;{_e(text)}&nbsp;</span>" for v, text in judgement.LEGEND.items())
    return (
        f"<p class='hint'>Colours: {legend}. Most figures are judged by closeness to the retrained model, "
        "the gold standard — not by being high or low: where a figure has a 95 % interval [low, high], by "
        "whether its difference from retraining lies within the tolerance (hover a cell for the numbers); "
        "see “What the measures mean” below.</p>"
        f"<table><tr><th class='name'>model</th>{head}</tr>{''.join(body)}</table>"
    )


def _full_table(result, flats: dict) -> str:
    models = list(result.models)
    deltas = {"base": result.deltas("base"), "retrain": result.deltas("retrain")}
    keys = ordered_keys(k for flat in flats.values() for k in flat)
    head = "".join(f"<th>{_e(m)}</th><th>Δ base</th><th>Δ retrain</th>" for m in models)
    body = []
    for key in keys:
        entry = entry_for(key)
        cells = "".join(
            _judged_cell(result, key, m, _value(result, flats, m, key))
            + "".join(f"<td>{_e(_delta(result, m, key, ref, deltas))}</td>" for ref in ("base", "retrain"))
            for m in models
        )
        name = f"{_e(entry.label)}<br><span class='hint'>{_e(key)}</span>"
        body.append(f"<tr><td class='name'>{name}</td>{cells}</tr>")
    return f"<table><tr><th class='name'>measure</th>{head}</tr>{''.join(body)}</table>"


def _delta(result, model: str, key: str, reference: str, deltas: dict) -> str:
    """Paired difference with its interval where the evidence has one, else the point delta."""
    plain = deltas[reference].get(model, {}).get(key)
    return difference_text(entry_for(key), result.models[model].figure(key).versus(reference), plain)


def _groups_table(result) -> str:
    rows = []
    for name, info in GROUP_INFO.items():
        count = result.groups.get(f"n_{name}", "?")
        rows.append(
            f"<tr><td class='name'><b>{_e(info.label)}</b></td><td>{_e(count)}</td>"
            f"<td class='name'>{_e(info.explanation)}</td></tr>"
        )
    rule = result.groups.get("similar_rule")
    note = f"<p class='hint'>Similar users: {_e(rule)}.</p>" if rule else ""
    return (
        f"<table><tr><th class='name'>group</th><th>users</th><th class='name'>who they are</th></tr>"
        f"{''.join(rows)}</table>{note}"
    )


def _glossary(flats: dict) -> str:
    """Every kind of measure this run reports, explained once (the report's glossary)."""
    parts, section = [], None
    for entry in families_in(k for flat in flats.values() for k in flat):
        if entry.section != section:
            section = entry.section
            parts.append(f"</dl><h3>{_e(SECTION_TITLES[section])}</h3><dl>")
        family = entry.family
        parts.append(
            f"<dt>{_e(family.label.format(k=entry.k, group='', key=entry.key))}</dt>"
            f"<dd>{_e(family.describe(entry.k))} <i>{_e(TARGET_SENTENCES[entry.target])}</i></dd>"
        )
    return ("<dl>" + "".join(parts) + "</dl>").replace("<dl></dl>", "")


def _charts(images: dict[str, bytes]) -> str:
    figures_html = []
    for name, png in images.items():
        if not png:
            continue
        title, key = CHARTS.get(name, (name, None))
        caption = f"<b>{_e(title)}</b>" + (f" — {_e(entry_for(key).family.describe())}" if key else "")
        figures_html.append(
            f"<figure><img alt='{_e(title)}' src='data:image/png;base64,"
            f"{base64.b64encode(png).decode('ascii')}'><figcaption>{caption}</figcaption></figure>"
        )
    if not figures_html:
        return ""
    return f"<h2>Charts as the window showed them</h2><div class='charts'>{''.join(figures_html)}</div>"


def _kv_table(values: dict) -> str:
    rows = "".join(
        f"<tr><td class='name'>{_e(k)}</td><td class='name'>{_e(v)}</td></tr>"
        for k, v in values.items()
        if not isinstance(v, (list, dict))
    )
    return f"<table>{rows}</table>"


def _heading(result, title: str) -> str:
    when = datetime.fromtimestamp(result.started_at).strftime("%Y-%m-%d %H:%M:%S") if result.started_at else ""
    ds, req = result.dataset, result.request
    return (
        f"<h1>{_e(title)}</h1><p>Run <b>{_e(result.run_id)}</b>, started {when}, on {_e(ds.get('name', '?'))} "
        f"({_e(ds.get('n_users', '?'))} users, {_e(ds.get('n_items', '?'))} items, "
        f"{_e(ds.get('n_interactions', '?'))} interactions); "
        f"device {_e(result.environment.get('device', '?'))}.</p>"
        f"<h2>What was asked</h2><div class='request'><b>{_e(req.get('description', '?'))}</b> — "
        f"{req.get('n_removed_rows', 0):,} training interactions removed, {req.get('n_forget_users', 0):,} users "
        f"and {req.get('n_forget_items', 0):,} items touched.</div>"
    )


def _measured(result) -> dict[str, dict]:
    """Each model's figures, keeping only keys some model measured (a figure no model has,
    such as the attack in a run without it, is left out everywhere)."""
    flats = {name: report.flat() for name, report in result.models.items()}
    keep = set(present_keys({k for flat in flats.values() for k in flat}, flats.values()))
    return {name: {k: v for k, v in flat.items() if k in keep} for name, flat in flats.items()}


def html_report(
    result, images: dict[str, bytes] | None = None, title: str = "CRAGRU Studio report", audit=None, receipt=None
) -> str:
    """The whole report as one HTML string (images embedded), in the PDF's order: what was asked,
    the verdicts, the sign-off, the verdicts explained, with ``audit``
    (:class:`core.reporting.audit.AuditFacts`) the forgotten subjects by real ID, the evidence and
    erasure audit, who was affected, before/after examples, the charts, provenance, the glossary."""
    flats = _measured(result)
    found = audit.verdicts if audit is not None else verdicts(result)
    notes = "".join(
        f"<li><b>{_e(name)}</b>: {_e('; '.join(r.notes))}</li>" for name, r in result.models.items() if r.notes
    )
    people = named_people_lines(result, audit)
    people_html = (
        "<h3>The people named by the request</h3><ul>" + "".join(f"<li>{_e(x)}</li>" for x in people) + "</ul>"
        if people
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)} — run {_e(result.run_id)}</title>
<style>{_CSS}{AUDIT_CSS}</style></head><body>
{_heading(result, title)}
{verdict_table(found)}
{people_html}
{sign_off(*_fingerprints(receipt))}
{verdicts_section(found)}
{subjects_section(audit) if audit is not None else ""}
<h3>Who the figures are measured on</h3>{_groups_table(result)}
<h2>Key results</h2>{_key_table(result, flats)}
{f"<ul>{notes}</ul>" if notes else ""}
{evidence_section(result)}
{erasure_section(audit) if audit is not None else ""}
{examples_section(audit) if audit is not None else ""}
{breakdown_html(result)}
{charts_html(result)}
{_charts(images or {})}
{
        provenance_section(audit)
        if audit is not None
        else f"<h2>Configuration</h2><pre>{_e(json.dumps(result.config, indent=2, default=str))}</pre>"
    }
<h2>Split and environment</h2>{_kv_table(result.split)}{_kv_table(result.environment)}{_kv_table(result.timings)}
<h2>Glossary: what the measures mean</h2>{_glossary(flats)}
<h2>Every measure</h2>{_full_table(result, flats)}
<p class="hint">Generated by CRAGRU Studio.</p>
</body></html>
"""


def _fingerprints(receipt: dict | None) -> tuple[str | None, str | None]:
    """(signing key, receipt) fingerprints for the sign-off block."""
    from core.signing import installation_fingerprint, receipt_fingerprint

    if receipt and "signature" in receipt:
        return receipt["signature"]["key_fingerprint"], receipt_fingerprint(receipt)
    return installation_fingerprint(), None
