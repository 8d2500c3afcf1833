"""Agreement with retrain: how much of a model's top-K is what the retrained model shows.

Per user, two overlaps of a model's list with the retrained model's list (both the
same length K, no repeated item within a list):

* **Jaccard** ``|A ∩ B| / |A ∪ B|`` — order-free; 1 for the same set, 0 for disjoint.
* **Rank-biased overlap** (Webber, Moffat & Zobel, "A similarity measure for
  indefinite rankings", ACM TOIS 28(4), 2010) with persistence ``p = 0.9``, in its
  *extrapolated* form for two lists of equal length k (their eq. 32)::

      RBO_ext = (X_k / k) · p^k + (1 − p)/p · Σ_{d=1..k} (X_d / d) · p^d

  where ``X_d`` is the overlap of the two depth-d prefixes. It weights the top of
  the lists most, is 1 for identical lists and 0 for disjoint ones, and assumes the
  agreement seen at depth k continues below it (the truncated sum alone would cap
  identical top-10 lists at 1 − p^10 ≈ 0.65).

Per group, the mean over users with a seeded user-bootstrap interval. Base vs retrain
is the reference a method's agreement should be read against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cancel import cancel_point
from core.evaluation.bootstrap import N_BOOT, bootstrap_mean
from core.evaluation.estimates import Estimate

RBO_P = 0.9
_ROWS_PER_CHUNK = 65_536  # users compared at once: chunk × K × K booleans


@dataclass(frozen=True)
class Agreement:
    """One group's mean overlaps with the retrained model's lists, each with its 95 % interval;
    stored as ``{"jaccard@10": [v, lo, hi], "rbo@10": [v, lo, hi]}`` (a missing one: None)."""

    jaccard: Estimate | None = None
    rbo: Estimate | None = None

    def items(self) -> list[tuple[str, Estimate]]:
        """``(name, estimate)`` in stored order; the names are the ``agreement/<group>/<name>`` keys."""
        return [(name, found) for name, found in (("jaccard@10", self.jaccard), ("rbo@10", self.rbo)) if found]

    def get(self, name: str) -> Estimate | None:
        """The overlap stored under ``name`` ("jaccard@10" or "rbo@10")."""
        return dict(self.items()).get(name)

    def to_json(self) -> dict[str, list[float]]:
        return {name: found.to_json() for name, found in self.items()}

    @classmethod
    def from_json(cls, raw: dict) -> "Agreement":
        found = {name: Estimate.from_json(value) for name, value in raw.items() if value is not None}
        return cls(found.get("jaccard@10"), found.get("rbo@10"))


def _prefix_overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``X[:, d-1]`` = |a[:, :d] ∩ b[:, :d]| for d = 1..K, per row."""
    match = a[:, :, None] == b[:, None, :]  # [n, K, K]: a's i-th item is b's j-th
    return match.cumsum(axis=1).cumsum(axis=2).diagonal(axis1=1, axis2=2).astype(np.float64)


def overlap_per_user(lists, reference, p: float = RBO_P) -> tuple[np.ndarray, np.ndarray]:
    """``(jaccard[n], rbo[n])`` of each row of ``lists`` with the same row of ``reference``
    (int arrays ``[n_users, K]``, same K)."""
    a = np.asarray(lists, dtype=np.int64)
    b = np.asarray(reference, dtype=np.int64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"lists must be two [n_users, K] arrays of one shape, got {a.shape} and {b.shape}")
    if not 0 < p < 1:
        raise ValueError(f"RBO persistence p must be in (0, 1), got {p}")
    n, k = a.shape
    jaccard = np.empty(n)
    rbo = np.empty(n)
    depth = np.arange(1, k + 1, dtype=np.float64)
    weights = (1 - p) / p * p**depth / depth  # (1-p)/p · p^d / d
    for start in range(0, n, _ROWS_PER_CHUNK):
        cancel_point()
        x = _prefix_overlaps(a[start : start + _ROWS_PER_CHUNK], b[start : start + _ROWS_PER_CHUNK])
        common = x[:, -1] if k else np.zeros(len(x))
        jaccard[start : start + len(x)] = common / np.maximum(2 * k - common, 1)
        rbo[start : start + len(x)] = x @ weights + common / k * p**k
    return jaccard, rbo


def agreement_by_group(
    lists,
    reference,
    groups: dict[str, np.ndarray],
    *,
    p: float = RBO_P,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict[str, Agreement]:
    """Mean Jaccard and RBO per group, with bootstrap intervals.

    ``lists`` and ``reference`` are top-K lists for *every* user (row u = user u, as
    :func:`core.evaluation.grouped.top_lists` returns them); ``groups`` maps a group
    name to its user indices.
    """
    jaccard, rbo = overlap_per_user(lists, reference, p)
    out = {}
    for name, users in groups.items():
        users = np.asarray(users, dtype=np.int64)
        out[name] = Agreement(
            jaccard=Estimate.of(bootstrap_mean(jaccard[users], n_boot=n_boot, seed=seed)),
            rbo=Estimate.of(bootstrap_mean(rbo[users], n_boot=n_boot, seed=seed)),
        )
    return out
