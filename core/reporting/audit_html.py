"""The audit sections of the HTML report: verdicts first, then the facts a reviewer signs
(forgotten subjects by real ID, request, data fingerprint, configuration, seeds, package
versions, erasure audit, before/after examples). Everything from
:class:`core.reporting.audit.AuditFacts`; the PDF tells the same facts."""

from __future__ import annotations

import html
import json

from core.reporting.audit import AuditFacts
from core.reporting.natural_order import natural_key
from core.reporting.verdicts import LIGHT_COLOURS, LIGHT_WORDS, QUESTIONS, MethodVerdict

MAX_LISTED = 500
"""Subjects listed in the report at most (the receipt always lists all)."""

CSS = """
.verdicts { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; }
.card { border: 1px solid #d5d9e0; border-radius: 6px; padding: 8px 12px; }
.answer { margin: 6px 0; } .light { display: inline-block; min-width: 6.5em; text-align: center; color: white;
  border-radius: 10px; padding: 1px 8px; font-weight: bold; font-size: 12px; margin-right: 6px; }
.answer details { font-size: 12px; color: #5d6878; } .ids { font-family: monospace; font-size: 12px; }
td.removed { background: #fbe0de; font-weight: bold; }
.signoff { border: 1px solid #13243a; padding: 4px 14px; max-width: 760px; }
.signoff .blank { display: inline-block; width: 16em; border-bottom: 1px solid #13243a; margin-right: 1.5em; }
.signoff .box { display: inline-block; width: 0.8em; height: 0.8em; border: 1px solid #13243a; margin-left: 1em; }
"""


def _e(value) -> str:
    return html.escape(str(value))


def _card(mv: MethodVerdict) -> str:
    answers = []
    for v in mv.answers:
        evidence = "".join(f"<li>{_e(line)}</li>" for line in v.evidence)
        answers.append(
            f"<div class='answer'><span class='light' style='background:{LIGHT_COLOURS[v.light]}'>{_e(v.word)}"
            f"</span><b>{_e(v.question)}</b> {_e(v.sentence)}"
            + (f"<details><summary>evidence</summary><ul>{evidence}</ul></details>" if evidence else "")
            + "</div>"
        )
    sampled = " <span class='hint'>(measured on a user sample)</span>" if mv.sampled else ""
    return (
        f"<div class='card'><h3>{_e(mv.label)} <span class='hint'>{_e(mv.model)}</span>{sampled}</h3>"
        f"{''.join(answers)}</div>"
    )


def _light(light: str) -> str:
    return f"<span class='light' style='background:{LIGHT_COLOURS[light]}'>{_e(LIGHT_WORDS[light])}</span>"


def verdict_table(found: list[MethodVerdict]) -> str:
    """Page one's verdicts: one row per method, each answer as its light and word."""
    if not found:
        return "<h2>Verdicts</h2><p>No unlearning method in this run: nothing to judge.</p>"
    head = "".join(f"<th class='name'>{_e(q)}</th>" for q in QUESTIONS)
    rows = "".join(
        f"<tr><td class='name'><b>{_e(mv.label)}</b><br><span class='hint'>{_e(mv.model)}</span></td>"
        + "".join(f"<td class='name'>{_light(v.light)}</td>" for v in mv.answers)
        + "</tr>"
        for mv in found
    )
    return (
        f"<h2>Verdicts</h2><table class='verdict-table'><tr><th class='name'>method</th>{head}</tr>{rows}</table>"
        "<p class='hint'>Each method against retraining without the forgotten data (the gold standard), by the "
        "95 % intervals of its evidence; the reasons are under “The verdicts explained”.</p>"
    )


def sign_off(key_fingerprint: str | None, receipt_fingerprint: str | None) -> str:
    """Reviewer, role, decision, date, signature line and the receipt's fingerprint."""
    line = "<span class='blank'></span>"
    boxes = " ".join(f"<span class='box'></span> {c}" for c in ("accept", "reject", "ask for changes"))
    return (
        "<h2>Sign-off</h2><div class='signoff'>"
        f"<p><b>Receipt fingerprint: {_e(receipt_fingerprint or 'no receipt was saved with this report')}</b><br>"
        f"Signed by key: {_e(key_fingerprint or '—')} (check with: <code>cragru-run verify RECEIPT --data PATH</code>)"
        f"</p><p><b>Reviewer</b> {line} <b>Role</b> {line}</p><p><b>Decision</b> {boxes}</p>"
        f"<p><b>Date</b> {line} <b>Signature</b> {line}</p></div>"
    )


def verdicts_section(found: list[MethodVerdict]) -> str:
    if not found:
        return ""
    return (
        "<h2>The verdicts explained</h2><p class='hint'>Each method against the retrained model (the gold "
        "standard), by the 95 % intervals of its evidence and, with a reference ensemble, retraining's own spread: "
        "pass, partly, fail, or can't tell (not enough users to tell); a cost within retraining's own timing noise "
        f"is about the same.</p><div class='verdicts'>{''.join(_card(mv) for mv in found)}</div>"
    )


