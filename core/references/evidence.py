"""``reference_evidence``: the ensemble's share of a run's evidence, once per experiment.

After every method is evaluated: train (or load) the R reference retrainings and bases
(:mod:`.ensemble`), measure each reference retraining the way the run's models are
measured (groups, forgotten-item recall, the same attack probes), then

* ``RunResult.references``: the band of (reference retrain − run's retrain) per figure
  and the reference retrainings' times (timing noise for the cost verdict);
* ``ModelReport.beyond_spread``: per model and group, the people it moved or hurt
  beyond retraining's own spread (:mod:`.spread`);
* ``ModelReport.person_tests``: each forgotten person's likelihood-ratio test under every
  model, the reference bases as "trained on them", the reference retrainings as "never
  trained on them" (:func:`core.attacks.per_person.person_tests`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from core.cancel import cancel_point
from core.config import ExperimentConfig
from core.evaluation.grouped import evaluate_model, top_lists
from core.events import Reporter
from core.evidence import ModelEvidence, ModelInputs, attack_evidence
from core.experiment.data import Prepared
from core.groups import GROUPS
from core.models.item_side import HasItemSide
from core.references import spread
from core.references.ensemble import BASE, build_ensemble
from core.references.results import PeopleBeyondSpread, ReferenceSummary
from core.references.settings import references_for
from core.result import ModelReport


@dataclass
class _Kept:
    """What the evidence keeps of one reference retraining once its model is let go."""

    figures: dict[str, float]  # the flat() figures a band is kept for
    common: np.ndarray | None  # per user: items its top-10 shares with the run's retrain's (int8)
    ndcg: dict[str, np.ndarray]  # group -> per-user NDCG@10, in the group's order
    scores: dict | None  # its per-person scores (None: no per-person test)


def reference_evidence(
    config: ExperimentConfig,
    prepared: Prepared,
    inputs: dict[str, ModelInputs],
    reports: dict[str, ModelReport],
    device: torch.device,
    reporter: Reporter,
    *,
    executor: str | None = None,
    expected_task_s: float = 0.0,
) -> ReferenceSummary | None:
    """Fill ``reports``' ``beyond_spread`` and ``person_tests``; the run's
    :class:`ReferenceSummary`, or None when R is 0. ``expected_task_s``: about what one
    reference costs (the run's base or retrain time), for choosing where they train.
    Each reference is measured as it arrives and let go: one reference model in memory."""
    r = references_for(config.references, config.data.is_demo)
    if r <= 0:
        return None
    start = time.perf_counter()
    reporter.progress(0.0, f"reference ensemble: {r} retrainings and {r} base models")
    probes, notes = _person_probes(config, prepared)
    retrain = inputs.get("retrain")

    def consume(kind: str, model) -> object:
        cancel_point()
        scores = _person_scores(model, probes)
        return scores if kind == BASE else _keep(prepared, config, model, retrain, scores)

    ensemble = build_ensemble(
        config,
        prepared,
        device,
        r,
        reporter.sub(0.0, 0.9),
        executor=executor,
        expected_task_s=expected_task_s,
        consume=consume,
    )
    kept: list[_Kept] = [ref.model for ref in ensemble.retrains]
    summary = ReferenceSummary(
        r=r,
        retrain_seeds=[ref.seed for ref in ensemble.retrains],
        base_seeds=[ref.seed for ref in ensemble.bases],
        retrain_times_s=[ref.seconds for ref in ensemble.retrains],
        base_times_s=[ref.seconds for ref in ensemble.bases],
        from_cache=ensemble.from_cache,
        executor=ensemble.executor,
        notes=notes,
    )
    if retrain is not None and "retrain" in reports:
        summary.differences = spread.differences(reports["retrain"].flat(), [k.figures for k in kept])
        summary.band = spread.band(summary.differences)
        reporter.progress(0.92, "people moved or hurt beyond retraining's spread")
        _beyond_spread(prepared, inputs, reports, kept)
    else:
        summary.notes.append("no band and no per-person spread: the run has no retrain of its own to compare with")
    if probes is not None:
        reporter.progress(0.95, "a test for each forgotten person")
        _person_tests(config, prepared, inputs, reports, probes, [ref.model for ref in ensemble.bases], kept)
    summary.wall_s = time.perf_counter() - start
    how = "loaded from the cache" if ensemble.from_cache else f"trained ({ensemble.executor})"
    reporter.log(
        f"reference ensemble: {r} retrainings (model seeds {_seeds(summary.retrain_seeds)}) and {r} base models "
        f"({_seeds(summary.base_seeds)}), {how}; {summary.wall_s:.1f} s with their measurements"
    )
    reporter.progress(1.0, "reference ensemble done")
    return summary


def _seeds(seeds: list[int]) -> str:
    consecutive = all(b == a + 1 for a, b in zip(seeds, seeds[1:]))
    return f"{seeds[0]}–{seeds[-1]}" if len(seeds) > 2 and consecutive else ", ".join(map(str, seeds))


def _keep(prepared: Prepared, config: ExperimentConfig, model, retrain: ModelInputs | None, scores) -> _Kept:
    """Measure one reference retraining as the run's models are measured (groups, forgotten-item
    recall, the same attack probes) and keep only the figures and per-user arrays the spread needs."""
    targets = prepared.targets
    measured = evaluate_model(model, targets)
    top10 = top_lists(model, prepared.dataset.n_users, targets.mask)
    evidence = ModelEvidence()
    if config.mia:
        side = model if isinstance(model, HasItemSide) else None
        found = {"reference": ModelInputs(scorer=model, measured=measured, top10=top10, item_side=side)}
        attack_evidence(prepared, found, config.split.seed, {"reference": evidence})
    ndcg = {
        group: np.asarray(values["ndcg@10"], dtype=np.float64)
        for group, values in measured.per_user.items()
        if group in GROUPS and "ndcg@10" in values
    }
    common = spread.overlaps(top10, retrain.top10) if retrain is not None else None
    return _Kept(spread.figures(measured, evidence.attacks), common, ndcg, scores)


def _beyond_spread(
    prepared: Prepared, inputs: dict[str, ModelInputs], reports: dict[str, ModelReport], kept: list[_Kept]
) -> None:
    """Each model's people moved / hurt beyond retraining's spread, per group."""
    retrain = inputs["retrain"]
    ndcg = {}
    for group in GROUPS:
        own = retrain.measured.per_user.get(group, {}).get("ndcg@10")
        refs = [k.ndcg.get(group) for k in kept]
        if own is not None and group in retrain.measured.users and all(v is not None for v in refs):
            ndcg[group] = (retrain.measured.users[group], own, refs)
    floors = spread.floors_from(retrain.top10, [k.common for k in kept], ndcg)
    for name, model in inputs.items():
        cancel_point()
        found: dict[str, PeopleBeyondSpread] = {}
        for group in GROUPS:
            users = prepared.groups.get(group)
            if model.sample is not None and group in model.sample:
                users = np.intersect1d(users, model.sample[group])
            values = model.measured.per_user.get(group, {}).get("ndcg@10")
            own = (model.measured.users[group], values) if values is not None else None
            found[group] = spread.people_beyond(floors, group, users, model.top10, own)
        reports[name].beyond_spread = found


# --- the per-person test: helper A2's pure functions (core/attacks/per_person.py), called here only ---
def _person_probes(config: ExperimentConfig, prepared: Prepared):
    """(the people and probes of the per-person test, notes); probes None when nobody can be scored."""
    from core.attacks.per_person import person_probes

    probes = person_probes(prepared.dataset, prepared.split, prepared.request, seed=config.split.seed)
    if len(probes.users) == 0:
        return None, [f"no per-person test: {'; '.join(probes.notes) or 'no forgotten person can be scored'}"]
    return probes, list(probes.notes)


def _person_scores(model, probes, item_side=None):
    from core.attacks.per_person import person_scores

    return None if probes is None else person_scores(model, probes, item_side=item_side)


def _person_tests(
    config: ExperimentConfig,
    prepared: Prepared,
    inputs: dict[str, ModelInputs],
    reports: dict[str, ModelReport],
    probes,
    ins: list[dict],
    kept: list[_Kept],
) -> None:
    """Every model's per-person test: the reference bases "trained on them", the reference retrainings not."""
    from core.attacks.per_person import person_tests

    outs = [k.scores for k in kept]
    user_ids = [str(u) for u in prepared.dataset.user_ids[probes.users]]
    for name, model in inputs.items():
        cancel_point()
        target = _person_scores(model.scorer, probes, item_side=model.item_side)
        reports[name].person_tests = person_tests(target, ins, outs, user_ids, seed=config.split.seed)
