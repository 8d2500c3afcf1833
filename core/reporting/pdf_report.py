"""The audit report as a PDF a reviewer can read, sign and file (fpdf2, no Qt, so the window
and ``cragru-run`` write the same document).

Page 1 is what a reviewer signs: what was asked (request, dataset, date), the verdicts with
their lights and words, the per-person lines where the request names people, and the sign-off
block with the receipt's fingerprint. Then the verdicts explained, who was forgotten (by real
ID, in natural order), the evidence with intervals, the erasure audit, before/after examples,
the charts (vector, :mod:`core.reporting.print_charts`), provenance and a glossary. All text
is 9 pt or more in black; the fonts cover every ID (:mod:`core.reporting.pdf_doc`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from core.reporting.audit import AuditFacts
from core.reporting.catalogue import SECTION_TITLES, TARGET_SENTENCES, entry_for, families_in, headline_keys
from core.reporting.named_people import named_people_lines, people_pdf
from core.reporting.natural_order import natural_key
from core.reporting.pdf_doc import BLACK, BODY_PT, GRID_PADDING, MIN_PT, RULE, ReportDoc
from core.reporting.print_charts import marker
from core.reporting.verdicts import AMBER, GREEN, GREY, LIGHT_COLOURS, LIGHT_WORDS, RED, MethodVerdict

MAX_IDS = 1000
MAX_ROWS = 200
"""Named people listed on page one (the sign-off block stays there); the HTML report lists all."""
MAX_EVIDENCE_COLUMNS = 6
"""Models side by side in one evidence table (a figure and its interval on one or two lines);
more are printed in parts."""
MIN_LABEL_WIDTH = 36.0
"""Millimetres the evidence table's measure column keeps when the models take the rest."""
DENSE_PAD = 0.5
"""Millimetres above and under a cell's text (not 0.8) in the evidence and the before/after tables,
at MIN_PT, when the evidence needs three parts or more (twelve methods and base): with them it
leaves room for a before/after list on its last page."""
MAX_EXAMPLES = 3
"""Before/after examples printed at most: the first always, the others where they fit on its page;
the HTML report shows all."""
LIGHT_MARKS = {GREEN: "circle", AMBER: "triangle", RED: "square"}
"""Each light's shape, so a grey-scale print still tells them apart (others: a diamond)."""
TITLE = "Unlearning audit report"


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def light_badge(doc: ReportDoc, light: str, x: float, y: float) -> float:
    """The light's shape in its colour and its word in black bold; returns the width used."""
    marker(doc, LIGHT_MARKS.get(light, "diamond"), x + 2, y + 2.5, _rgb(LIGHT_COLOURS[light]), r=1.8)
    doc.font(BODY_PT, bold=True)
    word = doc.text_of(LIGHT_WORDS[light])
    doc.set_xy(x + 5, y)
    doc.cell(doc.get_string_width(word) + 1, 5, word)
    return 6 + doc.get_string_width(word)


# -- page 1 ----------------------------------------------------------------------------------
def _asked(doc: ReportDoc, result, facts: AuditFacts) -> None:
    ds, req = result.dataset, result.request
    when = datetime.fromtimestamp(result.started_at).strftime("%Y-%m-%d %H:%M") if result.started_at else "?"
    s = facts.subjects
    removed = s.n_removed_rows if s is not None else req.get("n_removed_rows", 0)
    users = len(s.forgotten_users) if s is not None else req.get("n_forget_users", 0)
    rows = [
        ("Request", f"{req.get('description', '?')} — {removed:,} training interactions of {users:,} users removed"),
        (
            "Dataset",
            f"{ds.get('name', '?')} — {ds.get('n_users', '?'):,} users, {ds.get('n_items', '?'):,} items, "
            f"{ds.get('n_interactions', '?'):,} interactions"
            + (f"; files SHA-256 {facts.data.sha256[:16]}…" if facts.data is not None else ""),
        ),
        ("Run", f"{result.run_id}, {when}, on {result.environment.get('device', '?')}"),
    ]
    doc.heading("What was asked")
    doc.grid(rows, widths=(25, 155), head=False)