def _ids(values: list[str]) -> str:
    shown = ", ".join(values[:MAX_LISTED])
    more = f" … and {len(values) - MAX_LISTED:,} more (all in the receipt)" if len(values) > MAX_LISTED else ""
    return f"<p class='ids'>{_e(shown)}{_e(more)}</p>"


def subjects_section(facts: AuditFacts) -> str:
    s = facts.subjects
    if s is None:
        return "".join(f"<p class='hint'>{_e(w)}</p>" for w in facts.sample_notes + facts.warnings)
    parts = [
        f"<h2>Who and what was forgotten</h2><div class='request'><b>{_e(s.description)}</b> — "
        f"{s.n_removed_rows:,} training interactions removed.</div><p>{_e(s.who_counts)}</p>"
    ]
    if s.items:
        items = sorted(s.items, key=lambda pair: natural_key(pair[0]))
        rows = "".join(
            f"<tr><td class='name'>{_e(i)}</td><td class='name'>{_e(t)}</td></tr>" for i, t in items[:MAX_LISTED]
        )
        parts.append(
            f"<h3>Forgotten items ({len(s.items):,})</h3><table><tr><th class='name'>item ID</th>"
            f"<th class='name'>title</th></tr>{rows}</table>"
        )
    if s.pairs:
        parts.append(
            f"<h3>Removed interactions ({len(s.pairs):,}, user:item)</h3>"
            + _ids([f"{u}:{i}" for u, i in sorted(s.pairs, key=lambda p: (natural_key(p[0]), natural_key(p[1])))])
        )
    parts.append(
        f"<h3>Forgotten users by their dataset ID ({len(s.forgotten_users):,})</h3>"
        + _ids(sorted(s.forgotten_users, key=natural_key))
    )
    parts += [f"<p class='hint'>{_e(note)}</p>" for note in facts.sample_notes + facts.warnings]
    return "".join(parts)


def _kv(rows: dict) -> str:
    return (
        "<table>"
        + "".join(f"<tr><td class='name'>{_e(k)}</td><td class='name'>{_e(v)}</td></tr>" for k, v in rows.items())
        + "</table>"
    )


def provenance_section(facts: AuditFacts) -> str:
    """Fingerprint, request hash, seeds and package versions."""
    rows = {"run": facts.run_id, "dataset": facts.dataset_name}
    if facts.data is not None:
        rows["data files SHA-256"] = facts.data.sha256
        rows["data source"] = facts.data.source
    if facts.subjects is not None:
        rows["removed interactions SHA-256"] = facts.subjects.request_sha256
    rows.update({f"{k} seed": v for k, v in facts.seeds.items()})
    files = ""
    if facts.data is not None and facts.data.files:
        files = (
            "<details><summary>every file's SHA-256</summary><pre>"
            + _e("".join(f"{f.sha256}  {f.path}\n" for f in facts.data.files))
            + "</pre></details>"
        )
    return (
        f"<h2>Provenance</h2>{_kv(rows)}{files}<h3>Package versions</h3>{_kv(facts.versions)}"
        f"<h3>Configuration</h3><pre>{_e(json.dumps(facts.config, indent=2, default=str))}</pre>"
    )


def erasure_section(facts: AuditFacts) -> str:
    if not facts.erasure_audits:
        return ""
    parts = ["<h2>Erasure audit</h2>"]
    for name, found in facts.erasure_audits.items():
        verdict = (
            "found no trace of the request left"
            if found.get("audit_findings") == 0
            else f"found {int(found['audit_findings'])} trace(s) left"
        )
        parts.append(
            f"<p><b>{_e(name)}</b>: after deleting, the audit walked the whole retrieval store, every "
            f"retrieved history, cached prompt and cached answer and {verdict}.</p>{_kv(found)}"
        )
    return "".join(parts)


def examples_section(facts: AuditFacts) -> str:
    if not facts.examples:
        return ""
    parts = [
        "<h2>Before and after: forgotten users' top-10</h2><p class='hint'>Shaded: an item this user asked to "
        "forget. The retrained model may still recommend one because it is popular with others: that is not "
        "a memory of this user.</p>"
    ]
    for ex in facts.examples:
        head = "".join(f"<th class='name'>{_e(m)}</th>" for m in ex.models)
        body = "".join(
            f"<tr><td>{rank + 1}</td>"
            + "".join(
                f"<td class='name{' removed' if mark else ''}'>{_e(title)}</td>" for title, mark in zip(row, marks)
            )
            + "</tr>"
            for rank, (row, marks) in enumerate(zip(ex.rows, ex.removed))
        )
        parts.append(f"<h3>User {_e(ex.user_id)}</h3><table><tr><th>#</th>{head}</tr>{body}</table>")
    return "".join(parts)
