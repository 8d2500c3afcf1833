"""``run_experiment``: load → split → base model → request → methods → evaluate → result.

One split, one request, one mask and one metric code path for every model. The UI
passes ``on_event`` (receives :mod:`core.events`) and ``should_stop``; cancellation
raises :class:`~core.errors.Cancelled` between steps. Each finished model is stored in
the history as the run goes (``store``), so a crash or a kill loses at most the step
that was running.
"""

from __future__ import annotations

import platform
import time
import uuid
from dataclasses import replace
from typing import Callable

import numpy as np
import torch

import core
from core.cancel import cancellable
from core.config import ExperimentConfig, MethodChoice
from core.data.dataset import Dataset
from core.device import describe_device, resolve_device
from core.errors import Cancelled, keeping_finished
from core.evaluation.grouped import EvalSample, evaluate_model, top_lists
from core.events import (
    AttackResultEvent,
    Event,
    EventSink,
    MetricEvent,
    ModelResultEvent,
    Reporter,
    StopFlag,
)
from core.evidence import ModelInputs, agreement_evidence, attack_evidence, utility_evidence
from core.experiment.base_model import train_base
from core.experiment.data import load_data, prepare_data
from core.experiment.method_step import method_context, run_method_step
from core.fit_loop import warm_up
from core.groups import GROUPS
from core.methods.registry import MethodSpec, UnlearnOutcome, get_method
from core.models.base import Scorer
from core.models.item_side import HasItemSide
from core.result import CurveRecorder, ModelReport, RunResult
from core.weights_digest import weights_sha256

PARTIAL_TOPK_USERS = 100_000
"""Above this many users the partial results stored after each model leave out the top-10
lists (tens of MB a model); the final result always has them."""


def _evidence_inputs(outcome: UnlearnOutcome, measured, top10: np.ndarray) -> ModelInputs:
    """What the evidence needs of a model; the fold-in attack uses its own item side, or
    the one of the model it says it keeps (an LLM re-ranker), or none at all."""
    side, note = None, ""
    if isinstance(outcome.model, HasItemSide):
        side = outcome.model
    elif isinstance(outcome.fold_in_model, HasItemSide):
        side, note = outcome.fold_in_model, "measured on the base model this method re-ranks (it has no item side)"
    return ModelInputs(
        scorer=outcome.model,
        measured=measured,
        top10=top10,
        sample=outcome.eval_sample,
        item_side=side,
        item_side_note=note,
    )


def _environment(device: torch.device) -> dict:
    return {
        "device": describe_device(device),
        "device_type": device.type,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "code_version": core.__version__,
    }


def run_experiment(
    config: ExperimentConfig,
    on_event: EventSink | None = None,
    should_stop: StopFlag | None = None,
    *,
    dataset: Dataset | None = None,
    store=None,
) -> RunResult:
    """Run a whole experiment. ``store`` (a :class:`core.history.RunStore`) records it.

    Every curve point sent to ``on_event`` is also kept in ``RunResult.curves``, so a run
    opened later from history shows the same training curves as it did live.
    """
    config.validate()
    specs = [get_method(m.name) for m in config.methods]
    params = [spec.validate(m.params, demo=config.data.is_demo) for spec, m in zip(specs, config.methods)]
    # the run records every value it used (demo preset and defaults included), not just the ones given
    config = replace(config, methods=tuple(MethodChoice(m.name, p) for m, p in zip(config.methods, params)))
    recorder = CurveRecorder()

    def sink(event: Event) -> None:
        if isinstance(event, MetricEvent):
            recorder.add(event.series, event.step, event.values)
        if on_event is not None:
            on_event(event)

    reporter = Reporter(sink, should_stop)
    run_id = uuid.uuid4().hex[:12]
    started = time.time()
    if store is not None:
        store.begin(run_id, config.to_dict(), started)

    def keep_partial(result: RunResult, name: str) -> None:
        result.curves = recorder.curves()
        _save_partial(store, result, name, reporter)

    try:
        with cancellable(reporter.check):  # long numeric stages stop within a batch
            experiment = _Experiment(config, reporter, dataset, keep_partial if store is not None else None)
            result = experiment.run(specs, params, run_id, started)
        result.curves = recorder.curves()
    except (Cancelled, KeyboardInterrupt):
        if store is not None:
            store.finish_cancelled(run_id)
        raise
    except Exception as exc:
        if store is not None:
            store.finish_failed(run_id, str(exc))
        raise
    if store is not None:
        store.finish_done(result)
    return result


def _save_partial(store, result: RunResult, name: str, reporter: Reporter) -> None:
    """Store model ``name`` as it finishes; a history that cannot take it costs the partial
    copy, not the run."""
    include_topk = int(result.dataset.get("n_users", 0)) <= PARTIAL_TOPK_USERS
    try:
        store.save_partial(result, [name], include_topk=include_topk)
    except Exception as exc:  # noqa: BLE001 - the run goes on; the final result is still written
        reporter.log(f"could not store the partial result in the history: {exc}", "warning")


