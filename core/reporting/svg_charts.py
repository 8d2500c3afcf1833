"""The print charts (:mod:`core.reporting.print_charts`) as inline SVG for the HTML report:
the same data, the same marker shapes, fills and dashed references, so the HTML report shows
the charts the PDF does, readable in grey-scale and at any zoom."""

from __future__ import annotations

import html

from core.reporting.numbers import format_seconds, is_finite
from core.reporting.print_charts import MARKERS, CostChart, DotChart, Point, axis_ticks, chart_specs

WIDTH, LABEL, RIGHT = 760, 150, 30
FILLS = ("#000", "#fff", "#969696", "#fff")


def _e(value) -> str:
    return html.escape(str(value))


def _marker(kind: str, x: float, y: float, fill: str, r: float = 5.0) -> str:
    style = f"fill='{fill}' stroke='#000' stroke-width='1.2'"
    if kind == "circle":
        return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{r}' {style}/>"
    if kind == "square":
        return f"<rect x='{x - r:.1f}' y='{y - r:.1f}' width='{2 * r}' height='{2 * r}' {style}/>"
    if kind == "triangle":
        points = [(x, y - r * 1.2), (x + r * 1.2, y + r), (x - r * 1.2, y + r)]
    else:
        points = [(x, y - r * 1.3), (x + r * 1.3, y), (x, y + r * 1.3), (x - r * 1.3, y)]
    return f"<polygon points='{' '.join(f'{a:.1f},{b:.1f}' for a, b in points)}' {style}/>"


def _axis(lo: float, hi: float, top: float, bottom: float, label: str, fmt) -> tuple[list[str], object]:
    width = WIDTH - LABEL - RIGHT

    def to_x(v: float) -> float:
        return LABEL + (v - lo) / (hi - lo) * width

    parts = []
    for tick in axis_ticks(lo, hi):
        x = to_x(tick)
        parts.append(f"<line x1='{x:.1f}' y1='{top}' x2='{x:.1f}' y2='{bottom}' stroke='#c8c8c8'/>")
        parts.append(f"<text x='{x:.1f}' y='{bottom + 16}' text-anchor='middle'>{_e(fmt(tick))}</text>")
    parts.append(f"<line x1='{LABEL}' y1='{bottom}' x2='{LABEL + width}' y2='{bottom}' stroke='#000'/>")
    parts.append(f"<text x='{LABEL + width / 2}' y='{bottom + 34}' text-anchor='middle'>{_e(label)}</text>")
    return parts, to_x


def _svg(height: float, parts: list[str], title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {height:.0f}' width='{WIDTH}' "
        f"role='img' aria-label='{_e(title)}' font-family='sans-serif' font-size='13'>{''.join(parts)}</svg>"
    )


def dot_svg(spec: DotChart) -> str:
    values = [p for _, found in spec.rows for p in found.values()]
    ends = [v for p in values for v in (p.value, p.low, p.high) if is_finite(v)] + [r.value for r in spec.refs]
    if not ends:
        return ""
    lo, hi = min(0.0, min(ends)), max(ends) * 1.08 or 1.0
    row_h = max(30.0, 13.0 * len(spec.series) + 6)
    legend = 24 if len(spec.series) > 1 else 0
    top = legend + 17 * max(len(spec.refs), 1) + 4
    bottom = top + row_h * len(spec.rows)
    parts, to_x = _axis(lo, hi, top, bottom, spec.axis_label, lambda v: f"{v:g}")
    x = LABEL
    for s, name in enumerate(spec.series if legend else ()):
        parts.append(_marker(MARKERS[s % 4], x + 6, 12, FILLS[s % 4]))
        parts.append(f"<text x='{x + 16}' y='16'>{_e(name)}</text>")
        x += 40 + 7.5 * len(name)
    for i, ref in enumerate(spec.refs):
        rx = to_x(ref.value)
        parts.append(
            f"<line x1='{rx:.1f}' y1='{top}' x2='{rx:.1f}' y2='{bottom}' stroke='#000' stroke-dasharray='5,4'/>"
        )
        parts.append(f"<text x='{rx:.1f}' y='{top - 6 - 17 * i}' text-anchor='middle'>{_e(ref.label)}</text>")
    offsets = [(i - (len(spec.series) - 1) / 2) * 13 for i in range(len(spec.series))]
    for r, (name, found) in enumerate(spec.rows):
        y = top + (r + 0.5) * row_h
        if r:
            parts.append(
                f"<line x1='20' y1='{y - row_h / 2}' x2='{WIDTH - RIGHT}' y2='{y - row_h / 2}' stroke='#c8c8c8'/>"
            )
        parts.append(f"<text x='{LABEL - 8}' y='{y + 4}' text-anchor='end'>{_e(name)}</text>")
        for s, key in enumerate(spec.series):
            parts += _point(found.get(key), to_x, y + offsets[s], MARKERS[s % 4], FILLS[s % 4])
    return _svg(bottom + 44, parts, spec.title)


