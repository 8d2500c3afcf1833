"""A sweep's results as series against request size: mean and 95 % interval over seeds.

One series per (method variant, base model, request kind) and figure; its points are
the request sizes. The spread over seeds is :func:`core.seeds.summarise`'s; the
interval is Student's t on it. Speed-up against retraining is paired per seed with
the retrain cell of the same base model, seed and request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scipy import stats

from core.result import RunResult
from core.seeds import SeedSpread, summarise
from core.sweeps.cells import CellOutcome
from core.sweeps.fairness import GAP_KEYS, gap_spreads, with_paired_gaps
from core.sweeps.grid import Cell

PLOTTED_KEYS = (
    "forgotten_recall@10",
    "attack/fold_in_auc",
    "attack/record_auc",
    "retain/ndcg@10",
    "forget/ndcg@10",
    "similar/ndcg@10",
    "time_s",
    "speedup_vs_retrain",
    *GAP_KEYS,
)
"""Each forgetting measure, each group's utility, unlearning cost and speed-up, and the fairness gap per
user attribute (core/sweeps/fairness.py)."""


@dataclass(frozen=True)
class Point:
    size: float
    mean: float
    low: float  # 95 % interval over seeds (the mean itself for one seed)
    high: float
    n: int


@dataclass(frozen=True)
class Series:
    variant: str
    model: str
    request: str
    key: str
    points: tuple[Point, ...]

    @property
    def label(self) -> str:
        return f"{self.variant} · {self.model} · {self.request}"

    def as_dict(self) -> dict:
        return {
            "variant": self.variant,
            "model": self.model,
            "request": self.request,
            "key": self.key,
            "points": [p.__dict__ for p in self.points],
        }


def interval(spread: SeedSpread) -> tuple[float, float]:
    """95 % Student-t interval of the mean over seeds (collapsed to the mean for one seed)."""
    if spread.n < 2 or not math.isfinite(spread.std):
        return spread.mean, spread.mean
    half = float(stats.t.ppf(0.975, spread.n - 1)) * spread.std / math.sqrt(spread.n)
    return spread.mean - half, spread.mean + half


def _with_speedup(cell: Cell, result: RunResult, retrain: RunResult | None) -> RunResult:
    """The cell's result with its method's speed-up against the paired retrain cell."""
    report = result.models[cell.method]
    if report.speedup_vs_retrain is not None or retrain is None or report.time_s <= 0:
        return result
    speedup = retrain.models["retrain"].time_s / report.time_s
    return replace(result, models={**result.models, cell.method: replace(report, speedup_vs_retrain=speedup)})


def sweep_series(
    cells: list[Cell] | tuple[Cell, ...],
    outcomes: list[CellOutcome] | tuple[CellOutcome, ...],
    keys: tuple[str, ...] | None = None,
) -> list[Series]:
    """Series of every finished cell (failed and cancelled cells are left out)."""
    results = {o.cell_id: o.result for o in outcomes if o.result is not None}
    retrains = {
        (c.model, c.seed, c.request, c.size): results.get(c.cell_id)
        for c in cells
        if c.method == "retrain" and c.variant == "retrain"
    }
    grouped: dict[tuple, dict[float, list[RunResult]]] = {}
    for cell in cells:
        if cell.cell_id in results:
            paired = retrains.get((cell.model, cell.seed, cell.request, cell.size))
            grouped.setdefault(cell.series, {}).setdefault(cell.size, []).append(
                with_paired_gaps(_with_speedup(cell, results[cell.cell_id], paired), cell.method, paired)
            )
    method_of = {c.series: c.method for c in cells}
    out = []
    for series, by_size in grouped.items():
        method = method_of[series]
        summaries = {
            size: {**summarise(rs).get(method, {}), **gap_spreads(rs, method)} for size, rs in sorted(by_size.items())
        }
        wanted = keys or sorted({k for s in summaries.values() for k in s})
        for key in wanted:
            points = tuple(
                Point(size, s[key].mean, *interval(s[key]), s[key].n) for size, s in summaries.items() if key in s
            )
            if points:
                out.append(Series(*series, key, points))
    return out
