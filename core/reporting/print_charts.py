"""The report's charts, drawn for print: vector lines and shapes at page width (fpdf2's
drawing primitives, not grabs of the window), black ink on white, series told apart by marker
shape and fill rather than colour (readable in grey-scale), every label on its own row.

Each chart is a title, a caption and the plot, kept together on one page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.reporting.catalogue import entry_for, group_label
from core.reporting.numbers import format_seconds, is_finite
from core.reporting.pdf_doc import BLACK, BODY_PT, MIN_PT, ReportDoc

LABEL_W = 48.0
ROW_H = 6.5
DENSE_FROM = 12
"""Rows from which a chart's rows are DENSE_ROW_H high and its series DENSE_GAP apart, so two charts
of twelve methods and base (the every-method run with its two controls) share a page with their captions."""
DENSE_ROW_H = 5.5
SERIES_GAP = 3.4
DENSE_GAP = 2.8
GRID = (200, 200, 200)
MARKERS = ("circle", "square", "triangle", "diamond")
FILLS = (BLACK, (255, 255, 255), (150, 150, 150), (255, 255, 255))
COST_TITLE = "Cost: set-up + unlearning against retraining"
COST_CAPTION = (
    "Wall-clock time per method: one-off set-up (white) plus this request (grey), total at the end of each bar. "
    "The dashed line is the time to retrain from scratch without the forgotten data."
)


@dataclass(frozen=True)
class Point:
    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Reference:
    value: float
    label: str


def marker(doc: ReportDoc, kind: str, x: float, y: float, fill, r: float = 1.5) -> None:
    """A filled marker with a black outline, centred on (x, y)."""
    doc.set_fill_color(*fill)
    doc.set_draw_color(*BLACK)
    doc.set_line_width(0.3)
    if kind == "circle":
        doc.ellipse(x - r, y - r, 2 * r, 2 * r, style="DF")
    elif kind == "square":
        doc.rect(x - r, y - r, 2 * r, 2 * r, style="DF")
    elif kind == "triangle":
        doc.polygon([(x, y - r * 1.2), (x + r * 1.2, y + r), (x - r * 1.2, y + r)], style="DF")
    else:
        doc.polygon([(x, y - r * 1.3), (x + r * 1.3, y), (x, y + r * 1.3), (x - r * 1.3, y)], style="DF")


def axis_ticks(low: float, high: float) -> list[float]:
    """Round tick values inside [low, high] (a tick outside would be drawn over the row labels)."""
    span = high - low if high > low else 1.0
    step = 10 ** math.floor(math.log10(span / 4))
    for factor in (1, 2, 2.5, 5, 10):
        if span / (step * factor) <= 6:
            step *= factor
            break
    first, eps = math.ceil(low / step - 1e-9) * step, span * 1e-9
    ticks = (first + i * step for i in range(int((high - first) / step) + 2))
    return [float(f"{t:.12g}") for t in ticks if low - eps <= t <= high + eps]


def _caption(doc: ReportDoc, title: str, caption: str, height: float) -> None:
    doc.set_font(doc.family, "", BODY_PT)
    lines = len(doc.multi_cell(doc.epw, BODY_PT * 0.47, doc.text_of(caption), dry_run=True, output="LINES"))
    doc.need(height + 8 + lines * BODY_PT * 0.47)
    doc.para(title, 11, bold=True)
    doc.para(caption)


def _axis(doc: ReportDoc, x0: float, width: float, top: float, bottom: float, lo: float, hi: float, fmt, label: str):
    """Grid lines, tick labels under the plot and the axis label; returns value → x."""

    def to_x(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * width

    doc.set_line_width(0.15)
    for tick in axis_ticks(lo, hi):
        x = to_x(tick)
        doc.set_draw_color(*GRID)
        doc.line(x, top, x, bottom)
        doc.font(MIN_PT)
        doc.set_xy(x - 12, bottom + 0.8)
        doc.cell(24, 4, doc.text_of(fmt(tick)), align="C")
    doc.set_draw_color(*BLACK)
    doc.set_line_width(0.3)
    doc.line(x0, bottom, x0 + width, bottom)
    doc.set_xy(x0, bottom + 5)
    doc.cell(width, 4.5, doc.text_of(label), align="C")
    return to_x


def _references(doc: ReportDoc, refs: list[Reference], to_x, top: float, bottom: float) -> None:
    doc.set_draw_color(*BLACK)
    doc.set_line_width(0.35)
    for i, ref in enumerate(refs):
        x = to_x(ref.value)
        with doc.local_context(dash_pattern={"dash": 1.2, "gap": 1.0}):
            doc.line(x, top, x, bottom)
        doc.font(MIN_PT)
        width = doc.get_string_width(doc.text_of(ref.label)) + 1
        doc.set_xy(min(max(x - width / 2, doc.l_margin + LABEL_W), doc.w - doc.r_margin - width), top - 4.5 - 4.2 * i)
        doc.cell(width, 4, doc.text_of(ref.label), align="C")


def dot_chart(
    doc: ReportDoc,
    title: str,
    caption: str,
    rows: list[tuple[str, dict[str, Point]]],
    series: list[str],
    refs: list[Reference],
    axis_label: str,
    fmt=lambda v: f"{v:g}",
) -> None:
    """One row per model; per series a marker at the value and a whisker over its 95 % interval."""
    values = [p for _, found in rows for p in found.values()]
    if not values:
        return
    ends = [v for p in values for v in (p.value, p.low, p.high) if is_finite(v)] + [r.value for r in refs]
    lo, hi = min(0.0, min(ends)), max(ends) * 1.08 or 1.0
    legend = 6.0 if len(series) > 1 else 0.0
    row_h, gap = _row_h(len(rows)), DENSE_GAP if len(rows) >= DENSE_FROM else SERIES_GAP
    row_h = max(row_h, gap * len(series) + 1.0)  # each series on its own line inside the row: no overlap
    height = legend + 4.5 * max(len(refs), 1) + len(rows) * row_h + 12
    _caption(doc, title, caption, height)
    x0, width = doc.l_margin + LABEL_W, doc.epw - LABEL_W - 4
    if legend:
        _legend(doc, series, doc.get_y() + 2)
    top = doc.get_y() + legend + 4.5 * max(len(refs), 1) + 1
    bottom = top + len(rows) * row_h
    to_x = _axis(doc, x0, width, top, bottom, lo, hi, fmt, axis_label)
    _references(doc, refs, to_x, top, bottom)
    offsets = [(i - (len(series) - 1) / 2) * gap for i in range(len(series))]
    for r, (name, found) in enumerate(rows):
        y = top + (r + 0.5) * row_h
        if r:
            doc.set_draw_color(*GRID)
            doc.set_line_width(0.15)
            doc.line(doc.l_margin + 8, y - row_h / 2, x0 + width, y - row_h / 2)  # rows kept apart
            doc.set_draw_color(*BLACK)
        doc.font(BODY_PT)
        doc.set_xy(doc.l_margin, y - 2.5)
        doc.cell(LABEL_W - 2, 5, doc.text_of(name), align="R")
        for s, key in enumerate(series):
            point = found.get(key)
            if point is None or not is_finite(point.value):
                continue
            yy = y + offsets[s]
            if is_finite(point.low) and is_finite(point.high):
                doc.set_line_width(0.3)
                doc.line(to_x(point.low), yy, to_x(point.high), yy)
                for end in (point.low, point.high):
                    doc.line(to_x(end), yy - 0.9, to_x(end), yy + 0.9)
            marker(doc, MARKERS[s % 4], to_x(point.value), yy, FILLS[s % 4])
    doc.set_y(bottom + 9.5)


def _row_h(rows: int) -> float:
    return ROW_H if rows < DENSE_FROM else DENSE_ROW_H


def _legend(doc: ReportDoc, series: list[str], y: float) -> None:
    x = doc.l_margin + LABEL_W
    for s, name in enumerate(series):
        marker(doc, MARKERS[s % 4], x + 1.5, y + 2, FILLS[s % 4])
        doc.font(BODY_PT)
        doc.set_xy(x + 4, y)
        text = doc.text_of(name)
        doc.cell(doc.get_string_width(text) + 2, 4, text)
        x += doc.get_string_width(text) + 12


def cost_chart(doc: ReportDoc, rows: list[tuple[str, float, float]], retrain_s: float | None) -> None:
    """Set-up (white bar) + this request (grey bar) per method; the total printed beside each bar,
    on the bar's own row; retraining's time as a dashed line."""
    if not rows:
        return
    row_h = _row_h(len(rows))
    bar = row_h - 1.5  # a bar in the middle of its row, above the axis
    _caption(doc, COST_TITLE, COST_CAPTION, len(rows) * row_h + 16.5)  # 6 above the bars, 9.5 under them
    hi = max([s + r for _, s, r in rows] + ([retrain_s] if retrain_s else [])) * 1.25 or 1.0
    x0, width = doc.l_margin + LABEL_W, doc.epw - LABEL_W - 4
    top = doc.get_y() + 6
    bottom = top + len(rows) * row_h
    to_x = _axis(doc, x0, width, top, bottom, 0.0, hi, lambda v: format_seconds(v), "seconds (wall clock)")
    if retrain_s:
        _references(doc, [Reference(retrain_s, f"retraining {format_seconds(retrain_s)}")], to_x, top, bottom)
    for r, (name, setup, request) in enumerate(rows):
        y = top + r * row_h + (row_h - bar) / 2
        doc.font(BODY_PT)
        doc.set_xy(doc.l_margin, y)
        doc.cell(LABEL_W - 2, bar, doc.text_of(name), align="R")
        doc.set_draw_color(*BLACK)
        doc.set_line_width(0.3)
        for start, length, fill in ((0.0, setup, (255, 255, 255)), (setup, request, (140, 140, 140))):
            if length > 0:
                doc.set_fill_color(*fill)
                doc.rect(to_x(start), y, max(to_x(start + length) - to_x(start), 0.3), bar, style="DF")
        total = doc.text_of(format_seconds(setup + request))
        width, end = doc.get_string_width(total) + 2 * doc.c_margin, to_x(setup + request)
        line = to_x(retrain_s) if retrain_s else None
        crosses = line is not None and end - 3 < line < end + 2 + width  # the label would sit on the dashed line
        doc.set_xy(max(end, line) + 2 if crosses else end + 1.5, y)
        doc.set_fill_color(255, 255, 255)  # white under the label: a grid line never runs through it
        doc.cell(width, bar, total, fill=True)
    doc.set_y(bottom + 9.5)


# -- the charts of a run ---------------------------------------------------------------------
def _point(report, key: str) -> Point | None:
    value = report.flat().get(key)
    if not is_finite(value):
        return None
    found = report.figure(key).interval
    return Point(value, *((found.low, found.high) if found else (None, None)))


def _models(result) -> list[str]:
    return [n for n in result.models if n != "base"] + (["base"] if "base" in result.models else [])


@dataclass(frozen=True)
class DotChart:
    """Rows of markers with 95 % whiskers (one row per model, one marker per series)."""

    title: str
    caption: str
    rows: list[tuple[str, dict[str, Point]]]
    series: list[str]
    refs: list[Reference]
    axis_label: str


@dataclass(frozen=True)
class CostChart:
    """Set-up + request bars per method against retraining's time."""

    rows: list[tuple[str, float, float]]
    retrain_s: float | None
    title: str = COST_TITLE
    caption: str = COST_CAPTION