def _point(point: Point | None, to_x, y: float, kind: str, fill: str) -> list[str]:
    if point is None or not is_finite(point.value):
        return []
    parts = []
    if is_finite(point.low) and is_finite(point.high):
        a, b = to_x(point.low), to_x(point.high)
        parts.append(f"<line x1='{a:.1f}' y1='{y:.1f}' x2='{b:.1f}' y2='{y:.1f}' stroke='#000' stroke-width='1.2'/>")
        parts += [f"<line x1='{e:.1f}' y1='{y - 4:.1f}' x2='{e:.1f}' y2='{y + 4:.1f}' stroke='#000'/>" for e in (a, b)]
    return parts + [_marker(kind, to_x(point.value), y, fill)]


def cost_svg(spec: CostChart) -> str:
    if not spec.rows:
        return ""
    hi = max([s + r for _, s, r in spec.rows] + ([spec.retrain_s] if spec.retrain_s else [])) * 1.25 or 1.0
    top, row_h = 24, 30
    bottom = top + row_h * len(spec.rows)
    parts, to_x = _axis(0.0, hi, top, bottom, "seconds (wall clock)", format_seconds)
    if spec.retrain_s:
        rx = to_x(spec.retrain_s)
        parts.append(
            f"<line x1='{rx:.1f}' y1='{top}' x2='{rx:.1f}' y2='{bottom}' stroke='#000' stroke-dasharray='5,4'/>"
        )
        parts.append(
            f"<text x='{rx:.1f}' y='{top - 8}' text-anchor='middle'>"
            f"retraining {_e(format_seconds(spec.retrain_s))}</text>"
        )
    for r, (name, setup, request) in enumerate(spec.rows):
        y = top + r * row_h + 6
        parts.append(f"<text x='{LABEL - 8}' y='{y + 13}' text-anchor='end'>{_e(name)}</text>")
        for start, length, fill in ((0.0, setup, "#fff"), (setup, request, "#8c8c8c")):
            if length > 0:
                width = max(to_x(start + length) - to_x(start), 1)
                parts.append(
                    f"<rect x='{to_x(start):.1f}' y='{y}' width='{width:.1f}' height='18' fill='{fill}' stroke='#000'/>"
                )
        end = to_x(setup + request)
        if spec.retrain_s and abs(end - to_x(spec.retrain_s)) < 10:
            end = max(end, to_x(spec.retrain_s))
        parts.append(f"<text x='{end + 6:.1f}' y='{y + 13}'>{_e(format_seconds(setup + request))}</text>")
    return _svg(bottom + 44, parts, spec.title)


def charts_html(result) -> str:
    """The "Charts" section: each chart's title, caption and SVG together."""
    figures = []
    for spec in chart_specs(result):
        svg = dot_svg(spec) if isinstance(spec, DotChart) else cost_svg(spec)
        if svg:
            figures.append(
                f"<figure class='print-chart'><h3>{_e(spec.title)}</h3><p>{_e(spec.caption)}</p>{svg}</figure>"
            )
    return "<h2>Charts</h2>" + "".join(figures) if figures else ""
