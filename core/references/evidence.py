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
from core.references.ensemble import Ensemble, build_ensemble
from core.references.results import PeopleBeyondSpread, ReferenceSummary
from core.references.settings import references_for
from core.result import ModelReport


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
    reference costs (the run's base or retrain time), for choosing where they train."""
    r = references_for(config.references, config.data.is_demo)
    if r <= 0:
        return None
    start = time.perf_counter()
    reporter.progress(0.0, f"reference ensemble: {r} retrainings and {r} base models")
    ensemble = build_ensemble(
        config, prepared, device, r, reporter.sub(0.0, 0.8), executor=executor, expected_task_s=expected_task_s
    )
    reporter.progress(0.8, "measuring the reference retrainings")
    measured = _measure(prepared, [ref.model for ref in ensemble.retrains], config, attacks=config.mia)
    summary = ReferenceSummary(
        r=r,
        retrain_seeds=[ref.seed for ref in ensemble.retrains],
        base_seeds=[ref.seed for ref in ensemble.bases],
        retrain_times_s=[ref.seconds for ref in ensemble.retrains],
        base_times_s=[ref.seconds for ref in ensemble.bases],
        from_cache=ensemble.from_cache,
        executor=ensemble.executor,
    )
    if "retrain" in reports:
        own = reports["retrain"].flat()
        summary.differences = spread.differences(own, [spread.figures(m, e.attacks) for m, e, _ in measured])
        summary.band = spread.band(summary.differences)
        reporter.progress(0.9, "people moved or hurt beyond retraining's spread")
        _beyond_spread(prepared, inputs, reports, measured)
    else:
        summary.notes.append("no band and no per-person spread: the run has no retrain of its own to compare with")
    reporter.progress(0.95, "a test for each forgotten person")
    summary.notes.extend(_person_tests(config, prepared, inputs, reports, ensemble))
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


def _measure(prepared: Prepared, models: list, config: ExperimentConfig, attacks: bool) -> list[tuple]:
    """(GroupedMetrics, ModelEvidence with the attacks, top-10 lists) of each reference retraining."""
    targets, n_users = prepared.targets, prepared.dataset.n_users
    inputs = {}
    for index, model in enumerate(models):
        cancel_point()
        measured = evaluate_model(model, targets)
        top10 = top_lists(model, n_users, targets.mask)
        side = model if isinstance(model, HasItemSide) else None
        inputs[f"reference-{index}"] = ModelInputs(scorer=model, measured=measured, top10=top10, item_side=side)
    evidence = {name: ModelEvidence() for name in inputs}
    if attacks and inputs:
        attack_evidence(prepared, inputs, config.split.seed, evidence)
    return [(inputs[name].measured, evidence[name], inputs[name].top10) for name in inputs]


def _beyond_spread(
    prepared: Prepared, inputs: dict[str, ModelInputs], reports: dict[str, ModelReport], measured: list[tuple]
) -> None:
    """Each model's people moved / hurt beyond retraining's spread, per group."""
    retrain = inputs["retrain"]
    ndcg = {}
    for group in GROUPS:
        own = retrain.measured.per_user.get(group, {}).get("ndcg@10")
        refs = [m.per_user.get(group, {}).get("ndcg@10") for m, _, _ in measured]
        if own is not None and group in retrain.measured.users and all(v is not None for v in refs):
            ndcg[group] = (retrain.measured.users[group], own, refs)
    floors = spread.floors(retrain.top10, [top10 for _, _, top10 in measured], ndcg)
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


def _person_tests(
    config: ExperimentConfig,
    prepared: Prepared,
    inputs: dict[str, ModelInputs],
    reports: dict[str, ModelReport],
    ensemble: Ensemble,
) -> list[str]:
    """A2's per-person test (core/attacks/per_person.py) under every model; notes on why not."""
    # --- the one call site of the per-person test (helper A2's pure functions) ---
    from core.attacks.per_person import person_probes, person_scores, person_tests

    ds, seed = prepared.dataset, config.split.seed
    probes = person_probes(ds, prepared.split, prepared.request, seed=seed)
    if len(probes.users) == 0:
        return [f"no per-person test: {'; '.join(probes.notes) or 'no forgotten person can be scored'}"]
    ins = [person_scores(ref.model, probes) for ref in ensemble.bases]
    outs = [person_scores(ref.model, probes) for ref in ensemble.retrains]
    user_ids = [str(u) for u in ds.user_ids[probes.users]]
    for name, model in inputs.items():
        cancel_point()
        target = person_scores(model.scorer, probes, item_side=model.item_side)
        reports[name].person_tests = person_tests(target, ins, outs, user_ids, seed=seed)
    return list(probes.notes)
