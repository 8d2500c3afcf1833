"""User-bootstrap means of many columns at once, over the very same resamples.

:func:`core.evaluation.bootstrap.bootstrap_mean` resamples one figure; a breakdown needs
hundreds (every metric, its difference against retraining and against the original, for
every model) on the same users. Drawing the resamples once and taking every column's mean
as one product ``counts[n_boot, n] @ values[n, c] / n`` gives each column exactly the
interval ``bootstrap_mean(column, seed=seed)`` gives (same generator, same draws, same
percentiles), and keeps the differences paired. The replicates are returned too: a
fairness gap is a function of several groups' replicates.
"""

from __future__ import annotations

import numpy as np

from core.cancel import cancel_point
from core.evaluation.bootstrap import LEVEL, N_BOOT

_DRAW_CELLS = 1 << 22  # resamples × users drawn at once, as core.evaluation.bootstrap draws them


def resample_counts(n: int, n_boot: int, seed) -> np.ndarray:
    """``[n_boot, n]``: how often each of ``n`` users is drawn in each resample (the draws of
    ``bootstrap_mean(x, seed=seed)`` for any ``x`` of length ``n``)."""
    rng = np.random.default_rng(seed)
    counts = np.empty((n_boot, n), dtype=np.float64)
    chunk = max(1, _DRAW_CELLS // max(1, n))
    for start in range(0, n_boot, chunk):
        cancel_point()
        rows = min(chunk, n_boot - start)
        draw = rng.integers(0, n, size=(rows, n))
        flat = (draw + np.arange(rows)[:, None] * n).ravel()
        counts[start : start + rows] = np.bincount(flat, minlength=rows * n).reshape(rows, n)
    return counts


def replicate_means(x: np.ndarray, counts: np.ndarray | None, n_boot: int = N_BOOT):
    """``(mean[c], replicates[n_boot, c])``: each column's mean and its mean on every resample
    (``counts`` from :func:`resample_counts`; NaN for no users)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0 or counts is None:
        return np.full(x.shape[1], np.nan), np.full((n_boot, x.shape[1]), np.nan)
    return x.mean(axis=0), counts @ x / len(x)


def bootstrap_columns(
    values: np.ndarray, *, seed, n_boot: int = N_BOOT, level: float = LEVEL, counts: np.ndarray | None = None
):
    """``(mean[c], low[c], high[c], replicates[n_boot, c])`` of each column of ``values``
    (``[n_users, c]``, no NaN) under one seeded user bootstrap; NaN for no users.
    ``counts`` (from :func:`resample_counts` with the same seed) reuses drawn resamples."""
    x = np.asarray(values, dtype=np.float64)
    n, c = x.shape
    if n == 0:
        nan = np.full(c, np.nan)
        return nan, nan.copy(), nan.copy(), np.full((n_boot, c), np.nan)
    if counts is None:
        counts = resample_counts(n, n_boot, seed)
    reps = replicate_means(x, counts, n_boot)[1]
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(reps, [alpha, 1.0 - alpha], axis=0)
    return x.mean(axis=0), low, high, reps


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of one figure's replicates (NaN replicates dropped)."""
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[~np.isnan(reps)]
    if len(reps) == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(reps, [alpha, 1.0 - alpha])
    return float(low), float(high)