def _one_key_chart(result, key: str, title: str, caption: str, extra: list[Reference]) -> DotChart:
    rows = [(name, {"v": p}) for name in _models(result) if (p := _point(result.models[name], key))]
    retrain = result.models.get("retrain")
    target = retrain.flat().get(key) if retrain is not None else None
    refs = ([Reference(target, "retrain")] if is_finite(target) else []) + extra
    return DotChart(title, caption, rows, ["v"], refs, entry_for(key).label)


def chart_specs(result) -> list[DotChart | CostChart]:
    """The run's charts as data, drawn for print here and as SVG by :mod:`core.reporting.svg_charts`."""
    specs: list[DotChart | CostChart] = [
        _one_key_chart(
            result,
            "forgotten_recall@10",
            "What the model still remembers",
            "Forgotten-item recall@10: how often the removed items still come back in the forgotten users' "
            "top-10 (dot), with its 95 % interval (whisker). The closer to retraining's value (dashed), the better.",
            [],
        )
    ]
    attack = next((k for k in ("attack/fold_in_auc", "attack/record_auc", "mia_auc") if _has(result, k)), None)
    if attack:
        specs.append(
            _one_key_chart(
                result,
                attack,
                "Can an attacker still tell?",
                f"{entry_for(attack).label}: 0.5 is a coin toss. A method has forgotten when its value is as close "
                "to 0.5 as retraining's (dashed lines).",
                [Reference(0.5, "chance")],
            )
        )
    groups = [g for g in ("retain", "forget", "similar") if _has(result, f"{g}/ndcg@10")]
    names = {g: group_label(g) for g in groups}
    rows = [
        (name, {names[g]: p for g in groups if (p := _point(result.models[name], f"{g}/ndcg@10"))})
        for name in _models(result)
    ]
    specs.append(
        DotChart(
            "Ranking quality by user group",
            "NDCG@10 per group of users (marker shape) with 95 % intervals: retained users should keep the "
            "quality retraining gives them; forgotten users' quality should fall to retraining's.",
            rows,
            list(names.values()),
            [],
            "NDCG@10",
        )
    )
    retrain = result.models.get("retrain")
    cost_rows = [
        (name, float(r.prep_time_s or 0.0), float(r.time_s or 0.0))
        for name, r in result.models.items()
        if name != "base"
    ]
    specs.append(CostChart(cost_rows, float(retrain.time_s) if retrain is not None else None))
    return specs


def draw_charts(doc: ReportDoc, result) -> None:
    """The run's charts, each with its caption on one page."""
    doc.add_page()
    doc.heading("Charts")
    for spec in chart_specs(result):
        if isinstance(spec, DotChart):
            dot_chart(doc, spec.title, spec.caption, spec.rows, spec.series, spec.refs, spec.axis_label)
        else:
            cost_chart(doc, spec.rows, spec.retrain_s)


def _has(result, key: str) -> bool:
    return any(is_finite(r.flat().get(key)) for r in result.models.values())
