"""*Who was affected, by user attribute*: one section of the report (HTML) and one landscape page (PDF).

Per method, the who-else sentence (a group hurt beyond the tolerance while the rest of its
attribute is not); then per attribute a table of each group's NDCG@10 change against
retraining per method, with its 95 % interval, and the fairness gap beside the original
model's. Everything comes from ``result.breakdown``; a run without one gets nothing.

The HTML lists every group. The PDF page says the same in the same order on one page at 9 pt
(ML-100K: 4 attributes, 34 groups, 5 columns took two): the sentences name the groups without
their intervals (the table has them, shaded), the attributes share one table, and an attribute
of many groups (21 occupations) is cut, only when the page would overflow, to the groups the
sentences name plus the most changed; one row gives the range of the others' changes and a
line under the table says where every group is listed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from fpdf.enums import MethodReturnValue
from fpdf.fonts import FontFace

from core.reporting.breakdown_text import METRIC, findings, metric_short, who_else_sentence
from core.reporting.pdf_doc import MIN_PT, RULE, SHADE

INTRO = (
    "Each group's {m} under a method minus under retraining, over the same retained users (95 % user-bootstrap "
    "interval in brackets); 0 is retraining. The fairness gap is the largest minus the smallest group change: how "
    "unequally it falls across the groups (groups under {n} users left out); read it against the original model's gap."
)
IN_BRACKETS = " (95 % user-bootstrap interval in brackets)"
MANY = 8
"""An attribute with more groups than this may be cut on the PDF page (never in the HTML)."""
MOST_LISTED = 8
"""At most this many of a cut attribute's other groups are listed (the most changed first)."""
PAD = 0.5
"""Millimetres around the text of a cell of this page's table (the report's other tables: 0.8)."""
LINE = MIN_PT * 0.47
"""Millimetres per line of 9 pt text (as ReportDoc's tables)."""


def _methods(result) -> list[str]:
    return [m for m in result.models if m != "retrain"]


def _triple(triple, intervals: bool = True) -> str:
    if triple is None or any(v != v for v in triple):
        return "—"
    value, low, high = triple
    return f"{value:+.3f} [{low:+.3f}, {high:+.3f}]" if intervals else f"{value:+.3f}"


def _sizes(ab) -> list[int]:
    sizes = ab.sizes.get("retrain") or next(iter(ab.sizes.values()), [])
    return [sizes[g] if g < len(sizes) else 0 for g in range(len(ab.groups))]


def attribute_rows(result, name: str, metric: str = METRIC) -> list[tuple[str, ...]]:
    """Header, one row per group, then the fairness gap: the table of one attribute."""
    ab = result.breakdown.attributes[name]
    methods = _methods(result)
    sizes = _sizes(ab)
    rows = [("group", "users", *(result.models[m].label for m in methods))]
    for g, group in enumerate(ab.groups):
        rows.append((group, f"{sizes[g]:,}", *(_triple(ab.cell("vs_retrain", m, metric, g)) for m in methods)))
    rows.append(("fairness gap", "", *(_triple(ab.gaps.get(m, {}).get(metric)) for m in methods)))
    return rows


def sentences(result, metric: str = METRIC) -> list[str]:
    out = []
    for m in _methods(result):
        if m == "base":
            continue
        said = who_else_sentence(result.breakdown, m, metric)
        out.append(f"{result.models[m].label}: {said or 'no group singled out beyond the tolerance.'}")
    return out


def breakdown_html(result, metric: str = METRIC) -> str:
    """The report's HTML section ('' for a run without a breakdown)."""
    if getattr(result, "breakdown", None) is None:
        return ""
    bd = result.breakdown
    parts = [
        "<h2>Who was affected, by user attribute</h2>",
        f"<p class='hint'>{html.escape(INTRO.format(m=metric_short(metric), n=bd.min_group))}</p>",
        "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences(result, metric)) + "</ul>",
    ]
    for name, ab in bd.attributes.items():
        rows = attribute_rows(result, name, metric)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
        parts.append(f"<h3>{html.escape(ab.label)}</h3><table><tr>{head}</tr>{body}</table>")
    parts += [f"<p class='hint'>{html.escape(note)}</p>" for note in bd.notes]
    return "\n".join(parts)


# -- the PDF page ---------------------------------------------------------------------------------


def singled_out(result, name: str, metric: str = METRIC) -> dict[str, set[int]]:
    """Per method, the groups of attribute ``name`` its who-else sentence names (the sentence's
    own rule decides whether the attribute singles any out; each hurt group is one of them)."""
    out = {}
    for m in _methods(result):
        if m != "base" and who_else_sentence(result.breakdown, m, metric, [name], intervals=False):
            out[m] = {f.group for f in findings(result.breakdown, m, name, metric) if f.hurt}
    return out


def most_changed(result, name: str, metric: str = METRIC) -> list[int]:
    """The attribute's groups, largest change against retraining (under any method but the
    original model) first."""
    ab = result.breakdown.attributes[name]
    methods = [m for m in _methods(result) if m != "base"]

    def key(g: int) -> float:
        return -max((abs(c[0]) for m in methods if (c := ab.cell("vs_retrain", m, metric, g)) is not None), default=0)

    return sorted(range(len(ab.groups)), key=key)


