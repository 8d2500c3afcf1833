"""Grouped evaluation: every model measured on retain / forget / similar the same way.

The mask is always the *retained* training rows (identical for every model), the ground
truth the test rows; forgotten-item recall ranks each forgotten user's removed train
items without masking them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.data.dataset import Dataset
from core.errors import DatasetError
from core.evaluation.full_sort import RowSets, evaluate_users, mean_metrics, top_k
from core.evaluation.metrics import DEFAULT_KS
from core.forget_request import ResolvedRequest
from core.groups import GROUPS, Groups
from core.scorer import Scorer
from core.split import Split

PER_USER_METRICS = ("ndcg@10", "hit@10")

EvalSample = dict[str, np.ndarray]
"""Users a slow scorer is measured on: keys ``retain``, ``forget``, ``similar`` (groups)
and ``forgotten`` (the users whose forgotten-item recall is measured)."""


@dataclass
class EvalTargets:
    groups: Groups
    truth: RowSets
    mask: RowSets
    removed: RowSets
    forget_users: np.ndarray
    ks: tuple[int, ...] = DEFAULT_KS


def make_targets(
    dataset: Dataset, split: Split, request: ResolvedRequest, groups: Groups, ks=DEFAULT_KS
) -> EvalTargets:
    check_cutoffs(dataset, ks)
    return EvalTargets(
        groups=groups,
        truth=RowSets.from_rows(dataset, split.test),
        mask=RowSets.from_rows(dataset, request.retained_rows),
        removed=RowSets.from_rows(dataset, request.removed_rows),
        forget_users=request.forget_users,
        ks=tuple(ks),
    )


def check_cutoffs(dataset: Dataset, ks) -> None:
    """Refuse, before any training, a catalogue smaller than the largest cut-off K.

    Refused rather than capped: every table, chart, report and comparison reads the same
    metric names (``ndcg@20``...), and a top-20 list out of 10 items measures nothing."""
    largest = max(ks)
    if dataset.n_items < largest:
        raise DatasetError(
            f"the dataset has {dataset.n_items} items, fewer than the largest cut-off K = {largest} "
            f"(cut-offs {', '.join(map(str, ks))}): a top-{largest} list cannot be ranked; use data with at least "
            f"{largest} items or cut-offs of at most {dataset.n_items} ('ks' in the configuration)",
            dataset.source or None,
        )


@dataclass
class GroupedMetrics:
    """Means per group, plus the per-user values behind them and whose they are
    (``users[group]`` in the order of ``per_user[group][metric]``; ``forgotten`` is the
    users of ``per_user["forgotten"]["forgotten_recall@10"]``): what intervals and paired
    differences are computed from."""

    groups: dict[str, dict[str, float]]
    forgotten_recall: dict[str, float]
    per_user: dict[str, dict[str, list[float]]]
    users: dict[str, np.ndarray] = field(default_factory=dict)


def evaluate_model(model: Scorer, targets: EvalTargets, sample: EvalSample | None = None) -> GroupedMetrics:
    """Metrics on every group; ``sample`` restricts each group (key ``forgotten`` the
    forgotten-recall users) to a subset, for slow models that score only some users."""
    groups: dict[str, dict[str, float]] = {}
    per_user: dict[str, dict[str, list[float]]] = {}
    who: dict[str, np.ndarray] = {}
    for name in GROUPS:
        users = targets.groups.get(name)
        if sample is not None and name in sample:
            users = np.intersect1d(users, sample[name])
        values = evaluate_users(model, users, targets.truth, targets.mask, targets.ks)
        groups[name] = mean_metrics(values)
        per_user[name] = {m: values[m].tolist() for m in PER_USER_METRICS if m in values}
        who[name] = np.asarray(users, dtype=np.int64)
    forgotten_users = targets.forget_users
    if sample is not None and "forgotten" in sample:
        forgotten_users = np.intersect1d(forgotten_users, sample["forgotten"])
    recall = evaluate_users(model, forgotten_users, targets.removed, targets.mask, targets.ks)
    forgotten = {f"forgotten_recall@{k}": mean_metrics({"r": recall[f"recall@{k}"]})["r"] for k in targets.ks}
    if "recall@10" in recall:
        per_user["forgotten"] = {"forgotten_recall@10": recall["recall@10"].tolist()}
        who["forgotten"] = np.asarray(forgotten_users, dtype=np.int64)
    return GroupedMetrics(groups=groups, forgotten_recall=forgotten, per_user=per_user, users=who)


def sample_users(targets: EvalTargets, per_group: int, seed: int) -> EvalSample:
    """A seeded sample of at most ``per_group`` users from each group (0 = everyone)."""
    rng = np.random.default_rng(seed)
    pools = {name: targets.groups.get(name) for name in GROUPS}
    pools["forgotten"] = targets.forget_users
    out = {}
    for name, users in pools.items():
        if per_group <= 0 or len(users) <= per_group:
            out[name] = np.asarray(users, dtype=np.int64)
        else:
            out[name] = np.sort(rng.choice(users, size=per_group, replace=False)).astype(np.int64)
    return out


def top_lists(model: Scorer, n_users: int, mask: RowSets, k: int = 10) -> np.ndarray:
    """Top-k ``[n_users, k]`` for every user (retained train masked): what the per-user
    inspector shows and what agreement with retrain compares."""
    return np.asarray(top_k(model, np.arange(n_users), mask, k), dtype=np.int64)
