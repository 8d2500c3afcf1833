"""Fairness gaps across a sweep: each request size's gap per attribute, spread over seeds.

A sweep plots every figure against request size; the breakdown's fairness gap (how unequally
a method's change against retraining falls across an attribute's groups) is one more such
figure, keyed ``fairness_gap/<attribute>/ndcg@10`` and summarised over seeds like the rest.
"""

from __future__ import annotations

import math

import numpy as np

from core.seeds import SeedSpread

GAP_METRIC = "ndcg@10"
GAP_ATTRIBUTES = ("activity", "age", "gender", "occupation")
GAP_KEYS = tuple(f"fairness_gap/{a}/{GAP_METRIC}" for a in GAP_ATTRIBUTES)
"""The gaps a sweep plots (each where its runs have that attribute)."""


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
