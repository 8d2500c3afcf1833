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
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from core.attacks.common import AttackResult
from core.evaluation.agreement import overlap_per_user
from core.evaluation.grouped import GroupedMetrics
from core.groups import GROUPS
from core.references.results import PeopleBeyondSpread
from core.result import attack_key

INTERVAL_METRICS = ("hit@10", "ndcg@10")
FORGOTTEN_KEY = "forgotten_recall@10"
TOLERANCE = 1e-9  # NDCG@10 differences below this are ties


def figures(measured: GroupedMetrics, attacks: dict[str, AttackResult] | None = None) -> dict[str, float]:
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
    for name, found in (attacks or {}).items():
        if found.auc is not None:
            out[attack_key(name)] = float(found.auc)
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


def overlaps(top10: np.ndarray, retrain_top10: np.ndarray) -> np.ndarray:
    """Per user: items shared by the two top-k lists (int8). Jaccard = c / (2k − c) rises with
    it, so comparing counts is comparing Jaccard, exactly and in a byte a person."""
    jaccard, _ = overlap_per_user(top10, retrain_top10)
    k = top10.shape[1] if top10.ndim == 2 else 0
    return np.rint(2 * k * jaccard / (1 + jaccard)).astype(np.int8)


def leave_one_out(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``values`` ``[R, n]``: (the minimum over all R per column, and for each row r the
    minimum over the other rows) — the floor a model is held to, and the floor each
    reference would have been held to by the others. ``[n]`` and ``[R, n]``."""
    if len(values) == 1:
        return values[0], np.full_like(values, np.iinfo(values.dtype).max if values.dtype.kind == "i" else np.inf)
    two = np.partition(values, 1, axis=0)[:2]
    lowest = values.argmin(axis=0)
    rows = np.arange(len(values))[:, None]
    return two[0], np.where(rows == lowest[None, :], two[1][None, :], two[0][None, :])


@dataclass
class Floors:
    """Retraining's spread per person, from the R reference retrains.

    ``common[r, u]``: items reference r's top-10 shares with the run's retrain's for user u;
    ``ndcg[group] = (users, retrain's values, drops [R, n])``: each reference's NDCG@10
    minus the run's retrain's for the group's users. Memory: users × R, small types."""

    retrain_top10: np.ndarray
    common: np.ndarray
    ndcg: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]

    @property
    def r(self) -> int:
        return len(self.common)


def floors(
    retrain_top10: np.ndarray,
    reference_top10s: Iterable[np.ndarray],
    ndcg: dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] | None = None,
) -> Floors:
    """:class:`Floors` from the references' top-10 lists and (per group: users, retrain's
    values, each reference's values) their per-user NDCG@10."""
    return floors_from(retrain_top10, [overlaps(top10, retrain_top10) for top10 in reference_top10s], ndcg)


def floors_from(
    retrain_top10: np.ndarray,
    commons: list[np.ndarray],
    ndcg: dict[str, tuple[np.ndarray, np.ndarray, list[np.ndarray]]] | None = None,
) -> Floors:
    """:class:`Floors` from each reference's :func:`overlaps` with retrain's lists (what a
    reference keeps once its model is let go) and the per-group NDCG@10 as in :func:`floors`."""
    drops = {}
    for group, (users, own, refs) in (ndcg or {}).items():
        own = np.asarray(own, dtype=np.float64)
        drops[group] = (np.asarray(users, dtype=np.int64), own, np.stack([np.asarray(v) - own for v in refs]))
    return Floors(retrain_top10, np.stack(commons), drops)


def _count(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))


def people_beyond(
    floors_: Floors, group: str, users: np.ndarray, top10: np.ndarray, ndcg: tuple[np.ndarray, np.ndarray] | None
) -> PeopleBeyondSpread:
    """One model, one group. ``users``: the group's users this model was measured on;
    ``ndcg``: (users, values) of its per-user NDCG@10 (None: not measured)."""
    users = np.asarray(users, dtype=np.int64)
    floor, loo = leave_one_out(floors_.common[:, users])
    own = overlaps(top10[users], floors_.retrain_top10[users]) if len(users) else np.zeros(0, np.int8)
    moved = _count(own < floor)
    chance = (
        float(np.mean([_count(row < lim) for row, lim in zip(floors_.common[:, users], loo)]))
        if floors_.r > 1
        else None
    )
    lost, lost_chance = None, None
    if ndcg is not None and group in floors_.ndcg:
        group_users, own_values, drops = floors_.ndcg[group]
        _, mine, theirs = np.intersect1d(np.asarray(ndcg[0], dtype=np.int64), group_users, return_indices=True)
        drop = np.asarray(ndcg[1], dtype=np.float64)[mine] - own_values[theirs]
        low, loo_low = leave_one_out(drops[:, theirs])
        lost = _count(drop < np.minimum(low, 0.0) - TOLERANCE)
        if floors_.r > 1:
            limits = np.minimum(loo_low, 0.0) - TOLERANCE
            lost_chance = float(np.mean([_count(row < lim) for row, lim in zip(drops[:, theirs], limits)]))
    return PeopleBeyondSpread(len(users), moved, lost, moved_by_chance=chance, lost_by_chance=lost_chance)
