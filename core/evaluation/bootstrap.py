"""Seeded user-bootstrap 95 % intervals, and the one verdict rule every view uses.

Users are the unit of resampling (PROTOCOL.md, "Uncertainty"): a figure averaged over
42 forgotten users is as uncertain as 42 draws, however many rows they hold. Every
function draws all resamples at once (one ``[n_boot, n]`` index array) from
``numpy.random.default_rng(seed)``; the same seed and inputs give the same interval,
and two figures bootstrapped with the same seed over the same users share their draws
(which is what makes paired differences of AUCs valid).

Intervals are percentile intervals (Efron & Tibshirani, 1993, ch. 13): simple, and
honest enough at the sizes we report; they are not bias-corrected.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass

import numpy as np

from core.cancel import cancel_point

N_BOOT = 1000
LEVEL = 0.95
_CELLS_PER_CHUNK = 20_000_000  # bootstrap replicates × groups held in memory at once
_DRAW_CELLS = 1 << 22  # resamples × users drawn at once (32 MB per int64 block)

EQUIVALENT = "equivalent"
DIFFERENT = "different"
UNDECIDED = "not enough users to tell"
VERDICTS = (EQUIVALENT, DIFFERENT, UNDECIDED)


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap interval, over ``n`` users (NaN when n = 0)."""

    value: float
    low: float
    high: float
    n: int

    @property
    def width(self) -> float:
        return self.high - self.low

    def contains(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)

    def excludes(self, x: float) -> bool:
        """True when ``x`` lies outside the interval (a NaN interval excludes nothing)."""
        return bool(x < self.low or x > self.high)

    def as_dict(self) -> dict:
        return asdict(self)


