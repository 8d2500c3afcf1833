"""The audit report as a PDF, written with fpdf2 (pure Python, no Qt), so ``cragru-run`` and
the window write the same file. Same facts, same order as the HTML report: verdicts first,
then the forgotten subjects by real ID, the evidence with intervals, the erasure audit,
before/after examples, charts (PNG bytes, when the caller has them), provenance, and a
glossary appendix with the catalogue's words.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from core.reporting.audit import AuditFacts
from core.reporting.catalogue import SECTION_TITLES, TARGET_SENTENCES, families_in
from core.reporting.html_report import CHARTS
from core.reporting.verdicts import LIGHT_COLOURS, MethodVerdict

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)
MAX_IDS = 1000
MAX_ROWS = 200
INK, MUTED, HEAD = (19, 36, 58), (93, 104, 120), (29, 63, 102)
_LATIN1 = {
    "—": "-",
    "–": "-",
    "→": "->",
    "≈": "~",
    "…": "...",
    "‰": "o/oo",
    "’": "'",
    "“": '"',
    "”": '"',
    "≤": "<=",
    "≥": ">=",
    "−": "-",
    "✓": "v",
    "×": "x",
}


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


class _Doc(FPDF):
    """An A4 document with a Unicode font where one is installed (DejaVu), Helvetica otherwise."""

    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.title_text = title
        self.set_auto_page_break(True, margin=14)
        self.family = "Helvetica"
        regular, bold = _font("DejaVuSans.ttf"), _font("DejaVuSans-Bold.ttf")
        if regular and bold:
            self.add_font("DejaVu", "", str(regular))
            self.add_font("DejaVu", "B", str(bold))
            self.family = "DejaVu"
        self.set_title(title)
        self.set_creator("CRAGRU Studio")

    def text_of(self, value) -> str:
        text = str(value)
        if self.family == "DejaVu":
            return text
        for bad, good in _LATIN1.items():
            text = text.replace(bad, good)
        return text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-10)
        self.font(7, colour=MUTED)
        self.cell(0, 5, self.text_of(f"{self.title_text} — page {self.page_no()}"), align="C")

    def font(self, size: float, bold: bool = False, colour=INK) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*colour)

    def heading(self, text: str, size: float = 14) -> None:
        self.ln(2)
        self.font(size, bold=True, colour=HEAD)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, size: float = 9, colour=INK, bold: bool = False) -> None:
        self.font(size, bold, colour)
        self.multi_cell(0, size * 0.48, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(0.8)

    def grid(self, rows, widths=None, size: float = 7, marks=None) -> None:
        """A table, first row as headings; ``marks[i][j]`` shades a body cell."""
        self.font(size)
        self.set_fill_color(255, 255, 255)
        self.set_draw_color(213, 217, 224)
        shade = FontFace(fill_color=(251, 224, 222))
        with self.table(
            col_widths=widths,
            text_align="LEFT",
            line_height=size * 0.5,
            headings_style=FontFace(emphasis="BOLD", fill_color=(236, 239, 243)),
        ) as table:
            for i, row in enumerate(rows):
                cells = table.row()
                for j, value in enumerate(row):
                    marked = marks is not None and i > 0 and marks[i - 1][j]
                    cells.cell(self.text_of(value), style=shade if marked else None)
        self.ln(2)


def _font(name: str) -> Path | None:
    for folder in FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


def _verdicts(doc: _Doc, found: list[MethodVerdict]) -> None:
    doc.heading("Verdicts")
    doc.para(
        "Each method against the retrained model (the gold standard), by the 95 % intervals of its evidence: "
        "pass, partly, fail, or can't tell (not enough users to tell).",
        8,
        MUTED,
    )
    for mv in found:
        doc.para(f"{mv.label} ({mv.model})" + (" — measured on a user sample" if mv.sampled else ""), 11, HEAD, True)
        for v in mv.answers:
            doc.set_fill_color(*_rgb(LIGHT_COLOURS[v.light]))
            doc.font(8, bold=True, colour=(255, 255, 255))
            doc.cell(20, 5, doc.text_of(v.word), align="C", fill=True)
            doc.font(9, bold=True)
            doc.cell(46, 5, doc.text_of(v.question))
            doc.font(9)
            doc.multi_cell(0, 4.5, doc.text_of(v.sentence), new_x="LMARGIN", new_y="NEXT")
            for line in v.evidence:
                doc.set_x(doc.l_margin + 20)
                doc.font(7, colour=MUTED)
                doc.multi_cell(0, 3.4, doc.text_of("· " + line), new_x="LMARGIN", new_y="NEXT")
            doc.ln(1)


def _subjects(doc: _Doc, facts: AuditFacts) -> None:
    s = facts.subjects
    doc.heading("Who and what was forgotten")
    if s is None:
        for warning in facts.sample_notes + facts.warnings:
            doc.para(warning, 9, MUTED)
        return
    doc.para(f"{s.description} — {s.n_removed_rows:,} training interactions removed.", 10, bold=True)
    doc.para(s.who_counts)
    if s.items:
        doc.para(f"Forgotten items ({len(s.items):,})", 10, HEAD, True)
        doc.grid([("item ID", "title")] + [list(x) for x in s.items[:MAX_ROWS]], widths=(25, 100))
    if s.pairs:
        doc.para(f"Removed interactions ({len(s.pairs):,}, user:item)", 10, HEAD, True)
        doc.para(_listed([f"{u}:{i}" for u, i in s.pairs]), 7)
    doc.para(f"Forgotten users by their dataset ID ({len(s.forgotten_users):,})", 10, HEAD, True)
    doc.para(_listed(list(s.forgotten_users)), 7)
    for note in facts.sample_notes + facts.warnings:
        doc.para(note, 8, MUTED)


def _listed(values: list[str]) -> str:
    more = f" … and {len(values) - MAX_IDS:,} more (all in the receipt)" if len(values) > MAX_IDS else ""
    return ", ".join(values[:MAX_IDS]) + more


def _evidence(doc: _Doc, facts: AuditFacts) -> None:
    doc.add_page(orientation="L")
    doc.heading("Evidence, with 95 % user-bootstrap intervals")
    doc.para(
        "Each figure with its interval [low, high]; Δ retrain is the paired difference from the retrained "
        "model, over the same users.",
        8,
        MUTED,
    )
    n = len(facts.evidence[0]) - 1
    doc.grid(facts.evidence, widths=(60,) + (max(20, 205 // max(n, 1)),) * n, size=6.5)
    for name, found in facts.erasure_audits.items():
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
        doc.grid([("figure", "value")] + [(k, f"{v:g}") for k, v in found.items()], widths=(50, 30))


def _examples(doc: _Doc, facts: AuditFacts) -> None:
    if not facts.examples:
        return
    doc.add_page(orientation="L")
    doc.heading("Before and after: forgotten users' top-10")
    doc.para(
        "Shaded: an item this user asked to forget. The retrained model may still recommend one because it "
        "is popular with others: that is not a memory of this user.",
        8,
        MUTED,
    )
    for ex in facts.examples:
        doc.para(f"User {ex.user_id}", 10, HEAD, True)
        width = 262 // max(len(ex.models), 1)
        rows = [("#", *ex.models)] + [(str(r + 1), *(t[:60] for t in row)) for r, row in enumerate(ex.rows)]
        marks = [(False, *m) for m in ex.removed]
        doc.grid(rows, widths=(8,) + (width,) * len(ex.models), size=6.5, marks=marks)


def _charts(doc: _Doc, images: dict[str, bytes]) -> None:
    shown = {name: png for name, png in images.items() if png}
    if not shown:
        return
    doc.add_page()
    doc.heading("Charts")
    for name, png in shown.items():
        doc.para(CHARTS.get(name, (name, None))[0], 9, HEAD, True)
        doc.image(io.BytesIO(png), w=170)
        doc.ln(3)


def _provenance(doc: _Doc, facts: AuditFacts) -> None:
    doc.add_page()
    doc.heading("Provenance")
    rows = [("fact", "value"), ("run", facts.run_id), ("dataset", facts.dataset_name)]
    if facts.data is not None:
        rows += [("data files SHA-256", facts.data.sha256), ("data source", facts.data.source)]
    if facts.subjects is not None:
        rows.append(("removed interactions SHA-256", facts.subjects.request_sha256))
    rows += [(f"{k} seed", str(v)) for k, v in facts.seeds.items()]
    rows += [(f"package {k}", v) for k, v in facts.versions.items()]
    doc.grid(rows, widths=(55, 125), size=7)
    if facts.data is not None and facts.data.files:
        doc.para("Every file's SHA-256", 10, HEAD, True)
        doc.grid(
            [("file", "SHA-256")] + [(f.path, f.sha256) for f in facts.data.files[:MAX_ROWS]],
            widths=(45, 135),
            size=6.5,
        )
    doc.para("Configuration", 10, HEAD, True)
    doc.para(json.dumps(facts.config, indent=1, default=str), 6.5)


def _glossary(doc: _Doc, result) -> None:
    doc.add_page()
    doc.heading("Appendix: what the measures mean")
    section = None
    for entry in families_in(k for report in result.models.values() for k in report.flat()):
        if entry.section != section:
            section = entry.section
            doc.para(SECTION_TITLES[section], 11, HEAD, True)
        family = entry.family
        doc.para(family.label.format(k=entry.k, group="", key=entry.key), 9, bold=True)
        doc.para(f"{family.describe(entry.k)} {TARGET_SENTENCES[entry.target]}", 8)


def pdf_bytes(
    result, facts: AuditFacts, images: dict[str, bytes] | None = None, title: str = "CRAGRU Studio audit report"
) -> bytes:
    doc = _Doc(title)
    doc.add_page()
    doc.heading(title, 18)
    when = datetime.fromtimestamp(result.started_at).strftime("%Y-%m-%d %H:%M") if result.started_at else ""
    ds = result.dataset
    doc.para(
        f"Run {result.run_id}, started {when}, on {ds.get('name', '?')} ({ds.get('n_users', '?')} users, "
        f"{ds.get('n_items', '?')} items, {ds.get('n_interactions', '?')} interactions); device "
        f"{result.environment.get('device', '?')}.",
        9,
        MUTED,
    )
    _verdicts(doc, facts.verdicts)
    _subjects(doc, facts)
    _evidence(doc, facts)
    from core.reporting.breakdown_page import breakdown_pdf_page  # who was affected, by user attribute

    breakdown_pdf_page(doc, result)
    _examples(doc, facts)
    _charts(doc, images or {})
    _provenance(doc, facts)
    _glossary(doc, result)
    return bytes(doc.output())


def write_pdf(
    result, path: str | Path, images: dict[str, bytes] | None = None, facts: AuditFacts | None = None
) -> Path:
    """Write the PDF audit report (facts gathered from the run's data when not given)."""
    from core.reporting.audit import build_audit

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf_bytes(result, facts if facts is not None else build_audit(result), images))
    return path