def _verdict_table(doc: ReportDoc, found: list[MethodVerdict]) -> None:
    doc.heading("Verdicts")
    if not found:
        doc.para("No unlearning method in this run: nothing to judge.")
        return
    widths = (51, 43, 43, 43)
    heads = ("Method", "Is the data forgotten?", "Who else was affected?", "What did it cost?")
    doc.font(BODY_PT, bold=True)
    doc.set_fill_color(236, 236, 236)
    x0 = doc.l_margin
    for width, head in zip(widths, heads):
        doc.cell(width, 6.5, doc.text_of(head), border=1, fill=True)
    doc.ln(6.5)
    for mv in found:
        y = doc.get_y()
        doc.font(BODY_PT)
        doc.set_draw_color(*RULE)
        doc.set_xy(x0, y)
        label = f"{mv.label}" + (" (user sample)" if mv.sampled else "")
        text = doc.text_of(f"{label}\n{mv.model}")
        lines = len(doc.multi_cell(widths[0], 4.4, text, dry_run=True, output="LINES"))
        height = max(lines * 4.4 + 0.8, 9.5)  # the row as tall as its name (a long label takes three lines)
        doc.multi_cell(widths[0], 4.4, text, align="L", new_x="RIGHT", new_y="TOP")
        x = x0 + widths[0]
        for width, verdict in zip(widths[1:], mv.answers):
            light_badge(doc, verdict.light, x + 1.5, y + 2.2)
            x += width
        doc.rect(x0, y, sum(widths), height)
        doc.set_y(y + height)
    doc.ln(1.5)
    doc.para(
        "Each method is judged against retraining without the forgotten data (the gold standard), by the 95 % "
        "intervals of its evidence. Shapes: circle pass, triangle partly, square fail, diamond can't tell or "
        "about the same. Page 2 gives each verdict's reasons.",
        BODY_PT,
    )


def sign_off(doc: ReportDoc, key_fingerprint: str | None, receipt_fingerprint: str | None) -> None:
    """Reviewer, role, decision, date, signature line and the receipt's fingerprint."""
    doc.need(62)
    doc.heading("Sign-off")
    top = doc.get_y()
    doc.set_draw_color(*BLACK)
    doc.set_line_width(0.3)
    doc.rect(doc.l_margin, top, doc.epw, 52)
    doc.set_xy(doc.l_margin + 3, top + 2.5)
    doc.para(f"Receipt fingerprint: {receipt_fingerprint or 'no receipt was saved with this report'}", BODY_PT, True, 3)
    doc.para(f"Signed by key: {key_fingerprint or '—'} (check with: cragru-run verify RECEIPT --data PATH)", indent=3)
    y = doc.get_y() + 3
    for label, x, width in (("Reviewer", 0, 84), ("Role", 92, 82)):
        _field(doc, label, doc.l_margin + 3 + x, y, width)
    y += 11
    doc.font(BODY_PT, bold=True)
    doc.set_xy(doc.l_margin + 3, y)
    doc.cell(20, 5, "Decision")
    x = doc.l_margin + 25
    for choice in ("accept", "reject", "ask for changes"):
        doc.rect(x, y + 0.8, 3.4, 3.4)
        doc.font(BODY_PT)
        doc.set_xy(x + 4.5, y)
        doc.cell(doc.get_string_width(choice) + 2, 5, choice)
        x += doc.get_string_width(choice) + 14
    y += 10
    _field(doc, "Date", doc.l_margin + 3, y, 50)
    _field(doc, "Signature", doc.l_margin + 60, y, 114)
    doc.set_y(top + 55)


