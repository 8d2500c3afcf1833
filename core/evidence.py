"""The forgetting evidence of one experiment, computed once and the same way for every model.

For each model: a user-bootstrap interval on every per-user figure (utility per group,
forgotten-item recall), paired differences against retrain and against base on the
same users, agreement of its top-10 lists with retrain's per group, the membership
attacks (one probe per experiment, the same labels for every model; differences
against retrain paired over the same resampled users), and the plain known-user count.
Everything is plain data (:mod:`core.evaluation.estimates`, :class:`core.attacks.AttackResult`,
:class:`core.attacks.KnownUserCheck`); :class:`core.result.ModelReport` holds it and writes its JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from core.attacks import (
    AttackError,
    AttackResult,
    KnownUserCheck,
    attack_difference,
    attack_result,
    calibration_probe,
    fold_in_probe,
    fold_in_scores,
    known_user_check,
    record_level,
    record_probe,
    record_scores,
    white_box,
)
from core.cancel import cancel_point
from core.evaluation.agreement import Agreement, agreement_by_group
from core.evaluation.bootstrap import bootstrap_mean, bootstrap_paired_difference
from core.evaluation.estimates import Bounds, Estimate
from core.evaluation.grouped import GroupedMetrics
from core.groups import GROUPS
from core.models.item_side import HasItemSide

REFERENCES = ("retrain", "base")
SAMPLE_OF_PROBE = {record_level.NAME: "forgotten", record_level.CALIBRATION: "retain", white_box.NAME: "forgotten"}
"""For a model measured on a user sample: which sampled users each record-level probe keeps."""
INTERVAL_METRICS = ("hit@10", "ndcg@10")


@dataclass
class ModelInputs:
    """What the evidence needs of one evaluated model."""

    scorer: object
    measured: GroupedMetrics
    top10: np.ndarray  # [n_users, 10]
    sample: dict[str, np.ndarray] | None = None
    item_side: HasItemSide | None = None  # for the fold-in attack; None: not applicable
    item_side_note: str = ""


@dataclass
class ModelEvidence:
    intervals: dict[str, Bounds] = field(default_factory=dict)  # flat() key -> interval
    differences: dict[str, dict[str, Estimate]] = field(default_factory=dict)  # ref -> key -> paired difference
    agreement: dict[str, Agreement] = field(default_factory=dict)  # group -> overlaps with retrain
    attacks: dict[str, AttackResult] = field(default_factory=dict)  # attack -> result (+ vs_retrain, via)
    known_users: KnownUserCheck | None = None
    notes: list[str] = field(default_factory=list)


def _per_user(measured: GroupedMetrics, group: str, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(users, values) behind one per-user figure."""
    values = measured.per_user.get(group, {}).get(metric)
    if values is None or group not in measured.users:
        return None
    return measured.users[group], np.asarray(values, dtype=float)


def _figures() -> list[tuple[str, str, str]]:
    """``(flat() key, group, metric)`` of every per-user figure: the groups' Hit@10 and NDCG@10,
    and forgotten-item recall@10 (per forgotten user)."""
    per_group = [(f"{g}/{m}", g, m) for g in GROUPS for m in INTERVAL_METRICS]
    return per_group + [("forgotten_recall@10", "forgotten", "forgotten_recall@10")]


def utility_evidence(models: dict[str, ModelInputs], seed: int) -> dict[str, ModelEvidence]:
    """Intervals of every per-user figure and paired differences against the references."""
    out = {name: ModelEvidence() for name in models}
    for name, inputs in models.items():
        for key, group, metric in _figures():
            cancel_point()
            own = _per_user(inputs.measured, group, metric)
            if own is None:
                continue
            interval = bootstrap_mean(own[1], seed=seed)
            out[name].intervals[key] = Bounds(interval.low, interval.high)
            for ref in REFERENCES:
                if ref == name or ref not in models:
                    continue
                other = _per_user(models[ref].measured, group, metric)
                if other is None:
                    continue
                common, mine, theirs = np.intersect1d(own[0], other[0], return_indices=True)
                diff = bootstrap_paired_difference(own[1][mine], other[1][theirs], seed=seed)
                out[name].differences.setdefault(ref, {})[key] = Estimate.of(diff)
    return out


