"""Collateral damage counted in people, not averaged away.

For the people who asked for nothing (retained users, and among them the similar ones)
two counts per method, each beside the original model's count as the reference:

* whose top-10 list is further from retraining's than the original model's list was
  (Jaccard overlap with retrain's top-10 below base's): recommendations changed in a
  way retraining would not have changed them;
* who lost ranking quality (NDCG@10) beyond the catalogue's tolerance against
  retraining, paired per user.

Everything is computed from what a :class:`core.result.RunResult` keeps (``topk`` lists
for every user, per-user values in the order of ``groups["users"][group]``), vectorised.
A model measured on a user sample has per-user values for its sample only. Its counts are
over its sample's own users ("2 of 2", never users outside the sample over the sample's
size): where the run does not name the sample's members, the top-10 count is left out
(None) and said so, and so is the quality count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.evaluation.agreement import overlap_per_user
from core.reporting.catalogue import entry_for

PEOPLE_GROUPS = ("retain", "similar")
QUALITY_METRIC = "ndcg@10"


@dataclass(frozen=True)
class GroupCount:
    """Counts on one group; ``None`` where the run does not allow the count."""

    group: str
    n_users: int
    moved_further: int | None  # top-10 further from retrain's than base's was
    lost_quality: int | None  # NDCG@10 below retrain's by more than ``tolerance``
    base_lost_quality: int | None  # the same count for the original model (reference)
    tolerance: float

    def as_dict(self) -> dict:
        return asdict(self)


def _lists(result, name: str) -> np.ndarray | None:
    found = result.topk.get(name)
    if found is None or not len(found):
        return None
    lists = np.asarray(found, dtype=np.int64)
    return lists if lists.ndim == 2 else None


def moved_further(result, name: str, users: np.ndarray) -> int | None:
    """How many of ``users`` have a top-10 sharing fewer items with retrain's than base's does."""
    mine, base, retrain = _lists(result, name), _lists(result, "base"), _lists(result, "retrain")
    if mine is None or base is None or retrain is None or not (mine.shape == base.shape == retrain.shape):
        return None
    if not len(users):
        return 0
    jac_mine, _ = overlap_per_user(mine[users], retrain[users])
    jac_base, _ = overlap_per_user(base[users], retrain[users])
    return int((jac_mine < jac_base - 1e-12).sum())


def _paired(result, name: str, group: str) -> np.ndarray | None:
    """Per-user NDCG@10 of ``name`` in the order of ``groups["users"][group]``, or None when
    the model was measured on a sample (its values are fewer than the group's users)."""
    if name not in result.models:
        return None
    values = result.models[name].per_user.get(group, {}).get(QUALITY_METRIC)
    users = result.groups.get("users", {}).get(group)
    if values is None or users is None or len(values) != len(users):
        return None
    return np.asarray(values, dtype=float)


def lost_quality(result, name: str, group: str, tolerance: float) -> int | None:
    """How many of the group lost NDCG@10 beyond ``tolerance`` against retraining, same users."""
    mine, reference = _paired(result, name, group), _paired(result, "retrain", group)
    if mine is None or reference is None:
        return None
    return int(((reference - mine) > tolerance).sum())


def group_counts(result, name: str) -> list[GroupCount]:
    """Both counts on the retained and the similar users (groups the run has)."""
    out: list[GroupCount] = []
    for group in PEOPLE_GROUPS:
        users = np.asarray(result.groups.get("users", {}).get(group, []), dtype=np.int64)
        key = f"{group}/{QUALITY_METRIC}"
        retrain = result.models.get("retrain")
        mean = retrain.groups.get(group, {}).get(QUALITY_METRIC) if retrain is not None else None
        tol = entry_for(key).family.tolerance_for(mean)
        n = int(result.groups.get(f"n_{group}", len(users)))
        sample = sample_size(result.models[name], group)
        members = sample_members(result, name, group)
        if members is not None:  # a sampled model: its own users only, so counts and totals agree
            users, sample = np.intersect1d(users, members), len(np.intersect1d(users, members))
        moved = moved_further(result, name, users) if sample is None or members is not None else None
        out.append(
            GroupCount(
                group,
                sample or n,
                moved,
                lost_quality(result, name, group, tol),
                lost_quality(result, "base", group, tol),
                tol,
            )
        )
    return out


def sample_members(result, name: str, group: str) -> np.ndarray | None:
    """The users of ``group`` a sampled model was measured on, where the run names them
    (``groups["samples"][name][group]``); None otherwise."""
    found = result.groups.get("samples", {}).get(name, {}).get(group)
    return None if found is None else np.asarray(found, dtype=np.int64)


def sample_size(report, group: str) -> int | None:
    """How many users of ``group`` a sampled model was measured on (None: everyone)."""
    found = report.extras.get(f"eval_sample/{group}")
    return int(found) if found is not None else None


def is_sampled(report) -> bool:
    """True for a model measured on a user sample (CRAGRU ranks only some users with its LLM)."""
    return any(key.startswith("eval_sample/") for key in report.extras) or any(
        "user sample" in note for note in report.notes
    )
