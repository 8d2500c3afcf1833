"""What every membership attack returns, and how two models' attacks are compared.

An attack scores a fixed, labelled probe (members = 1, non-members = 0, with the user
each row belongs to) under a model; the probe is built once per experiment and is the
same for every model, so two models' AUCs can be compared *paired*, on the very same
bootstrap resamples of users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.evaluation.bootstrap import (
    N_BOOT,
    Interval,
    bootstrap_auc,
    bootstrap_auc_difference,
    bootstrap_mean,
    bootstrap_paired_difference,
)
from core.evaluation.estimates import Estimate, stored_number

MIN_PER_SIDE = 2


class AttackError(ValueError):
    """The probe cannot be built on this experiment (too few members or non-members)."""


@dataclass(frozen=True)
class Probe:
    """A labelled sample one attack scores under every model.

    ``users[j]`` is the user row j belongs to (the bootstrap resamples users, not rows),
    ``labels[j]`` is 1 for a member and 0 for a non-member; ``items[j]`` the item of
    row j for record-level probes (None for user-level ones). ``within_user``: the AUC
    is taken inside each user (members vs non-members of the same user) and averaged
    over users, instead of pooling rows of different users.
    """

    name: str
    users: np.ndarray
    labels: np.ndarray
    neutral_note: str
    items: np.ndarray | None = None
    within_user: bool = False

    @property
    def n_members(self) -> int:
        return int((self.labels == 1).sum())

    @property
    def n_non_members(self) -> int:
        return int((self.labels == 0).sum())


@dataclass(frozen=True)
class AttackResult:
    """One attack under one model: AUC of telling members from non-members by the score.

    As a run stores it, it may also carry ``via`` (the model whose item side was used),
    ``vs_retrain`` (the AUC minus retrain's, paired over the same users) or, for a model the
    attack cannot read, only ``not_applicable`` (the reason) with NaN figures and no counts.
    """

    name: str
    auc: float
    interval: Interval
    n_members: int | None = None  # rows (record-level) or users (fold-in) on each side
    n_non_members: int | None = None
    n_users: int | None = None  # users the bootstrap resamples
    neutral_note: str | None = None
    via: str | None = None
    vs_retrain: Estimate | None = None
    not_applicable: str | None = None

    @classmethod
    def not_applicable_to(cls, name: str, reason: str) -> "AttackResult":
        """The entry of a model the attack does not apply to: the reason, NaN figures."""
        nan = float("nan")
        return cls(name, nan, Interval(nan, nan, nan, 0), not_applicable=reason)

    def as_dict(self) -> dict:
        """The stored entry (the keys a run has always written, in their order)."""
        out: dict = {"name": self.name, "auc": self.auc, "interval": self.interval.as_dict()}
        if self.not_applicable is None:
            out.update(
                n_members=self.n_members,
                n_non_members=self.n_non_members,
                n_users=self.n_users,
                neutral_note=self.neutral_note,
            )
        if self.via is not None:
            out["via"] = self.via
        if self.vs_retrain is not None:
            out["vs_retrain"] = self.vs_retrain.to_json()
        if self.not_applicable is not None:
            out["not_applicable"] = self.not_applicable
        return out

    @classmethod
    def from_dict(cls, raw: dict) -> "AttackResult":
        """A stored entry (null figures read as NaN)."""
        interval = raw.get("interval") or {}
        vs_retrain = raw.get("vs_retrain")
        return cls(
            name=raw["name"],
            auc=stored_number(raw.get("auc")),
            interval=Interval(
                stored_number(interval.get("value")),
                stored_number(interval.get("low")),
                stored_number(interval.get("high")),
                interval.get("n", 0),
            ),
            n_members=raw.get("n_members"),
            n_non_members=raw.get("n_non_members"),
            n_users=raw.get("n_users"),
            neutral_note=raw.get("neutral_note"),
            via=raw.get("via"),
            vs_retrain=None if vs_retrain is None else Estimate.from_json(vs_retrain),
            not_applicable=raw.get("not_applicable"),
        )


def within_user_auc(scores, labels, users) -> tuple[np.ndarray, np.ndarray]:
    """``(user_ids, auc)``: per user, the AUC of their member rows against their own
    non-member rows (ties count ½); NaN for a user lacking either side.

    Why not pool rows: users differ in score scale and in how many rows each side
    holds (a light user who lost one row adds one member and few non-members), so a
    pooled AUC drifts from 0.5 even when, inside every user, members and non-members
    are exchangeable. Inside a user, that cannot happen.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(np.int64)
    ids, user = np.unique(np.asarray(users).ravel(), return_inverse=True)
    order = np.lexsort((s, user))
    s_o, u_o = s[order], user[order]
    new_group = np.r_[True, (s_o[1:] != s_o[:-1]) | (u_o[1:] != u_o[:-1])]
    group = np.cumsum(new_group) - 1
    first = np.flatnonzero(new_group)
    last = np.r_[first[1:], len(s_o)] - 1
    user_start = np.r_[0, np.cumsum(np.bincount(user, minlength=len(ids)))[:-1]]
    midrank = (first + last) / 2.0 - user_start[u_o[first]] + 1.0  # 1-based rank inside the user
    ranks = np.empty(len(s))
    ranks[order] = midrank[group]
    m = np.bincount(user, weights=y, minlength=len(ids))
    n = np.bincount(user, weights=1 - y, minlength=len(ids))
    rank_sum = np.bincount(user, weights=ranks * y, minlength=len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - m * (m + 1) / 2) / (m * n)
    return ids, auc


def attack_result(probe: Probe, scores: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0) -> AttackResult:
    """AUC of ``scores`` (higher = "member") on ``probe`` with its user-bootstrap interval."""
    if probe.within_user:
        interval = bootstrap_mean(within_user_auc(scores, probe.labels, probe.users)[1], n_boot=n_boot, seed=seed)
    else:
        interval = bootstrap_auc(scores, probe.labels, probe.users, n_boot=n_boot, seed=seed)
    return AttackResult(
        name=probe.name,
        auc=interval.value,
        interval=interval,
        n_members=probe.n_members,
        n_non_members=probe.n_non_members,
        n_users=interval.n,
        neutral_note=probe.neutral_note,
    )


def attack_difference(
    probe: Probe, scores: np.ndarray, reference_scores: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0
) -> Interval:
    """AUC(model) − AUC(reference) on the same probe, paired over the same resamples."""
    if probe.within_user:
        a = within_user_auc(scores, probe.labels, probe.users)[1]
        b = within_user_auc(reference_scores, probe.labels, probe.users)[1]
        return bootstrap_paired_difference(a, b, n_boot=n_boot, seed=seed)
    return bootstrap_auc_difference(scores, reference_scores, probe.labels, probe.users, n_boot=n_boot, seed=seed)


def check_sides(probe: Probe) -> Probe:
    for what, count in (("member", probe.n_members), ("non-member", probe.n_non_members)):
        if count < MIN_PER_SIDE:
            raise AttackError(f"the {probe.name} attack needs at least {MIN_PER_SIDE} {what} rows, got {count}")
    return probe
