"""The same experiment over several split seeds: mean and spread of every figure.

One seed's intervals say how much the figures move with *which users* were evaluated;
several seeds add how much they move with the split, the request's random draw and
the training's random stream. Each seed is an ordinary experiment (its own result in
the run history); the summary is computed from their results only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from core.config import ExperimentConfig
from core.result import RunResult

MAX_SEEDS = 100


@dataclass(frozen=True)
class SeedSpread:
    """One figure of one model over seeds."""

    mean: float
    std: float  # sample standard deviation (NaN for one seed)
    low: float
    high: float
    n: int


def seed_configs(config: ExperimentConfig, n_seeds: int) -> list[ExperimentConfig]:
    """``n_seeds`` copies of ``config`` with split seeds ``seed, seed + 1, ...`` (the
    request and the models are seeded from the split seed, so everything moves)."""
    if not 1 <= n_seeds <= MAX_SEEDS:
        from core.errors import ConfigError

        raise ConfigError(f"seeds must be in [1, {MAX_SEEDS}], got {n_seeds}")
    base = config.split.seed
    return [replace(config, split=replace(config.split, seed=base + i)) for i in range(n_seeds)]


def summarise(results: list[RunResult]) -> dict[str, dict[str, SeedSpread]]:
    """model -> ``flat()`` key -> spread over the results that have that figure."""
    values: dict[str, dict[str, list[float]]] = {}
    for result in results:
        for name, report in result.models.items():
            for key, value in report.flat().items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    values.setdefault(name, {}).setdefault(key, []).append(float(value))
    return {name: {key: _spread(v) for key, v in keys.items()} for name, keys in values.items()}


def _spread(values: list[float]) -> SeedSpread:
    x = np.asarray(values, dtype=float)
    std = float(x.std(ddof=1)) if len(x) > 1 else float("nan")
    return SeedSpread(float(x.mean()), std, float(x.min()), float(x.max()), len(x))