def agreement_evidence(
    models: dict[str, ModelInputs], groups: dict[str, np.ndarray], seed: int, evidence: dict[str, ModelEvidence]
) -> None:
    """Top-10 overlap with retrain's lists per group (base vs retrain is the reference)."""
    if "retrain" not in models:
        return
    reference = models["retrain"].top10
    for name, inputs in models.items():
        cancel_point()
        own = {
            group: np.intersect1d(users, inputs.sample[group])
            if inputs.sample is not None and group in inputs.sample
            else users
            for group, users in groups.items()
        }
        evidence[name].agreement.update(agreement_by_group(inputs.top10, reference, own, seed=seed))


def attack_evidence(
    prepared, models: dict[str, ModelInputs], seed: int, evidence: dict[str, ModelEvidence]
) -> list[str]:
    """Record-level (+ calibration), fold-in and (``users`` requests) white-box attacks under
    every model; returns notes on attacks that could not be set up on this experiment and
    on models the white-box attack does not apply to (their entry says why: ``not_applicable``)."""
    ds, split, request = prepared.dataset, prepared.split, prepared.request
    notes: list[str] = []
    probes = {}
    builders = [
        lambda: record_probe(ds, split, request),
        lambda: calibration_probe(ds, split, request, seed=seed),
        lambda: fold_in_probe(ds, split, request, seed=seed),
    ]
    if request.request.kind in white_box.KINDS:  # elsewhere it would repeat the record-level attack
        builders.append(lambda: white_box.white_box_probe(ds, split, request))
    for builder in builders:
        try:
            cancel_point()
            probe = builder()
        except AttackError as exc:
            notes.append(str(exc))
            continue
        probes[probe.name] = probe
    if white_box.NAME in probes:
        notes += _white_box_not_applicable(models, evidence)
    for probe in probes.values():
        scores = {name: _attack_scores(probe, inputs) for name, inputs in models.items()}
        for name, inputs in models.items():
            cancel_point()
            entry = _attack_entry(probe, scores, name, inputs, seed) if scores[name] is not None else None
            if entry is not None:
                evidence[name].attacks[probe.name] = entry
    for name, inputs in models.items():
        evidence[name].known_users = known_user_check(inputs.scorer, request.forget_users)
    return notes


def _white_box_not_applicable(models: dict[str, ModelInputs], evidence: dict[str, ModelEvidence]) -> list[str]:
    """A "not applicable" white-box entry (the reason; NaN figures, None once stored as JSON, so
    every reader of an attack entry still finds its fields) for models without user vectors."""
    notes = []
    for name, inputs in models.items():
        reason = white_box.white_box_reason(inputs.scorer)
        if reason is not None:
            evidence[name].attacks[white_box.NAME] = AttackResult.not_applicable_to(white_box.NAME, reason)
            notes.append(f"{white_box.NAME} attack not applicable to {name}: {reason}")
    return notes


def _attack_scores(probe, inputs: ModelInputs) -> np.ndarray | None:
    cancel_point()
    if probe.name == white_box.NAME:  # the user vectors the model keeps, known or not
        return None if white_box.white_box_reason(inputs.scorer) else white_box.white_box_scores(inputs.scorer, probe)
    if probe.items is not None:  # record-level: the model's own score of each row
        return record_scores(inputs.scorer, probe)
    if inputs.item_side is None:
        return None
    return fold_in_scores(inputs.item_side, probe)


def _attack_entry(probe, scores: dict, name: str, inputs: ModelInputs, seed: int) -> AttackResult | None:
    keep = np.ones(len(probe.labels), dtype=bool)
    sample_key = SAMPLE_OF_PROBE.get(probe.name)
    if sample_key and inputs.sample is not None and sample_key in inputs.sample:
        keep = np.isin(probe.users, inputs.sample[sample_key])  # a sampled model: its own users only
        if not (probe.labels[keep] == 1).any() or not (probe.labels[keep] == 0).any():
            return None
    sub = probe if keep.all() else _restrict(probe, keep)
    result = attack_result(sub, scores[name][keep], seed=seed)
    if probe.items is None and inputs.item_side_note:
        result = replace(result, via=inputs.item_side_note)
    reference = scores.get("retrain")
    if reference is not None and name != "retrain":
        paired = attack_difference(sub, scores[name][keep], reference[keep], seed=seed)
        result = replace(result, vs_retrain=Estimate.of(paired))
    return result


def _restrict(probe, keep: np.ndarray):
    return replace(
        probe,
        users=probe.users[keep],
        labels=probe.labels[keep],
        items=None if probe.items is None else probe.items[keep],
    )
