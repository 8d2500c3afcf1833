"""The breakdown: every measure, per model, per group of every user attribute, with intervals.

For each attribute group and model: the mean of each per-user figure, its paired difference
against retraining and against the original (base) model over the same people, each with a
seeded user-bootstrap 95 % interval (one resample draw per group shared by every column,
:mod:`core.breakdown.stats`). Groups are resampled independently of each other (seed
``[seed, crc32(attribute), group]``), which is what the fairness gap needs.

**Fairness gap** (in the spirit of CURE4Rec's A-IGF, which compares active and inactive
users' quality): for one attribute, metric and model, the largest minus the smallest group
mean of *method − retrain*: how unequally the change against retraining falls across the
groups (0 = every group moved alike). Its interval comes from the groups' own replicates
(gap per resample). Only groups of at least ``min_group`` users enter it; a max − min over
small noisy groups is biased upward, so the original model's gap is the reference to read it
against (it is stored beside every method's).
"""

from __future__ import annotations

import zlib

import numpy as np
from threadpoolctl import threadpool_limits

from core.breakdown.attributes import Attribute
from core.breakdown.model import AttributeBreakdown, Breakdown
from core.breakdown.stats import percentile_interval, replicate_means, resample_counts
from core.cancel import cancel_point
from core.evaluation.bootstrap import LEVEL, N_BOOT

MIN_GROUP = 20
"""Groups smaller than this are shown (with their wide intervals) but left out of the gap."""
REFERENCES = ("retrain", "base")
KEY_METRIC = "ndcg@10"
"""Who counts as measured by a model: the users with this figure (every model has it per user)."""


def _group_seed(seed: int, attribute: str, group: int) -> list[int]:
    return [int(seed), zlib.crc32(attribute.encode()), int(group)]


def _measured(values: dict[str, np.ndarray], model: str, key: int | None) -> np.ndarray:
    """Rows where the model and both references have the ``key`` figure (every figure when
    None): a sampled model's sample. Other columns a model did not measure stay NaN."""
    found = [values[model]] + [values[ref] for ref in REFERENCES if ref in values]
    rows = np.ones(len(found[0]), dtype=bool)
    for array in found:
        rows &= np.isfinite(array if key is None else array[:, key : key + 1]).all(axis=1)
    return rows