@dataclass
class Block:
    """One attribute on the PDF page: its label (the first column, across its rows), its rows
    (cells, shaded cells) and, when cut, the line saying so."""

    label: str
    rows: list[tuple[tuple[str, ...], list[bool]]] = field(default_factory=list)
    cut: str = ""


def _range(ab, method: str, metric: str, groups: list[int]) -> str:
    values = [c[0] for g in groups if (c := ab.cell("vs_retrain", method, metric, g)) is not None]
    return f"{min(values):+.3f} to {max(values):+.3f}" if values else "—"


def pdf_block(result, name: str, listed: int | None, metric: str = METRIC, intervals: bool = True) -> Block:
    """Attribute ``name``'s rows: every group when ``listed`` is None or it has at most ``MANY``;
    else the groups the sentences name, the ``listed`` most changed others, one row with the
    range of the rest, then the fairness gap. Without ``intervals`` each cell is its change alone."""
    ab, methods = result.breakdown.attributes[name], _methods(result)
    sizes, named = _sizes(ab), singled_out(result, name, metric)
    shown = set(range(len(ab.groups)))
    if listed is not None and len(ab.groups) > MANY:
        shown = set().union(*named.values())
        least = result.breakdown.min_group
        judged = [g for g in most_changed(result, name, metric) if g not in shown and sizes[g] >= least]
        shown |= set(judged[:listed])
    block = Block(ab.label)
    for g in sorted(shown):
        changes = (_triple(ab.cell("vs_retrain", m, metric, g), intervals) for m in methods)
        cells = (ab.groups[g], f"{sizes[g]:,}", *changes)
        block.rows.append((cells, [False, False, *(g in named.get(m, ()) for m in methods)]))
    others = [g for g in range(len(ab.groups)) if g not in shown]
    if others:
        block.label += f" ({len(shown)} of {len(ab.groups)} groups listed)"
        ranges = (_range(ab, m, metric, others) for m in methods)
        block.rows.append(((f"the other {len(others)}: from … to", f"{sum(sizes[g] for g in others):,}", *ranges), []))
        rest = len(shown) - len(set().union(*named.values()))
        picked = (["those named above"] if named else []) + (
            [f"the {rest} most changed others of {least}+ users"] if rest else []
        )
        block.cut = (
            f"{ab.label}: listed are {' and '.join(picked) or 'none'}; all {len(ab.groups)} groups are in the HTML"
            f" report and in cragru-run --by {name}."
        )
    gaps = (_triple(ab.gaps.get(m, {}).get(metric), intervals) for m in methods)
    block.rows.append((("fairness gap", "", *gaps), []))
    return block


def _pdf_lines(result, metric: str) -> list[str]:
    """The sentences, short (each named group's interval is in the table, shaded); the methods
    that single out nobody on one line."""
    said, quiet = [], []
    for m in _methods(result):
        if m == "base":
            continue
        sentence = who_else_sentence(result.breakdown, m, metric, intervals=False)
        (said.append(f"{result.models[m].label}: {sentence}") if sentence else quiet.append(result.models[m].label))
    if quiet:
        said.append("No group singled out beyond the tolerance: " + "; ".join(quiet) + ".")
    return said


def _width(doc, text: str, bold: bool = False) -> float:
    doc.font(MIN_PT, bold=bold)
    return doc.get_string_width(doc.text_of(text)) + 2 * PAD + 1.0


def _widths(doc, head, blocks) -> tuple[float, ...]:
    """The attribute column as wide as its longest word, the others as their widest cell (headings
    in bold on one line) when the page allows, the room left shared out; else the method
    columns equally wide."""
    rows = [cells for b in blocks for cells, _ in b.rows]
    words = [w for b in blocks for w in b.label.split()]
    label = max(_width(doc, w, bold=True) for w in [head[0], *words])
    columns = [
        max([_width(doc, head[j + 1], bold=True)] + [_width(doc, r[j]) for r in rows]) for j in range(len(rows[0]))
    ]
    first, users, need = min(columns[0], 70.0), columns[1], columns[2:]
    spare = doc.epw - label - first - users - sum(need)
    if spare < 0:  # equal shares, but a heading's word whole (no "unlearnre" / "c" with 13 methods)
        words = [max(_width(doc, w, bold=True) for w in h.split("\u200b")) for h in head[3:]]
        room, share = doc.epw - label - first - users, 0.0
        for _ in range(2):  # the columns a word holds wider first, the others share what is left
            wide = [w for w in words if w > share]
            share = (room - sum(wide)) / max(len(words) - len(wide), 1) if share else room / max(len(words), 1)
        cols = tuple(max(w, share) for w in words)
        return (label, first, users) + (cols if sum(cols) <= room + 0.01 else (room / max(len(words), 1),) * len(words))
    return (label, first, users) + tuple(w + spare / len(need) for w in need)