def verdict(difference: Interval, tolerance: float) -> str:
    """Three-way decision on a difference interval (method − reference) and a tolerance.

    * ``equivalent``: the whole interval lies inside ``[-tol, +tol]`` (an equivalence
      test in the spirit of TOST: the difference is small with 95 % confidence);
    * ``different``: the whole interval lies outside the band, i.e. ``low > tol`` or
      ``high < -tol`` (the difference exceeds the tolerance with 95 % confidence); with
      ``tol = 0`` this is "the interval excludes 0";
    * ``not enough users to tell``: anything else — the interval straddles an edge of
      the band. An interval wider than ``2·tol`` can never be called equivalent; more
      users (a narrower interval) are needed to decide.
    A NaN interval (no users) is also undecided.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be non-negative, got {tolerance}")
    low, high = difference.low, difference.high
    if np.isnan(low) or np.isnan(high):
        return UNDECIDED
    if -tolerance <= low and high <= tolerance:
        return EQUIVALENT
    if low > tolerance or high < -tolerance:
        return DIFFERENT
    return UNDECIDED


def _percentiles(replicates: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(replicates, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _empty() -> Interval:
    return Interval(float("nan"), float("nan"), float("nan"), 0)


def bootstrap_mean(values, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """Mean of per-user ``values`` (NaNs dropped) with its user-bootstrap interval."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return _empty()
    draws = _remembered_draws(seed, len(x), n_boot)
    if draws is not None:
        cancel_point()  # remembered draws skip the chunk loop's checks: one here, so Cancel still stops it
        means = x[draws].mean(axis=1)
    else:
        rng = np.random.default_rng(seed)
        means = np.empty(n_boot)
        chunk = max(1, _DRAW_CELLS // len(x))
        for start in range(0, n_boot, chunk):  # same draws as one (n_boot, n) block, bounded memory
            cancel_point()
            rows = min(chunk, n_boot - start)
            means[start : start + rows] = x[rng.integers(0, len(x), size=(rows, len(x)))].mean(axis=1)
    low, high = _percentiles(means, level)
    return Interval(float(x.mean()), low, high, len(x))


_MEMO_CELLS = 1 << 20  # draws kept per entry at most (8 MB): larger ones are drawn each time
_MEMO_ENTRIES = 8
_DRAWS: OrderedDict = OrderedDict()


def _remembered_draws(seed, n: int, n_boot: int) -> np.ndarray | None:
    """The ``[n_boot, n]`` user indices ``bootstrap_mean`` draws for ``seed`` (one block: they
    depend on nothing else), kept for the next call with the same seed and size: a run
    bootstraps every metric, group and difference of every model over the same users with
    the same seed. None when too large to keep (then drawn in chunks as always)."""
    plain = np.asarray(seed) if isinstance(seed, (int, np.integer, list, tuple)) else None
    if n * n_boot > _MEMO_CELLS or plain is None or plain.dtype.kind not in "iu":
        return None  # too large, or a generator / seed sequence (stateful: drawn afresh)
    key = (plain.tobytes(), plain.shape, n, n_boot)
    draws = _DRAWS.get(key)
    if draws is None:
        draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
        draws.setflags(write=False)
        _DRAWS[key] = draws
        while len(_DRAWS) > _MEMO_ENTRIES:
            _DRAWS.popitem(last=False)
    else:
        _DRAWS.move_to_end(key)
    return draws


def bootstrap_paired_difference(
    values, reference, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> Interval:
    """Mean of ``values − reference`` over the same users (pairs with a NaN dropped).

    Paired: each resample draws users, and both figures are taken on those users, so
    what the users share (how hard they are) cancels out of the interval.
    """
    a = np.asarray(values, dtype=np.float64).ravel()
    b = np.asarray(reference, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same users: {a.shape} vs {b.shape}")
    return bootstrap_mean(a - b, n_boot=n_boot, seed=seed, level=level)


# -- AUC ----------------------------------------------------------------------------------
def _cluster_counts(clusters: np.ndarray, labels: np.ndarray, n_boot: int, seed: int):
    """How often each cluster (user) is drawn in each resample: ``[n_boot, n_clusters]``.

    Stratified: clusters whose rows are all members, all non-members, or mixed are
    resampled within their own stratum, so every resample keeps both sides populated.
    """
    ids, inverse = np.unique(clusters, return_inverse=True)
    pos = np.bincount(inverse, weights=labels, minlength=len(ids))
    total = np.bincount(inverse, minlength=len(ids))
    stratum = np.where(pos == total, 0, np.where(pos == 0, 1, 2))
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, len(ids)), dtype=np.uint16)  # draws per cluster: small integers
    for s in range(3):  # three strata, not a loop over resamples
        members = np.flatnonzero(stratum == s)
        if len(members) == 0:
            continue
        chunk = max(1, _DRAW_CELLS // len(members))
        for start in range(0, n_boot, chunk):  # same draws as one (n_boot, m) block
            cancel_point()
            rows = min(chunk, n_boot - start)
            draw = rng.integers(0, len(members), size=(rows, len(members)))
            flat = (draw + np.arange(rows)[:, None] * len(members)).ravel()
            block = np.bincount(flat, minlength=rows * len(members)).reshape(rows, -1)
            counts[start : start + rows, members] = np.minimum(block, np.iinfo(np.uint16).max)
    return inverse, counts


def _group_matrix(scores: np.ndarray, labels: np.ndarray, inverse: np.ndarray, n_clusters: int):
    """Per cluster, how many member / non-member rows fall in each tied-score group
    (groups sorted by score): two sparse ``[n_clusters, n_groups]`` count matrices."""
    import scipy.sparse as sp

    _, group = np.unique(scores, return_inverse=True)
    n_groups = int(group.max()) + 1
    out = []
    for side in (1, 0):
        rows = labels == side
        out.append(
            sp.csr_matrix((np.ones(int(rows.sum())), (inverse[rows], group[rows])), shape=(n_clusters, n_groups))
        )
    return out


def _weighted_auc(pos_w: np.ndarray, neg_w: np.ndarray) -> np.ndarray:
    """Mann–Whitney AUC per row from member/non-member weights per ascending score group
    (ties count one half)."""
    neg_below = np.cumsum(neg_w, axis=1) - neg_w
    num = (pos_w * (neg_below + 0.5 * neg_w)).sum(axis=1)
    den = pos_w.sum(axis=1) * neg_w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def auc_replicates(scores, labels, clusters=None, *, n_boot: int = N_BOOT, seed: int = 0):
    """``(auc, replicates[n_boot])``: ROC AUC of ``scores`` for ``labels`` (1 = member),
    and its values on cluster-bootstrap resamples (``clusters``: the user of each row;
    default one cluster per row). Same seed and clusters → same resamples."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(np.int64)
    c = np.arange(len(s)) if clusters is None else np.asarray(clusters).ravel()
    if not (len(s) == len(y) == len(c)):
        raise ValueError("scores, labels and clusters must have one entry per row")
    if not (y == 1).any() or not (y == 0).any():
        return float("nan"), np.full(n_boot, np.nan)
    inverse, counts = _cluster_counts(c, y, n_boot, seed)
    pos_m, neg_m = _group_matrix(s, y, inverse, counts.shape[1])
    auc = float(_weighted_auc(np.asarray(pos_m.sum(axis=0)), np.asarray(neg_m.sum(axis=0)))[0])
    chunk = max(1, min(_CELLS_PER_CHUNK // max(1, pos_m.shape[1]), _DRAW_CELLS // counts.shape[1]))
    reps = np.empty(n_boot)
    for start in range(0, n_boot, chunk):  # memory stays bounded; a few chunks at most
        cancel_point()
        w = counts[start : start + chunk].astype(np.float64)
        reps[start : start + chunk] = _weighted_auc(np.asarray((pos_m.T @ w.T).T), np.asarray((neg_m.T @ w.T).T))
    return auc, reps


def bootstrap_auc(
    scores, labels, clusters=None, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> Interval:
    """AUC with a stratified user-bootstrap interval; ``n`` counts the users resampled."""
    auc, reps = auc_replicates(scores, labels, clusters, n_boot=n_boot, seed=seed)
    n = len(np.unique(clusters)) if clusters is not None else len(np.asarray(scores).ravel())
    if np.isnan(auc):
        return Interval(float("nan"), float("nan"), float("nan"), n)
    low, high = _percentiles(reps[~np.isnan(reps)], level)
    return Interval(auc, low, high, n)


def bootstrap_auc_difference(
    scores, reference_scores, labels, clusters=None, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> Interval:
    """AUC(scores) − AUC(reference_scores) on the same rows and labels, paired: both
    AUCs are taken on the very same resamples of users."""
    a, ra = auc_replicates(scores, labels, clusters, n_boot=n_boot, seed=seed)
    b, rb = auc_replicates(reference_scores, labels, clusters, n_boot=n_boot, seed=seed)
    n = len(np.unique(clusters)) if clusters is not None else len(np.asarray(scores).ravel())
    diff = ra - rb
    diff = diff[~np.isnan(diff)]
    if np.isnan(a - b) or len(diff) == 0:
        return Interval(float("nan"), float("nan"), float("nan"), n)
    low, high = _percentiles(diff, level)
    return Interval(a - b, low, high, n)