def _field(doc: ReportDoc, label: str, x: float, y: float, width: float) -> None:
    doc.font(BODY_PT, bold=True)
    doc.set_xy(x, y)
    doc.cell(doc.get_string_width(label) + 2, 5, label)
    doc.line(x + doc.get_string_width(label) + 3, y + 4.5, x + width, y + 4.5)


# -- the sections after page 1 ------------------------------------------------------------------
EXPLAINED_PAGES = 2.0
"""Pages the verdicts explained may take with every evidence line; a run whose reasons need more
(ten methods: six pages) gets one compact block per method, the evidence lines in the HTML report
and the receipt."""
COMPACT_NOTE = (
    "Each answer's evidence lines (the figures it rests on against retraining, and retraining's own spread) "
    "are in the HTML report under “The verdicts explained” and in the receipt (JSON); the figures with their "
    "95 % intervals are in the evidence table below."
)


COMPACT_GAP = 0.4
"""Millimetres between two compact answers (each starts with its light's shape)."""


def _badge_indent(doc: ReportDoc) -> float:
    doc.font(BODY_PT, bold=True)
    return 9 + max(doc.get_string_width(word) for word in LIGHT_WORDS.values())  # the widest badge, never over


def _lines(doc: ReportDoc, text: str, width: float, size: float = BODY_PT, bold: bool = False) -> int:
    doc.font(size, bold)
    return len(doc.multi_cell(width, size * 0.47, doc.text_of(text), dry_run=True, output="LINES"))


def _explained_height(doc: ReportDoc, found: list[MethodVerdict], indent: float) -> float:
    """Millimetres the verdicts explained take with every evidence line (as :func:`_explained` lays them out)."""
    line, total = BODY_PT * 0.47, 0.0
    for mv in found:
        total += _lines(doc, f"{mv.label} ({mv.model})", doc.epw, 11, True) * 11 * 0.47 + 1.8
        for v in mv.answers:
            total += _lines(doc, v.question, doc.epw - indent, bold=True) * 4.5
            total += _lines(doc, v.sentence, doc.epw - indent) * line + 0.8
            total += sum(_lines(doc, f"· {e}", doc.epw - indent - 4) * line + 0.8 for e in v.evidence)
    return total


def _explained(doc: ReportDoc, found: list[MethodVerdict], new_page: bool = True) -> None:
    if not found:
        return
    if new_page:
        doc.add_page()
    doc.heading("The verdicts explained")
    indent = _badge_indent(doc)
    if _explained_height(doc, found, indent) > EXPLAINED_PAGES * doc.eph - doc.get_y() + doc.t_margin:
        _explained_compact(doc, found)
        return
    for mv in found:
        doc.need(30)
        doc.para(f"{mv.label} ({mv.model})" + (" — measured on a user sample" if mv.sampled else ""), 11, True)
        for v in mv.answers:
            doc.need(14)
            y = doc.get_y()
            light_badge(doc, v.light, doc.l_margin, y)
            doc.set_xy(doc.l_margin + indent, y)
            doc.font(BODY_PT, bold=True)
            doc.multi_cell(0, 4.5, doc.text_of(v.question), new_x="LMARGIN", new_y="NEXT")
            doc.para(v.sentence, indent=indent)
            for line in v.evidence:
                doc.para(f"· {line}", indent=indent + 4)
        doc.ln(1)