def _lines(doc, width: float, text: str, bold: bool = False) -> int:
    doc.font(MIN_PT, bold=bold)
    return len(
        doc.multi_cell(width, LINE, doc.text_of(text), padding=PAD, dry_run=True, output=MethodReturnValue.LINES)
    )


def _height(doc, head, blocks, widths) -> float:
    """Millimetres the table and the lines under it take (each row as high as its tallest cell,
    as fpdf2 lays it out; an attribute's label no taller than its rows)."""
    total = max(_lines(doc, w, c, bold=True) for w, c in zip(widths, head)) * LINE + 2 * PAD
    for block in blocks:
        rows = sum(
            max(_lines(doc, w, c) for w, c in zip(widths[1:], cells)) * LINE + 2 * PAD for cells, _ in block.rows
        )
        total += max(rows, _lines(doc, widths[0], block.label, bold=True) * LINE + 2 * PAD)
    notes = [b.cut for b in blocks if b.cut]
    return total + (1.5 if notes else 0.0) + sum(_lines(doc, doc.epw, n) * LINE + 0.8 for n in notes)


def _table(doc, head, blocks, widths) -> None:
    doc.font(MIN_PT)
    doc.set_fill_color(255, 255, 255)
    doc.set_draw_color(*RULE)
    doc.set_line_width(0.2)
    bold, shade = FontFace(emphasis="BOLD"), FontFace(fill_color=SHADE, emphasis="BOLD")
    with doc.table(
        col_widths=widths,
        text_align="LEFT",
        v_align="TOP",
        line_height=LINE,
        headings_style=FontFace(emphasis="BOLD", fill_color=SHADE),
        padding=PAD,
    ) as table:
        row = table.row()
        for value in head:
            row.cell(doc.text_of(value))
        for block in blocks:
            for i, (cells, marks) in enumerate(block.rows):
                row = table.row()
                if i == 0:
                    row.cell(doc.text_of(block.label), rowspan=len(block.rows), style=bold)
                for j, value in enumerate(cells):
                    row.cell(doc.text_of(value), style=shade if marks and marks[j] else None)
    doc.ln(1.5)


def _head(doc, result) -> tuple[str, ...]:
    """The table's headings: each method's label, or its key (as in the evidence table) where a
    word of a label would not fit a column of its share of the page (no "retrieval-au" / "gmented")."""
    methods = _methods(result)
    labels = [result.models[m].label for m in methods]
    share = (doc.epw - 60) / max(len(methods), 1)
    if all(_width(doc, word, bold=True) <= share for label in labels for word in label.split()):
        return ("attribute", "group", "users", *labels)
    return ("attribute", "group", "users", *(m.replace("_", "_\u200b") for m in methods))


def _layouts():
    """Every group with intervals; then the long attributes cut (fewer and fewer listed); then the
    same without intervals: the first that fits the page is printed."""
    for intervals in (True, False):
        yield intervals, None
        for listed in range(MOST_LISTED, -1, -1):
            yield intervals, listed


def breakdown_pdf_page(doc, result, metric: str = METRIC) -> None:
    """The report's PDF page (landscape), nothing for a run without a breakdown. ``doc`` is the
    report's document (``add_page``, ``heading``, ``para``, ``table``, ``epw``). Every group is
    listed when the page holds them; else each attribute of more than ``MANY`` groups keeps the
    groups the sentences name and as many of the most changed (up to ``MOST_LISTED``) as fit;
    where even that overflows (ten methods side by side), each cell is its change alone and a line
    says where the intervals are."""
    if getattr(result, "breakdown", None) is None:
        return
    bd = result.breakdown
    doc.add_page(orientation="L")
    doc.heading("Who was affected, by user attribute")
    intro = INTRO.format(m=metric_short(metric), n=bd.min_group) + " Shaded: a group named below."
    lines = _pdf_lines(result, metric)
    head = _head(doc, result)
    bare = (
        f"Intervals left out to fit the page: each cell is its change alone; every cell with its 95 % interval is "
        f"in the HTML report and in cragru-run --by {','.join(bd.attributes)}."
    )
    texts = sum(_lines(doc, doc.epw, t) * LINE + 0.8 for t in [intro, *lines, *bd.notes])
    texts += 1.5 if bd.notes else 0.0
    for intervals, listed in _layouts():
        blocks = [pdf_block(result, name, listed, metric, intervals) for name in bd.attributes]
        widths = _widths(doc, head, blocks)
        extra = 0.0 if intervals else (_lines(doc, doc.epw, f"{intro} {bare}") - _lines(doc, doc.epw, intro)) * LINE
        if _height(doc, head, blocks, widths) + texts + extra <= doc.room():
            break
    doc.para(intro if intervals else f"{intro.replace(IN_BRACKETS, '')} {bare}", size=MIN_PT)
    for line in lines:
        doc.para(line, size=MIN_PT)
    _table(doc, head, blocks, widths)
    for line in [b.cut for b in blocks if b.cut] + bd.notes:
        doc.para(line, size=MIN_PT)
