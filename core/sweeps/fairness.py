"""Fairness gaps across a sweep: each request size's gap per attribute, spread over seeds.

A sweep plots every figure against request size; the breakdown's fairness gap (how unequally
a method's change against retraining falls across an attribute's groups) is one more such
figure, keyed ``fairness_gap/<attribute>/ndcg@10`` and summarised over seeds like the rest.

A sweep runs each method in its own cell, beside the original model but without retraining,
so the method's cell has no change against retraining of its own. :func:`with_paired_gaps`
takes it from the paired retrain cell (same data, split, request and seed: the same retained
users in the same groups): each group's mean under the method minus its mean under retraining,
which over the same people is the paired mean difference a run with both would give.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from core.seeds import SeedSpread

GAP_METRIC = "ndcg@10"
GAP_ATTRIBUTES = ("activity", "age", "gender", "occupation")
GAP_KEYS = tuple(f"fairness_gap/{a}/{GAP_METRIC}" for a in GAP_ATTRIBUTES)
"""The gaps a sweep plots (each where its runs have that attribute)."""


def _paired_gap(mine, theirs, method: str, min_group: int) -> list[float] | None:
    """``[gap, nan, nan]`` of ``method`` in attribute ``mine`` against retraining in ``theirs``
    (None unless both split the same people the same way and measured each group whole)."""
    if mine.groups != theirs.groups or mine.codes != theirs.codes:
        return None
    own, ref = mine.sizes.get(method, []), theirs.sizes.get("retrain", [])
    changes = []
    for g in range(len(mine.groups)):
        if g >= len(own) or g >= len(ref) or own[g] != ref[g] or own[g] < min_group:
            continue  # a group measured on different people (a sampled model) is not paired
        m, r = mine.cell("value", method, GAP_METRIC, g), theirs.cell("value", "retrain", GAP_METRIC, g)
        if m is not None and r is not None:
            changes.append(m[0] - r[0])
    if len(changes) < 2:
        return None
    return [max(changes) - min(changes), math.nan, math.nan]


def with_paired_gaps(result, method: str, retrain):
    """``result`` with ``method``'s fairness gaps taken against the paired retrain cell's
    ``retrain`` result where its own run had no retraining (interval left out: the sweep's
    interval is over seeds). Unchanged when either has no breakdown or they split differently."""
    mine = getattr(result, "breakdown", None)
    theirs = getattr(retrain, "breakdown", None)
    if mine is None or theirs is None or method == "retrain" or mine.users != theirs.users:
        return result
    attributes = dict(mine.attributes)
    for name, ab in mine.attributes.items():
        if GAP_METRIC in ab.gaps.get(method, {}) or name not in theirs.attributes:
            continue
        gap = _paired_gap(ab, theirs.attributes[name], method, mine.min_group)
        if gap is not None:
            attributes[name] = replace(ab, gaps={**ab.gaps, method: {GAP_METRIC: gap}})
    return replace(result, breakdown=replace(mine, attributes=attributes))


def gap_spreads(results, model: str) -> dict[str, SeedSpread]:
    """``fairness_gap/<attribute>/ndcg@10`` -> spread over the results whose breakdown has it."""
    values: dict[str, list[float]] = {}
    for result in results:
        breakdown = getattr(result, "breakdown", None)
        if breakdown is None:
            continue
        for name, ab in breakdown.attributes.items():
            gap = ab.gaps.get(model, {}).get(GAP_METRIC)
            if gap is not None and math.isfinite(gap[0]):
                values.setdefault(f"fairness_gap/{name}/{GAP_METRIC}", []).append(float(gap[0]))
    out = {}
    for key, found in values.items():
        x = np.asarray(found)
        std = float(x.std(ddof=1)) if len(x) > 1 else float("nan")
        out[key] = SeedSpread(float(x.mean()), std, float(x.min()), float(x.max()), len(x))
    return out
