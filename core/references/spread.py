"""Retraining's own spread, and who a model moved or hurt beyond it.

* the band: per figure, the differences (reference retrain − the run's retrain) over the
  R references, and their ``[low, high]`` widened to include 0 (the run's retrain is
  itself one draw of retraining, at difference 0);
* per person, the floor retraining sets: the lowest top-10 Jaccard with the run's
  retrain's list that any reference retrain gets, and the largest NDCG@10 drop below the
  run's retrain that any reference retrain gives (never above 0);
* a model *moved* a person when its Jaccard with retrain's list is below that person's
  floor, and *lost* them when its NDCG@10 drop is below theirs.

Everything is numpy over users; the floors are running minima, so memory grows with the
users, never with users × R (nor users × users).
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from core.evaluation.agreement import overlap_per_user
from core.evaluation.grouped import GroupedMetrics
from core.groups import GROUPS
from core.references.results import PeopleBeyondSpread
from core.result import ATTACK_KEYS

INTERVAL_METRICS = ("hit@10", "ndcg@10")
FORGOTTEN_KEY = "forgotten_recall@10"


def figures(measured: GroupedMetrics, attacks: dict[str, dict] | None = None) -> dict[str, float]:
    """The ``flat()`` figures a band is kept for, from one model's measurements: every
    group's Hit@10 and NDCG@10, forgotten-item recall@10, each attack's AUC."""
    out: dict[str, float] = {}
    for group in GROUPS:
        for metric in INTERVAL_METRICS:
            value = measured.groups.get(group, {}).get(metric)
            if value is not None:
                out[f"{group}/{metric}"] = float(value)
    if FORGOTTEN_KEY in measured.forgotten_recall:
        out[FORGOTTEN_KEY] = float(measured.forgotten_recall[FORGOTTEN_KEY])
    for name, entry in (attacks or {}).items():
        if entry.get("auc") is not None:
            out[ATTACK_KEYS.get(name, f"attack/{name}")] = float(entry["auc"])
    return out


def differences(own: dict[str, float | None], references: list[dict[str, float]]) -> dict[str, list[float]]:
    """key -> (reference − own) for each reference, for the keys every one of them has (finite)."""
    out: dict[str, list[float]] = {}
    for key, value in own.items():
        if not _finite(value) or not references:
            continue
        values = [ref.get(key) for ref in references]
        if all(_finite(v) for v in values):
            out[key] = [float(v) - float(value) for v in values]
    return out


def band(diffs: dict[str, list[float]]) -> dict[str, list[float]]:
    """key -> ``[low, high]`` of the differences, widened to include 0."""
    return {key: [min(0.0, *values), max(0.0, *values)] for key, values in diffs.items() if values}


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def jaccard_floor(retrain_top10: np.ndarray, reference_top10s: Iterable[np.ndarray]) -> np.ndarray:
    """Per user: the lowest Jaccard of a reference retrain's top-10 with the run's retrain's
    (1.0 where there are no references: only an identical list is then unmoved)."""
    floor = np.ones(len(retrain_top10))
    for top10 in reference_top10s:
        jaccard, _ = overlap_per_user(top10, retrain_top10)
        np.minimum(floor, jaccard, out=floor)
    return floor


def ndcg_floor(retrain_values: np.ndarray, reference_values: Iterable[np.ndarray]) -> np.ndarray:
    """Per user (one group's users, in its order): the largest drop of NDCG@10 below the run's
    retrain's that a reference retrain gives, as a number ≤ 0."""
    retrain_values = np.asarray(retrain_values, dtype=float)
    floor = np.zeros(len(retrain_values))
    for values in reference_values:
        np.minimum(floor, np.asarray(values, dtype=float) - retrain_values, out=floor)
    return floor


def moved_beyond(users: np.ndarray, top10: np.ndarray, retrain_top10: np.ndarray, floor: np.ndarray) -> int:
    """People of ``users`` whose top-10 is further (Jaccard) from retrain's than every reference's."""
    if len(users) == 0:
        return 0
    jaccard, _ = overlap_per_user(top10[users], retrain_top10[users])
    return int(np.count_nonzero(jaccard < floor[users]))


def lost_beyond(
    users: np.ndarray,
    values: np.ndarray,
    group_users: np.ndarray,
    retrain_values: np.ndarray,
    floor: np.ndarray,
    tolerance: float = 1e-9,
) -> int:
    """People of ``users`` (with NDCG@10 ``values``) who lost more against retrain than any
    reference retrain loses them (``floor``: :func:`ndcg_floor` over ``group_users``)."""
    _, mine, theirs = np.intersect1d(users, group_users, return_indices=True)
    drop = np.asarray(values, dtype=float)[mine] - np.asarray(retrain_values, dtype=float)[theirs]
    return int(np.count_nonzero(drop < floor[theirs] - tolerance))


def people_beyond(
    users: np.ndarray,
    top10: np.ndarray,
    retrain_top10: np.ndarray,
    floor: np.ndarray,
    ndcg: tuple[np.ndarray, np.ndarray] | None = None,
    ndcg_reference: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> PeopleBeyondSpread:
    """One model, one group. ``users``: the group's users this model was measured on;
    ``ndcg``: (users, values) of its per-user NDCG@10; ``ndcg_reference``: (group users,
    retrain's values, :func:`ndcg_floor`)."""
    users = np.asarray(users, dtype=np.int64)
    lost = None
    if ndcg is not None and ndcg_reference is not None:
        lost = lost_beyond(np.asarray(ndcg[0], dtype=np.int64), ndcg[1], *ndcg_reference)
    return PeopleBeyondSpread(len(users), moved_beyond(users, top10, retrain_top10, floor), lost)
