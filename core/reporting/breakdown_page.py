"""*Who was affected, by user attribute*: one page of the report (HTML section and PDF page).

Per method, the who-else sentence (a group hurt beyond the tolerance while the rest of its
attribute is not); then per attribute a table of each group's NDCG@10 change against
retraining per method, with its 95 % interval, and the fairness gap beside the original
model's. Everything comes from ``result.breakdown``; a run without one gets nothing.
"""

from __future__ import annotations

import html

from core.reporting.breakdown_text import METRIC, metric_short, who_else_sentence

INTRO = (
    "Each group's {m} under a method minus under retraining, over the same retained users (95 % user-bootstrap "
    "interval in brackets); 0 is retraining. The fairness gap is the largest minus the smallest group change: how "
    "unequally the change falls across the attribute's groups (groups under {n} users left out); read it against the "
    "original model's gap."
)


def _methods(result) -> list[str]:
    return [m for m in result.models if m != "retrain"]


def _triple(triple) -> str:
    if triple is None or any(v != v for v in triple):
        return "—"
    value, low, high = triple
    return f"{value:+.3f} [{low:+.3f}, {high:+.3f}]"


def attribute_rows(result, name: str, metric: str = METRIC) -> list[tuple[str, ...]]:
    """Header, one row per group, then the fairness gap: the table of one attribute."""
    ab = result.breakdown.attributes[name]
    methods = _methods(result)
    sizes = ab.sizes.get("retrain") or next(iter(ab.sizes.values()), [])
    rows = [("group", "users", *(result.models[m].label for m in methods))]
    for g, group in enumerate(ab.groups):
        n = sizes[g] if g < len(sizes) else 0
        rows.append((group, f"{n:,}", *(_triple(ab.cell("vs_retrain", m, metric, g)) for m in methods)))
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


def breakdown_pdf_page(doc, result, metric: str = METRIC) -> None:
    """The report's PDF page (landscape), nothing for a run without a breakdown. ``doc`` is the
    report's document (``add_page``, ``heading``, ``para``, ``grid``, ``epw``)."""
    if getattr(result, "breakdown", None) is None:
        return
    bd = result.breakdown
    doc.add_page(orientation="L")
    doc.heading("Who was affected, by user attribute")
    doc.para(INTRO.format(m=metric_short(metric), n=bd.min_group), size=8.5)
    for line in sentences(result, metric):
        doc.para(line, size=8.5)
    n = len(_methods(result))
    first, users = 58, 14
    widths = (first, users) + ((doc.epw - first - users) / max(n, 1),) * n
    for name, ab in bd.attributes.items():
        rows = attribute_rows(result, name, metric)
        doc.para(ab.label, size=9.5, bold=True)
        doc.grid(rows, widths=widths, size=7.5)
