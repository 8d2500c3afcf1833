"""Line charts as plain SVG text: the sweep's and the stream's figures for files and docs
(``core`` draws without Qt or matplotlib; the window draws the same data with pyqtgraph)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 360, 240, 56, 12, 28, 36


@dataclass(frozen=True)
class Line:
    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    lows: tuple[float, ...] | None = None  # a band (the 95 % interval) where given
    highs: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Panel:
    title: str
    x_label: str
    lines: tuple[Line, ...]
    log_y: bool = False


def _ticks(low: float, high: float, n: int = 4) -> list[float]:
    if high <= low:
        return [low]
    return [low + (high - low) * i / n for i in range(n + 1)]


def _x_ticks(xs: list[float], low: float, high: float) -> list[float]:
    """The data's own x values when few; whole numbers when every x is one (request numbers)."""
    distinct = sorted(set(xs))
    if len(distinct) <= 8:
        return distinct
    if all(float(x).is_integer() for x in distinct):
        step = max(1, math.ceil((high - low) / 8))
        return [float(v) for v in range(int(low), int(high) + 1, step)]
    return _ticks(low, high)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _panel(panel: Panel, ox: float, oy: float, colours: dict[str, str]) -> list[str]:
    f = (lambda v: math.log10(max(v, 1e-12))) if panel.log_y else (lambda v: v)
    xs = [x for ln in panel.lines for x in ln.xs]
    ys = [f(y) for ln in panel.lines for y in (*ln.ys, *(ln.lows or ()), *(ln.highs or ())) if math.isfinite(y)]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y0, y1 = (min(ys), max(ys)) if ys else (0.0, 1.0)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def px(x: float) -> float:
        return ox + PAD_L + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return oy + PAD_T + ph - (f(y) - y0) / (y1 - y0) * ph

    out = [
        f'<text x="{ox + W / 2}" y="{oy + 16}" text-anchor="middle" font-weight="bold">{escape(panel.title)}</text>',
        f'<rect x="{ox + PAD_L}" y="{oy + PAD_T}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
        f'<text x="{ox + PAD_L + pw / 2}" y="{oy + H - 4}" text-anchor="middle">{escape(panel.x_label)}</text>',
    ]
    for t in _ticks(y0, y1):
        y = oy + PAD_T + ph - (t - y0) / (y1 - y0) * ph
        shown = 10**t if panel.log_y else t
        out.append(f'<text x="{ox + PAD_L - 4}" y="{y + 4}" text-anchor="end">{_fmt(shown)}</text>')
    for t in _x_ticks(xs, x0, x1):
        out.append(f'<text x="{px(t)}" y="{oy + PAD_T + ph + 14}" text-anchor="middle">{_fmt(t)}</text>')
    for ln in panel.lines:
        colour = colours[ln.label]
        if ln.lows is not None and ln.highs is not None:
            ring = [(px(x), py(h)) for x, h in zip(ln.xs, ln.highs)] + [
                (px(x), py(lo)) for x, lo in reversed(list(zip(ln.xs, ln.lows)))
            ]
            out.append(
                f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in ring)}" fill="{colour}" '
                'fill-opacity="0.15" stroke="none"/>'
            )
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(ln.xs, ln.ys) if math.isfinite(y))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}"/>'
            for x, y in zip(ln.xs, ln.ys)
            if math.isfinite(y)
        ]
    return out


def panels_svg(panels: list[Panel], columns: int = 3, title: str = "") -> str:
    """Panels on a grid with one legend for all of them (a line keeps its colour everywhere)."""
    labels = list(dict.fromkeys(ln.label for p in panels for ln in p.lines))
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    rows = max(1, math.ceil(len(panels) / columns))
    top = 28 if title else 4
    legend_h = 18 * len(labels) + 8
    width, height = W * min(columns, max(1, len(panels))), top + H * rows + legend_h
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>'
    ]
    if title:
        body.append(f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>')
    for i, panel in enumerate(panels):
        body += _panel(panel, W * (i % columns), top + H * (i // columns), colours)
    for i, label in enumerate(labels):
        y = top + H * rows + 14 + 18 * i
        body.append(
            f'<rect x="12" y="{y - 9}" width="14" height="4" fill="{colours[label]}"/>'
            f'<text x="32" y="{y - 4}">{escape(label)}</text>'
        )
    body.append("</svg>")
    return "\n".join(body)