class _Experiment:
    """One run, step by step: data, base model, each method, the attack, the result."""

    def __init__(
        self,
        config: ExperimentConfig,
        reporter: Reporter,
        dataset: Dataset | None,
        keep_partial: Callable[[RunResult, str], None] | None = None,
    ) -> None:
        self.config = config
        self.reporter = reporter
        self.dataset = dataset
        self.keep_partial = keep_partial
        self.timings: dict[str, float] = {}
        self.models: dict[str, ModelReport] = {}
        self.scorers: dict[str, Scorer] = {}
        self.samples: dict[str, EvalSample] = {}
        self.topk: dict[str, np.ndarray] = {}
        self.evidence_inputs: dict[str, ModelInputs] = {}
        self.digests: dict[str, str | None] = {}  # model -> SHA-256 of its weights (the receipt's)

    def run(self, specs: list[MethodSpec], params: list[dict], run_id: str, started: float) -> RunResult:
        config, reporter = self.config, self.reporter
        total = 5 + len(specs)
        warm_up()  # torch's one-off optimiser import, once, before any timed step
        torch.manual_seed(config.split.seed)
        self._load_and_prepare(total)
        self.device = resolve_device(config.device)
        reporter.stage(f"Training the base {config.model.name} model on {describe_device(self.device)}", 3, total)
        base, base_s, cached = train_base(config, self.prepared, self.device, reporter.sub(0.0, 0.35))
        self.timings["base_train_s"] = base_s
        self._record(
            "base",
            "Base (trained on all data)",
            UnlearnOutcome(base, notes=["loaded from cache"] if cached else []),
            time_s=base_s,
        )
        if self.keep_partial is not None:
            self.keep_partial(self._result(run_id, started), "base")
        span = 0.55 / max(1, len(specs))
        for index, (spec, values) in enumerate(zip(specs, params)):
            reporter.stage(f"Unlearning with {spec.label}", 4 + index, total)
            sub = reporter.sub(0.35 + index * span, 0.35 + (index + 1) * span).for_model(spec.name)
            with keeping_finished(spec.name, lambda: replace(self._result(run_id, started), partial=True)):
                self._run_method(spec, values, base, sub)
            if self.keep_partial is not None:
                self.keep_partial(self._result(run_id, started), spec.name)
        self._same_sample_references()
        self._speedups()
        reporter.stage("Forgetting evidence: intervals, agreement, membership attacks", total - 1, total)
        self._forgetting_evidence(attacks=config.mia)
        references = self._reference_evidence(total)
        from core.breakdown.measure import run_breakdown  # who else was affected, by user attribute

        breakdown = run_breakdown(
            self.prepared, self.scorers, self.topk, self.samples, config.split.seed, reporter.log, reports=self.models
        )
        reporter.stage("Done", total, total)
        reporter.progress(1.0, "done")
        return replace(self._result(run_id, started), breakdown=breakdown, references=references)

    def _reference_evidence(self, total: int):
        """The reference ensemble (core/references): retraining's own spread, the people moved
        or hurt beyond it, a test for each forgotten person. None when R is 0."""
        from core.references.evidence import reference_evidence
        from core.references.settings import references_for

        r = references_for(self.config.references, self.config.data.is_demo)
        self.config = replace(self.config, references=r)  # the run records the R it used
        if r == 0:
            return None
        self.reporter.stage(f"Reference ensemble: {r} more retrainings and base models (other seeds)", total - 1, total)
        retrain = self.models.get("retrain")
        expected = max(self.timings.get("base_train_s", 0.0), retrain.time_s if retrain is not None else 0.0)
        try:
            return reference_evidence(
                self.config,
                self.prepared,
                self.evidence_inputs,
                self.models,
                self.device,
                self.reporter.sub(0.9, 0.99),
                expected_task_s=expected,
            )
        except (Cancelled, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the methods' results stand; the verdicts then say "no ensemble"
            self.reporter.log(
                f"reference ensemble failed ({type(exc).__name__}: {exc}); the run keeps its results", "warning"
            )
            return None

    def _load_and_prepare(self, total: int) -> None:
        reporter = self.reporter
        reporter.stage("Loading data", 1, total)
        t = time.perf_counter()
        if self.dataset is None:
            self.dataset = load_data(self.config)
        self.timings["load_s"] = time.perf_counter() - t
        ds = self.dataset
        reporter.log(f"dataset {ds.name}: {ds.n_users} users, {ds.n_items} items, {ds.n_interactions} interactions")
        reporter.stage("Splitting and resolving the forget request", 2, total)
        t = time.perf_counter()
        self.prepared = prepare_data(self.config, ds)
        # once: every partial result stored as the run goes repeats it
        self.dataset_facts = {**ds.summary().as_dict(), "fingerprint": ds.fingerprint(), "source": ds.source}
        self.timings["split_s"] = time.perf_counter() - t
        g = self.prepared.groups
        reporter.log(
            f"request: {self.config.request.describe()} → {len(self.prepared.request.removed_rows)} rows, "
            f"{len(self.prepared.request.forget_users)} users; groups retain={len(g.retain)} "
            f"forget={len(g.forget)} similar={len(g.similar)}"
        )

    def _run_method(self, spec: MethodSpec, values: dict, base: Scorer, reporter: Reporter) -> None:
        """``prepare`` (timed apart), then ``unlearn`` (the method's cost), then evaluation."""
        ctx = method_context(self.config, self.prepared, base, self.device, reporter)
        step = run_method_step(spec, values, ctx)
        self._record(
            spec.name,
            spec.label,
            step.outcome,
            time_s=step.seconds,
            prep_time_s=step.prep_s,
            peak_memory_mb=step.peak_memory_mb,
        )
        self.reporter.log(f"{spec.label}: unlearning took {step.seconds:.2f} s")

    def _record(self, name: str, label: str, outcome: UnlearnOutcome, **fields) -> ModelReport:
        """Measure ``outcome.model`` on the shared targets (on its sample, if it has one)."""
        sample, targets = outcome.eval_sample, self.prepared.targets
        measured = evaluate_model(outcome.model, targets, sample)
        notes = list(outcome.notes)
        if sample is not None:
            notes.append("measured on a user sample (" + ", ".join(f"{k} {len(v)}" for k, v in sample.items()) + ")")
            self.samples[name] = sample
        report = ModelReport(
            name=name,
            label=label,
            groups=measured.groups,
            forgotten_recall=measured.forgotten_recall,
            per_user=measured.per_user,
            extras=dict(outcome.extras),
            notes=notes,
            **fields,
        )
        self.models[name] = report
        self.scorers[name] = outcome.model
        self.digests[name] = weights_sha256(outcome.model)
        top10 = top_lists(outcome.model, self.prepared.dataset.n_users, targets.mask)
        self.topk[name] = top10.astype(np.int32)  # compact in memory; lists only when written as JSON
        self.evidence_inputs[name] = _evidence_inputs(outcome, measured, top10)
        if outcome.late_extras is not None:  # figures known only after evaluation
            report.extras.update(outcome.late_extras())
        extras = {**report.forgotten_recall, "time_s": report.time_s, "prep_s": report.prep_time_s}
        self.reporter.emit(ModelResultEvent(name, report.groups, extras))
        return report

    def _same_sample_references(self) -> None:
        """For sampled models, base and retrain measured on the same users, so deltas are fair."""
        for name, sample in self.samples.items():
            for ref in ("base", "retrain"):
                if ref not in self.scorers:
                    continue
                measured = evaluate_model(self.scorers[ref], self.prepared.targets, sample)
                figures = self.models[name].same_sample.setdefault(ref, {})
                for group, metrics in measured.groups.items():
                    for metric in ("hit@10", "ndcg@10"):
                        figures[f"{group}/{metric}"] = metrics[metric]
                figures["forgotten_recall@10"] = measured.forgotten_recall["forgotten_recall@10"]

    def _speedups(self) -> None:
        retrain = self.models.get("retrain")
        for report in self.models.values():
            if report.name == "retrain":
                report.speedup_vs_retrain = 1.0
            elif retrain is not None and report.name != "base" and report.time_s > 0:
                report.speedup_vs_retrain = retrain.time_s / report.time_s

    def _forgetting_evidence(self, attacks: bool) -> None:
        """Intervals, paired differences, agreement with retrain and (``attacks``) the
        membership attacks: one computation for every model (core/evidence.py)."""
        seed, inputs = self.config.split.seed, self.evidence_inputs
        evidence = utility_evidence(inputs, seed)
        agreement_evidence(inputs, {g: self.prepared.groups.get(g) for g in GROUPS}, seed, evidence)
        notes = attack_evidence(self.prepared, inputs, seed, evidence) if attacks else []
        for note in notes:
            self.reporter.log(f"attack skipped: {note}", "warning")
        for name, found in evidence.items():
            report = self.models[name]
            report.intervals, report.differences, report.agreement = found.intervals, found.differences, found.agreement
            report.attacks, report.known_users = found.attacks, found.known_users
            intervals = {key: (b.low, b.high) for key, b in found.intervals.items()}
            self.reporter.emit(ModelResultEvent(name, report.groups, {}, intervals=intervals))
            for attack, entry in found.attacks.items():
                interval = entry.interval
                self.reporter.emit(AttackResultEvent(name, attack, entry.auc, interval.low, interval.high))

    def _result(self, run_id: str, started: float) -> RunResult:
        p = self.prepared
        return RunResult(
            run_id=run_id,
            config=self.config.to_dict(),
            dataset=self.dataset_facts,
            split=p.split.as_dict(),
            request=p.request.as_dict(),
            groups={
                **p.groups.as_dict(),
                "users": {name: p.groups.get(name).tolist() for name in GROUPS},
                "forget_users_all": p.request.forget_users.tolist(),
                "forget_items": p.request.forget_items.tolist(),
                "outsiders": p.split.outsiders.tolist(),
                # a sampled model's own users per group: its people counts are over them ("2 of 2")
                "samples": {n: {g: np.asarray(u).tolist() for g, u in s.items()} for n, s in self.samples.items()},
            },
            models=self.models,
            environment={**_environment(self.device), "weights_sha256": dict(self.digests)},
            timings=self.timings,
            topk=self.topk,
            started_at=started,
            finished_at=time.time(),
        )