def _explained_compact(doc: ReportDoc, found: list[MethodVerdict]) -> None:
    """Per method its name, then each answer on one paragraph: the light's shape and word, the
    question in bold and the sentence, run on under the word (the evidence lines: see COMPACT_NOTE)."""
    doc.para(COMPACT_NOTE)
    line = BODY_PT * 0.47
    for mv in found:
        doc.need(8 + 3 * 2 * line)
        doc.para(f"{mv.label} ({mv.model})" + (" — measured on a user sample" if mv.sampled else ""), 10.5, True)
        for v in mv.answers:
            doc.need(2 * line + 1)
            y, margin = doc.get_y(), doc.l_margin
            marker(
                doc, LIGHT_MARKS.get(v.light, "diamond"), margin + 2, y + line / 2, _rgb(LIGHT_COLOURS[v.light]), r=1.8
            )
            doc.set_left_margin(margin + 5)  # the lines after the first start under the word
            doc.set_xy(margin + 5, y)
            doc.font(BODY_PT, bold=True)
            doc.write(line, doc.text_of(f"{LIGHT_WORDS[v.light]}  {v.question} "))
            doc.font(BODY_PT)
            doc.write(line, doc.text_of(v.sentence))
            doc.set_left_margin(margin)
            doc.ln(line + COMPACT_GAP)


def _subjects(doc: ReportDoc, facts: AuditFacts) -> None:
    s = facts.subjects
    doc.need(40)
    doc.heading("Who and what was forgotten")
    if s is None:
        for warning in facts.sample_notes + facts.warnings:
            doc.para(warning)
        return
    doc.para(f"{s.description} — {s.n_removed_rows:,} training interactions removed.", bold=True)
    doc.para(s.who_counts)
    if s.items:
        doc.para(f"Forgotten items ({len(s.items):,})", 10.5, True)
        items = sorted(s.items, key=lambda pair: natural_key(pair[0]))
        doc.grid([("item ID", "title")] + [list(x) for x in items[:MAX_ROWS]], widths=(30, 150))
    if s.pairs:
        doc.para(f"Removed interactions ({len(s.pairs):,}, user:item)", 10.5, True)
        pairs = sorted(s.pairs, key=lambda p: (natural_key(p[0]), natural_key(p[1])))
        doc.para(_listed([f"{u}:{i}" for u, i in pairs]))
    doc.para(f"Forgotten users by their dataset ID ({len(s.forgotten_users):,})", 10.5, True)
    doc.para(_listed(sorted(s.forgotten_users, key=natural_key)))
    for note in facts.sample_notes + facts.warnings:
        doc.para(note)


def _listed(values: list[str]) -> str:
    more = f" … and {len(values) - MAX_IDS:,} more (all in the receipt)" if len(values) > MAX_IDS else ""
    return ", ".join(values[:MAX_IDS]) + more


def _label(doc: ReportDoc, label: str, width: float, short: dict[str, str]) -> str:
    """A measure's label, or its short name (the catalogue's) where the label would wrap in ``width`` mm."""
    doc.font(BODY_PT)
    fits = doc.get_string_width(doc.text_of(label)) <= width - 2 * GRID_PADDING - 0.6
    return label if fits or label not in short else short[label]


def evidence_shorts(result) -> dict[str, str]:
    """Each evidence row's label → the catalogue's short name of its measure."""
    flats = [report.flat() for report in result.models.values()]
    return {entry_for(k).label: entry_for(k).short for k in headline_keys(flats)}


