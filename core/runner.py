"""``run_experiment``: load → split → base model → request → methods → evaluate → result.

One split, one request, one mask and one metric code path for every model. The UI
passes ``on_event`` (receives :mod:`core.events`) and ``should_stop``; cancellation
raises :class:`~core.errors.Cancelled` between steps and nothing half-done is stored.
"""

from __future__ import annotations

import platform
import time
import uuid
from dataclasses import dataclass, replace

import numpy as np
import torch

import core
from core.base_model import Trainer, train_base
from core.cancel import cancellable
from core.config import ExperimentConfig, MethodChoice
from core.data.dataset import Dataset
from core.device import describe_device, resolve_device
from core.errors import Cancelled
from core.evaluation.grouped import EvalSample, EvalTargets, evaluate_model, make_targets, top_lists
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
from core.fit_loop import warm_up
from core.forget_request import ResolvedRequest, resolve_request
from core.groups import GROUPS, Groups, make_groups
from core.methods.registry import MethodSpec, UnlearnContext, UnlearnOutcome, get_method
from core.models.base import Scorer
from core.models.item_side import HasItemSide
from core.result import CurveRecorder, ModelReport, RunResult
from core.split import Split, make_split


@dataclass
class Prepared:
    """Data side of an experiment: what every model of the run shares."""

    dataset: Dataset
    split: Split
    request: ResolvedRequest
    groups: Groups
    targets: EvalTargets

    @property
    def retrain_valid_rows(self) -> np.ndarray:
        """Validation rows of users not being forgotten: what retraining (and any method)
        may stop early or tune on, so nothing depends on a forgotten user."""
        valid = self.split.valid
        return valid[~np.isin(self.dataset.users[valid], self.request.forget_users)]


def load_data(config: ExperimentConfig) -> Dataset:
    from core.data.loaders import load_dataset

    d = config.data
    return load_dataset(
        d.path,
        fmt=d.fmt,
        columns=d.columns,
        sep=d.sep,
        implicit_threshold=d.implicit_threshold,
        k_core=d.k_core,
    )


def prepare(config: ExperimentConfig, dataset: Dataset | None = None) -> Prepared:
    """Split, resolve the request and compute the groups (cheap: also used for previews)."""
    dataset = dataset if dataset is not None else load_data(config)
    split = make_split(dataset, config.split)
    request = resolve_request(dataset, split, config.request)
    groups = make_groups(dataset, split, request, config.similar_top_n)
    targets = make_targets(dataset, split, request, groups, config.ks)
    return Prepared(dataset, split, request, groups, targets)


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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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
    try:
        with cancellable(reporter.check):  # long numeric stages stop within a batch
            result = _Experiment(config, reporter, dataset).run(specs, params, run_id, started)
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


class _Experiment:
    """One run, step by step: data, base model, each method, the attack, the result."""

    def __init__(self, config: ExperimentConfig, reporter: Reporter, dataset: Dataset | None) -> None:
        self.config = config
        self.reporter = reporter
        self.dataset = dataset
        self.timings: dict[str, float] = {}
        self.models: dict[str, ModelReport] = {}
        self.scorers: dict[str, Scorer] = {}
        self.samples: dict[str, EvalSample] = {}
        self.topk: dict[str, np.ndarray] = {}
        self.evidence_inputs: dict[str, ModelInputs] = {}

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
        span = 0.55 / max(1, len(specs))
        for index, (spec, values) in enumerate(zip(specs, params)):
            reporter.stage(f"Unlearning with {spec.label}", 4 + index, total)
            sub = reporter.sub(0.35 + index * span, 0.35 + (index + 1) * span).for_model(spec.name)
            self._run_method(spec, values, base, sub)
        self._same_sample_references()
        self._speedups()
        reporter.stage("Forgetting evidence: intervals, agreement, membership attacks", total - 1, total)
        self._forgetting_evidence(attacks=config.mia)
        reporter.stage("Done", total, total)
        reporter.progress(1.0, "done")
        return self._result(run_id, started)

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
        self.prepared = prepare(self.config, ds)
        self.timings["split_s"] = time.perf_counter() - t
        g = self.prepared.groups
        reporter.log(
            f"request: {self.config.request.describe()} → {len(self.prepared.request.removed_rows)} rows, "
            f"{len(self.prepared.request.forget_users)} users; groups retain={len(g.retain)} "
            f"forget={len(g.forget)} similar={len(g.similar)}"
        )

    def _context(self, base: Scorer, reporter: Reporter) -> UnlearnContext:
        p = self.prepared
        return UnlearnContext(
            dataset=p.dataset,
            split=p.split,
            request=p.request,
            groups=p.groups,
            base_model=base,
            model_config=self.config.model,
            device=self.device,
            reporter=reporter,
            seed=self.config.split.seed,
            train_model=Trainer(self.config, p, self.device),
            targets=p.targets,
            retrain_valid_rows=p.retrain_valid_rows,
            use_cache=self.config.use_cache,
        )

    def _run_method(self, spec: MethodSpec, values: dict, base: Scorer, reporter: Reporter) -> None:
        """``prepare`` (timed apart), then ``unlearn`` (the method's cost), then evaluation."""
        ctx = self._context(base, reporter)
        prep_s, prepared_state = 0.0, None
        if spec.prepare is not None:
            t = time.perf_counter()
            prepared_state = spec.prepare(ctx, values)
            _sync(self.device)
            prep_s = time.perf_counter() - t
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        t = time.perf_counter()
        outcome = spec.unlearn(ctx, values, prepared_state)
        _sync(self.device)
        seconds = time.perf_counter() - t
        peak = torch.cuda.max_memory_allocated(self.device) / 2**20 if self.device.type == "cuda" else None
        self._record(spec.name, spec.label, outcome, time_s=seconds, prep_time_s=prep_s, peak_memory_mb=peak)
        self.reporter.log(f"{spec.label}: unlearning took {seconds:.2f} s")

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
                extras = self.models[name].extras
                for group, metrics in measured.groups.items():
                    for metric in ("hit@10", "ndcg@10"):
                        extras[f"same_sample/{ref}/{group}/{metric}"] = metrics[metric]
                extras[f"same_sample/{ref}/forgotten_recall@10"] = measured.forgotten_recall["forgotten_recall@10"]

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
            self.reporter.emit(ModelResultEvent(name, report.groups, {}, intervals=dict(found.intervals)))
            for attack, entry in found.attacks.items():
                interval = entry["interval"]
                self.reporter.emit(AttackResultEvent(name, attack, entry["auc"], interval["low"], interval["high"]))

    def _result(self, run_id: str, started: float) -> RunResult:
        p, ds = self.prepared, self.prepared.dataset
        return RunResult(
            run_id=run_id,
            config=self.config.to_dict(),
            dataset={**ds.summary().as_dict(), "fingerprint": ds.fingerprint(), "source": ds.source},
            split=p.split.as_dict(),
            request=p.request.as_dict(),
            groups={
                **p.groups.as_dict(),
                "users": {name: p.groups.get(name).tolist() for name in GROUPS},
                "forget_users_all": p.request.forget_users.tolist(),
                "forget_items": p.request.forget_items.tolist(),
                "outsiders": p.split.outsiders.tolist(),
            },
            models=self.models,
            environment=_environment(self.device),
            timings=self.timings,
            topk=self.topk,
            started_at=started,
            finished_at=time.time(),
        )