class _GroupResamples:
    """One group's resamples: drawn once per set of people (models measured on the same people
    share them, and their replicate means come from one product); a difference's replicates
    are the difference of two models' replicates on the same draws (paired, a third of the work)."""

    def __init__(self, values: dict[str, np.ndarray], seed, n_boot: int) -> None:
        self.values, self.seed, self.n_boot = values, seed, n_boot
        self.raw: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def measure(self, rows_of: dict[str, np.ndarray]) -> None:
        """Every model's ``(mean, replicates)`` over its rows; references over each model's rows."""
        by_people: dict[bytes, list[str]] = {}
        for model, rows in rows_of.items():
            by_people.setdefault(rows.tobytes(), []).append(model)
        for models in by_people.values():
            rows = rows_of[models[0]]
            wanted = list(dict.fromkeys(models + [r for r in REFERENCES if r in self.values]))
            x = np.concatenate([self.values[m][rows] for m in wanted], axis=1)
            counts = resample_counts(len(x), self.n_boot, self.seed) if len(x) else None
            mean, reps = replicate_means(x, counts, self.n_boot)
            width = self.values[models[0]].shape[1]
            for i, m in enumerate(wanted):
                part = (mean[i * width : (i + 1) * width], reps[:, i * width : (i + 1) * width])
                for model in models:
                    self.raw[(model, m)] = part

    def of(self, model: str, reference: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, replicates)`` of ``reference`` (default: the model) over ``model``'s people."""
        return self.raw[(model, reference or model)]

    def figures(self, model: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``(kinds, mean[kinds × metrics], replicates)``: the model's values, then its paired
        differences against each reference."""
        mean, reps = self.of(model)
        kinds, means, all_reps = ["value"], [mean], [reps]
        for ref in REFERENCES:
            if ref in self.values:
                ref_mean, ref_reps = self.of(model, ref)
                kinds.append(f"vs_{ref}")
                means.append(mean - ref_mean)
                all_reps.append(reps - ref_reps)
        return kinds, np.concatenate(means), np.concatenate(all_reps, axis=1)


def _group_cells(out: AttributeBreakdown, g: int, found: dict, metrics: list[str], level: float) -> None:
    """Store every model's figures of group ``g`` (one percentile pass over all their columns)."""
    if not found:
        return
    stacked = np.concatenate([reps for _, _, reps in found.values()], axis=1)
    with np.errstate(invalid="ignore"):
        lows, highs = np.quantile(stacked, [(1 - level) / 2, (1 + level) / 2], axis=0)
    n_m, n_g, start = len(metrics), len(out.groups), 0
    lows, highs = lows.tolist(), highs.tolist()  # Python floats, as float() gives them
    for model, (kinds, mean, _) in found.items():
        mean = mean.tolist()
        for k, kind in enumerate(kinds):
            per_metric = out.cells.setdefault(kind, {}).setdefault(model, {})
            for j, metric in enumerate(metrics):
                c = k * n_m + j
                if metric not in per_metric:  # each group's row is filled in turn
                    per_metric[metric] = [[np.nan] * 3 for _ in range(n_g)]
                per_metric[metric][g] = [mean[c], lows[start + c], highs[start + c]]
        start += len(mean)


def _attribute_breakdown(
    attr: Attribute,
    population: np.ndarray,
    values: dict[str, np.ndarray],
    metrics: list[str],
    seed: int,
    min_group: int,
    n_boot: int,
) -> AttributeBreakdown:
    codes = attr.codes[population]
    out = AttributeBreakdown(attr.name, attr.label, list(attr.groups), codes.tolist())
    key = metrics.index(KEY_METRIC) if KEY_METRIC in metrics else None
    measured = {model: _measured(values, model, key) for model in values}
    n_m, n_g = len(metrics), len(attr.groups)
    gap_parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {model: [] for model in values}
    for g in range(n_g):
        in_group = codes == g
        resamples = _GroupResamples(values, _group_seed(seed, attr.name, g), n_boot)
        rows_of = {model: in_group & measured[model] for model in values}
        resamples.measure(rows_of)
        found = {}
        for model, rows in rows_of.items():
            cancel_point()
            out.sizes.setdefault(model, [0] * n_g)[g] = int(rows.sum())
            kinds, mean, reps = found[model] = resamples.figures(model)
            if "vs_retrain" in kinds and rows.sum() >= min_group:
                c = kinds.index("vs_retrain") * n_m
                gap_parts[model].append((mean[c : c + n_m], reps[:, c : c + n_m]))
        _group_cells(out, g, found, metrics, LEVEL)
    sizes = np.asarray(next(iter(out.sizes.values()), [0] * n_g))
    out.gap_groups = [g for g in range(n_g) if sizes[g] >= min_group]
    for model, parts in gap_parts.items():
        if model == "retrain" or len(parts) < 2:
            continue
        means = np.stack([p[0] for p in parts])  # [groups, metrics]
        reps = np.stack([p[1] for p in parts])  # [groups, n_boot, metrics]
        gap = means.max(axis=0) - means.min(axis=0)
        gap_reps = reps.max(axis=0) - reps.min(axis=0)
        out.gaps[model] = {
            metric: [float(gap[j]), *percentile_interval(gap_reps[:, j])] for j, metric in enumerate(metrics)
        }
    return out


def compute_breakdown(
    attributes: list[Attribute],
    population: np.ndarray,
    values: dict[str, np.ndarray],
    metrics: list[str],
    seed: int,
    *,
    population_label: str = "retained users",
    min_group: int = MIN_GROUP,
    n_boot: int = N_BOOT,
    notes: list[str] | None = None,
) -> Breakdown:
    """The breakdown of ``values`` (model -> ``[len(population), len(metrics)]`` per-user
    figures, a NaN row where the model did not measure that user) by every attribute."""
    population = np.asarray(population, dtype=np.int64)
    for model, array in values.items():
        if array.shape != (len(population), len(metrics)):
            raise ValueError(f"{model}: values must be [{len(population)}, {len(metrics)}], got {array.shape}")
    out = Breakdown(population_label, population.tolist(), list(metrics), int(seed), int(min_group))
    out.notes = list(notes or [])
    # one BLAS thread: the resample products are small (1000 × a group's users × a few hundred
    # columns) and OpenBLAS's idle workers spin; beside torch on a busy 2-core machine that cost
    # ~4× the CPU time of one thread; the products are the same (each entry one thread's sum)
    with threadpool_limits(1, user_api="blas"):
        for attr in attributes:
            out.attributes[attr.name] = _attribute_breakdown(attr, population, values, metrics, seed, min_group, n_boot)
    return out