def _evidence(doc: ReportDoc, facts: AuditFacts, short: dict[str, str] | None = None) -> None:
    n = len(facts.evidence[0]) - 1
    doc.add_page(orientation="L" if n > 3 else "P")
    doc.heading("Evidence, with 95 % user-bootstrap intervals")
    doc.para(
        "Each figure with its interval [low, high]; Δ retrain is the paired difference from the retrained model, "
        "over the same users. The times are in the cost chart."
    )
    widest = (88 if n <= 4 else 70) if doc.w > doc.h else 52  # wide page: a row on one line up to 4 models
    size, pad = (MIN_PT, DENSE_PAD) if _dense(facts) else (BODY_PT, GRID_PADDING)
    timing = {entry_for(k).label for k in ("time_s", "prep_time_s", "speedup_vs_retrain", "speedup_incl_setup")}
    rows = [row for row in facts.evidence if row[0] not in timing]  # the times: in the cost chart
    groups = -(-n // MAX_EVIDENCE_COLUMNS)  # more models than fit: the table in parts, each as wide as the page
    per = -(-n // max(groups, 1))
    for start in range(1, n + 1, per):
        part = [(row[0], *row[start : start + per]) for row in rows]
        part[0] = tuple(_breakable(name) for name in part[0])
        models = max(len(part[0]) - 1, 1)
        doc.font(size)
        one_line = max(doc.get_string_width(doc.text_of(c)) for row in part[1:] for c in row[1:]) + 2 * GRID_PADDING
        first = min(widest, max(MIN_LABEL_WIDTH, doc.epw - models * (one_line + 0.7)))  # figures on one line
        width = (doc.epw - first) / models
        fits = width - 2 * GRID_PADDING - 0.6
        part[1:] = [
            (_label(doc, row[0], first, short or {}), *(_interval_below(doc, cell, fits, size) for cell in row[1:]))
            for row in part[1:]
        ]
        doc.grid(part, widths=(first,) + (width,) * models, size=size, pad_y=pad)
        doc.ln(2)
    for name, found in facts.erasure_audits.items():
        doc.need(32)
        doc.heading("Erasure audit", 12)
        left = (
            "found no trace of the request left"
            if found.get("audit_findings") == 0
            else f"found {int(found.get('audit_findings', 0))} trace(s) left"
        )
        doc.para(
            f"{name}: after deleting, the audit walked the whole retrieval store, every retrieved history, "
            f"cached prompt and cached answer and {left}."
        )
        doc.font(BODY_PT, bold=True)  # one row of figures under their names, each column as wide as its cell
        cells = [(_breakable(k), f"{v:g}") for k, v in found.items()]
        widths = [max(doc.get_string_width(k), doc.get_string_width(v)) + 2 * GRID_PADDING + 1 for k, v in cells]
        scale = min(1.0, doc.epw / sum(widths))
        doc.grid(list(zip(*cells)), widths=tuple(w * scale for w in widths), width=sum(widths) * scale)


def _examples(doc: ReportDoc, facts: AuditFacts) -> None:
    if not facts.examples:
        return
    if doc.w > doc.h and doc.room() > 75:  # after the evidence, on its landscape page
        doc.ln(4)
    else:
        doc.add_page(orientation="L")
    doc.heading("Before and after: forgotten users' top-10")
    dense = _dense(facts)  # twelve methods and more: one user's lists, said here
    doc.para(
        "Shaded and bold: an item this user asked to forget. The retrained model may still recommend one because "
        "it is popular with others: that is not a memory of this user."
        + (
            " One user's lists here; the other users' are in the HTML report."
            if dense and len(facts.examples) > 1
            else ""
        )
    )
    size, pad = (MIN_PT, DENSE_PAD) if dense else (BODY_PT, GRID_PADDING)
    row_h = size * 0.47 + 2 * pad  # one line a row: every title is cut to its cell
    for n, ex in enumerate(facts.examples[: 1 if dense else MAX_EXAMPLES]):
        height = 8 + row_h * (len(ex.rows) + 1)
        if n and doc.room() < height:
            if doc.room() > 8:
                doc.para("More users' before/after lists are in the HTML report.")
            break
        doc.need(height)
        doc.para(f"User {ex.user_id}", 10.5, True)
        width = (doc.epw - 8) / max(len(ex.models), 1)
        doc.font(size, bold=True)  # the widest a title prints (shaded cells are bold)
        fit = width - 2 * GRID_PADDING - 0.6
        rows = [("#", *map(_breakable, ex.models))] + [
            (str(r + 1), *(_cut(doc, t, fit) for t in row)) for r, row in enumerate(ex.rows)
        ]
        marks = [(False, *m) for m in ex.removed]
        doc.grid(rows, widths=(8,) + (width,) * len(ex.models), marks=marks, size=size, pad_y=pad)


def _dense(facts: AuditFacts) -> bool:
    # three evidence parts or more (twelve methods and base): see DENSE_PAD
    return bool(getattr(facts, "evidence", None)) and len(facts.evidence[0]) - 1 > 2 * MAX_EVIDENCE_COLUMNS


def _cut(doc: ReportDoc, text: str, width: float) -> str:
    """``text`` shortened with "…" until it fits ``width`` mm in the current font (one line a cell)."""
    text = doc.text_of(text)
    if doc.get_string_width(text) <= width:
        return text
    while text and doc.get_string_width(text.rstrip() + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _interval_below(doc: ReportDoc, cell: str, width: float, size: float = BODY_PT) -> str:
    """ "0.2963 [0.2481, 0.3392]" on two clean lines (figure, then interval) where one is too narrow."""
    doc.font(size)
    return cell.replace(" [", "\n[", 1) if doc.get_string_width(cell) > width else cell


def _breakable(name: str) -> str:
    """A model's key that may wrap after "_" in a narrow heading ("dual_" / "memory", not "dual_me" / "mory")."""
    return name.replace("_", "_\u200b")


def _provenance(doc: ReportDoc, facts: AuditFacts) -> None:
    doc.need(80)
    doc.heading("Provenance")
    source = f" (source: {facts.data.source})" if facts.data is not None else ""
    seeds = ", ".join(f"{k} {v}" for k, v in facts.seeds.items())
    rows = [
        ("fact", "value"),
        ("run, dataset, seeds", f"{facts.run_id} on {facts.dataset_name}{source}; seeds {seeds}"),
    ]
    if facts.data is not None:
        rows.append(("data files SHA-256", facts.data.sha256))
        rows += [(f"file {f.path}", f.sha256) for f in facts.data.files[:MAX_ROWS]]
    if facts.subjects is not None:
        rows.append(("removed interactions SHA-256", facts.subjects.request_sha256))
    rows.append(("packages", ", ".join(f"{k} {v}" for k, v in facts.versions.items() if v != "not installed")))
    doc.grid(rows, widths=(50, 130), size=MIN_PT)
    doc.need(30)
    doc.para("Configuration (the receipt holds it whole; verify --replay re-runs it)", 10.5, True)
    doc.para("; ".join(config_lines(facts.config)) + ".", MIN_PT)


def config_lines(config: dict) -> list[str]:
    """The configuration a line per section and per method, each method's parameters only where they
    differ from the method's defaults (the receipt and the HTML report hold every one)."""
    lines = []
    for key, value in config.items():
        if key == "methods":
            continue
        if isinstance(value, dict):
            lines.append(f"{key}: " + ", ".join(f"{k} {_short(v)}" for k, v in value.items()))
    plain = [f"{k} {_short(v)}" for k, v in config.items() if k != "methods" and not isinstance(v, dict)]
    if plain:
        lines.append("run: " + ", ".join(plain))
    plain = []
    for method in config.get("methods", []):
        params, defaults = method.get("params", {}), _defaults(method.get("name", ""))
        changed = {k: v for k, v in params.items() if defaults is None or k not in defaults or defaults[k] != v}
        if not changed:
            plain.append(method.get("name", "?"))
            continue
        said = ", ".join(f"{k} {_short(v)}" for k, v in changed.items())
        lines.append(f"{method.get('name', '?')}: {said}" + (" (the others at their defaults)" if defaults else ""))
    if plain:
        lines.append(f"{', '.join(plain)}: every parameter at its default")
    return lines


def _defaults(name: str) -> dict | None:
    from core.methods.registry import get_method

    try:
        return get_method(name).defaults()
    except (KeyError, ValueError):
        return None


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) or not value else value
    return text if len(text) <= 60 else text[:59] + "…"


_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9(])")


def _glossary(doc: ReportDoc, result) -> None:
    """The measures of the evidence table and the charts in two columns, each sentence once: a
    sentence several measures share (the attacks' reading, the target) is printed at the first."""
    doc.need(60)
    doc.heading("Glossary: what the measures mean")
    doc.para("The evidence table's and the charts' measures, a shared sentence once; the HTML report has each in full.")
    flats = [report.flat() for report in result.models.values()]
    speedups = ("speedup_vs_retrain", "speedup_incl_setup")  # not in the evidence table nor the charts
    shown = [k for k in headline_keys(flats) if k not in speedups]
    shown += [k for k in ("time_s", "prep_time_s") if k not in shown and any(k in f for f in flats)]
    section, said = None, set()
    with doc.text_columns(ncols=2, gutter=6, text_align="LEFT", line_height=1.15) as cols:
        for entry in families_in(shown):
            if entry.section != section:
                section = entry.section
                with cols.paragraph(top_margin=1.2, bottom_margin=0.4) as par:
                    doc.font(10.5, bold=True)
                    par.write(doc.text_of(SECTION_TITLES[section]))
            family = entry.family
            text = f"{family.describe(entry.k)} {TARGET_SENTENCES[entry.target]}"
            sentences = [t for t in _SENTENCE.split(text) if t not in said]
            said |= set(sentences)
            with cols.paragraph(bottom_margin=0.8) as par:
                doc.font(MIN_PT, bold=True)
                par.write(doc.text_of(family.label.format(k=entry.k, group="", key=entry.key) + ": "))
                doc.font(MIN_PT)
                par.write(doc.text_of(" ".join(sentences)))


def pdf_bytes(
    result,
    facts: AuditFacts,
    images: dict[str, bytes] | None = None,
    title: str = TITLE,
    receipt: dict | None = None,
) -> bytes:
    """The report; ``receipt`` (the signed receipt saved beside it) gives the sign-off its
    fingerprints. ``images`` (the window's grabs) are not used: the charts are drawn for print."""
    from core.reporting.print_charts import draw_charts
    from core.signing import installation_fingerprint, receipt_fingerprint

    doc = ReportDoc(title)
    doc.alias_nb_pages()
    doc.add_page()
    doc.font(17, bold=True)
    doc.cell(0, 9, doc.text_of(title), new_x="LMARGIN", new_y="NEXT")
    _asked(doc, result, facts)
    _verdict_table(doc, facts.verdicts)
    key = receipt["signature"]["key_fingerprint"] if receipt and "signature" in receipt else installation_fingerprint()
    people, fingerprint = named_people_lines(result, facts), receipt_fingerprint(receipt) if receipt else None
    with doc.offset_rendering() as trial:  # laid out, then rewound: do the people and the sign-off share page one?
        people_pdf(trial, people)
        sign_off(trial, key, fingerprint)
    first = not trial.page_break_triggered
    if first:
        people_pdf(doc, people)
    sign_off(doc, key, fingerprint)
    if not first:  # else page one keeps the sign-off and the people open page two, the reasons below them
        doc.add_page()
        people_pdf(doc, people)
    _explained(doc, facts.verdicts, new_page=first)
    _subjects(doc, facts)
    _evidence(doc, facts, evidence_shorts(result))
    _examples(doc, facts)  # on the evidence's last page where it fits
    from core.reporting.breakdown_page import breakdown_pdf_page  # who was affected, by user attribute

    breakdown_pdf_page(doc, result)
    draw_charts(doc, result)
    _provenance(doc, facts)
    _glossary(doc, result)
    return bytes(doc.output())


def write_pdf(
    result,
    path: str | Path,
    images: dict[str, bytes] | None = None,
    facts: AuditFacts | None = None,
    receipt: dict | None = None,
) -> Path:
    """Write the PDF audit report (facts gathered from the run's data when not given)."""
    from core.reporting.audit import build_audit

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    facts = facts if facts is not None else build_audit(result)
    path.write_bytes(pdf_bytes(result, facts, images, receipt=receipt))
    return path


__all__ = ["GREY", "light_badge", "pdf_bytes", "sign_off", "write_pdf"]
