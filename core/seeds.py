"""The same experiment over several split seeds: mean and spread of every figure.

One seed's intervals say how much the figures move with *which users* were evaluated;
several seeds add how much they move with the split, the request's random draw and
the training's random stream. Each seed is an ordinary experiment (its own result in
the run history); the summary is computed from their results only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np

from core.config import ExperimentConfig
from core.errors import Cancelled, CragruError
from core.events import SeedStarted
from core.params import ParamSpec
from core.reporting.catalogue import entry_for, summary_keys
from core.reporting.numbers import text_table
from core.result import RunResult

MAX_SEEDS = 100
SEEDS_PARAM = ParamSpec(
    "seeds",
    int,
    1,
    "Repeat the whole experiment over this many split seeds (seed, seed + 1, …), one after "
    "another, and report each figure's mean and spread; every seed is stored in the history as its own run",
    low=1,
    high=MAX_SEEDS,
    label="Seeds",
)
"""The run setting the window's spin box and ``cragru-run --seeds`` are built from."""


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


def run_seeds(
    configs: list[ExperimentConfig],
    run_one: Callable[[ExperimentConfig], RunResult],
    on_event: Callable[[object], None] | None = None,
) -> list[RunResult]:
    """Run ``configs`` one after another (``run_one`` is the caller's ``run_experiment``
    with its sinks bound); a :class:`SeedStarted` event goes to ``on_event`` before each.
    A later seed's failure is :class:`SeedFailed`, carrying the seeds that finished."""
    results = []
    for index, config in enumerate(configs, start=1):
        if on_event is not None:
            on_event(SeedStarted(index, len(configs), config.split.seed))
        try:
            results.append(run_one(config))
        except Exception as exc:  # noqa: BLE001 - an internal error must not lose the seeds either
            if not results or isinstance(exc, Cancelled):
                raise
            raise SeedFailed(config.split.seed, exc, results) from exc
    return results


class SeedFailed(CragruError):
    """Seed ``seed`` failed after others had finished: those travel with the error, so the
    caller shows and writes them instead of losing them."""

    def __init__(self, seed: int, cause: Exception, finished: list[RunResult]) -> None:
        said = cause if isinstance(cause, CragruError) else f"internal error: {type(cause).__name__}: {cause}"
        super().__init__(f"seed {seed} failed: {said}")
        self.seed = seed
        self.finished = finished


def summary_dict(summary: dict[str, dict[str, SeedSpread]]) -> dict[str, dict[str, dict]]:
    """The summary as plain JSON (NaN standard deviations of a single seed become None)."""
    return {
        name: {
            key: {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(spread).items()}
            for key, spread in keys.items()
        }
        for name, keys in summary.items()
    }


def spread_text(key: str, spread: SeedSpread | None) -> str:
    """``0.2140 ± 0.0100`` in the figure's own format (the mean alone for one seed)."""
    entry = entry_for(key)
    if spread is None:
        return entry.format(None)
    if not math.isfinite(spread.std):
        return entry.format(spread.mean)
    return f"{entry.format(spread.mean)} ± {entry.format(spread.std).lstrip('+')}"


def spread_table(summary: dict[str, dict[str, SeedSpread]]) -> str:
    """Mean ± std per model over the seeds, one line each, with the catalogue's summary columns."""
    means = [{key: spread.mean for key, spread in keys.items()} for keys in summary.values()]
    keys = summary_keys(means)
    header = ["model"] + [entry_for(k).short for k in keys]
    rows = [[name] + [spread_text(k, spreads.get(k)) for k in keys] for name, spreads in summary.items()]
    return text_table(header, rows)
