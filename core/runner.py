"""``run_experiment``: load → split → base model → request → methods → evaluate → result.

One split, one request, one mask and one metric code path for every model. The UI
passes ``on_event`` (receives :mod:`core.events`) and ``should_stop``; cancellation
raises :class:`~core.errors.Cancelled` between steps and nothing half-done is stored.
"""

from __future__ import annotations

import platform
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

import core
from core.config import ExperimentConfig
from core.data.dataset import Dataset
from core.device import describe_device, resolve_device
from core.errors import Cancelled, CragruError
from core.evaluation.grouped import EvalTargets, evaluate_model, make_targets, top_lists
from core.events import Event, EventSink, MetricEvent, ModelResultEvent, Reporter, StopFlag
from core.forget_request import ResolvedRequest, resolve_request
from core.groups import Groups, make_groups
from core.methods.registry import UnlearnContext, get_method
from core.model_cache import cache_key, cached_path
from core.models.base import EVAL_SAMPLE_ATTR, Scorer
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


class _Trainer:
    """Trains the experiment's architecture on any rows, with its hyper-parameters."""

    def __init__(self, config: ExperimentConfig, prepared: Prepared, device: torch.device) -> None:
        self.config = config
        self.prepared = prepared
        self.device = device

    def __call__(
        self,
        rows: np.ndarray,
        *,
        series: str = "train",
        reporter: Reporter | None = None,
        valid_rows: np.ndarray | None = None,
        epochs: int | None = None,
        model=None,
    ):
        from core.models.training import train_recommender

        ds = self.prepared.dataset
        if valid_rows is None:
            # Early stopping on the validation rows of users that are not being forgotten:
            # a retrained model must not be tuned on forgotten users.
            valid_rows = self.prepared.split.valid
            valid_rows = valid_rows[~np.isin(ds.users[valid_rows], self.prepared.request.forget_users)]
        return train_recommender(
            self.config.model,
            ds.n_users,
            ds.n_items,
            ds.users[rows],
            ds.items[rows],
            self.device,
            valid=(ds.users[valid_rows], ds.items[valid_rows]),
            reporter=reporter or Reporter(),
            series=series,
            model=model,
            epochs=epochs,
        )


def train_base(
    config: ExperimentConfig, prepared: Prepared, device: torch.device, reporter: Reporter
) -> tuple[Scorer, float, bool]:
    """The base model on all of train; cached on disk with its training curve, which is
    replayed when the cached model is used. Returns (model, seconds, from_cache)."""
    from core.models.persistence import load_model_and_curves, save_model
    from core.models.training import train_recommender

    ds, split = prepared.dataset, prepared.split
    key = cache_key(ds.fingerprint(), split.as_dict(), config.model.as_dict(), device.type)
    path = cached_path(key)
    if config.use_cache and path.exists():
        try:
            model, curves = load_model_and_curves(path, device)
        except Exception as exc:  # a corrupt cache entry is retrained, not fatal
            reporter.log(f"ignoring unreadable cached model {path.name}: {exc}", "warning")
        else:
            reporter.log(f"base model loaded from cache ({path.name})")
            for series, points in curves.items():
                for point in points:
                    reporter.metric(series, int(point["step"]), **{k: v for k, v in point.items() if k != "step"})
            return model, 0.0, True
    start = time.perf_counter()
    recorder = CurveRecorder()

    def keep(event: Event) -> None:
        if isinstance(event, MetricEvent):
            recorder.add(event.series, event.step, event.values)

    model = train_recommender(
        config.model,
        ds.n_users,
        ds.n_items,
        ds.users[split.train],
        ds.items[split.train],
        device,
        valid=(ds.users[split.valid], ds.items[split.valid]),
        reporter=reporter.tee(keep),
        series="train/base",
    )
    seconds = time.perf_counter() - start
    if config.use_cache:
        save_model(model, path, curves=recorder.curves())
    return model, seconds, False


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
    params = [spec.validate(m.params) for spec, m in zip(specs, config.methods)]
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
        result = _run(config, specs, params, reporter, run_id, started, dataset)
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


def _run(config, specs, params, reporter: Reporter, run_id, started, dataset) -> RunResult:
    total = 4 + len(specs) + (1 if config.mia else 0)
    timings: dict[str, float] = {}
    torch.manual_seed(config.split.seed)

    reporter.stage("Loading data", 1, total)
    t = time.perf_counter()
    if dataset is None:
        dataset = load_data(config)
    timings["load_s"] = time.perf_counter() - t
    reporter.log(f"dataset {dataset.name}: {dataset.n_users} users, {dataset.n_items} items, "
                 f"{dataset.n_interactions} interactions")

    reporter.stage("Splitting and resolving the forget request", 2, total)
    t = time.perf_counter()
    prepared = prepare(config, dataset)
    timings["split_s"] = time.perf_counter() - t
    g = prepared.groups
    reporter.log(f"request: {config.request.describe()} → {len(prepared.request.removed_rows)} rows, "
                 f"{len(prepared.request.forget_users)} users; groups retain={len(g.retain)} "
                 f"forget={len(g.forget)} similar={len(g.similar)}")

    device = resolve_device(config.device)
    reporter.stage(f"Training the base {config.model.name} model on {describe_device(device)}", 3, total)
    base, base_s, cached = train_base(config, prepared, device, reporter.sub(0.0, 0.35))
    timings["base_train_s"] = base_s
    models: dict[str, ModelReport] = {}
    scorers: dict[str, Scorer] = {"base": base}
    topk: dict[str, list[list[int]]] = {}

    def record(name: str, label: str, scorer: Scorer, **fields) -> ModelReport:
        sample = getattr(scorer, EVAL_SAMPLE_ATTR, None)
        measured = evaluate_model(scorer, prepared.targets, sample)
        if sample is not None:
            sizes = ", ".join(f"{k} {len(v)}" for k, v in sample.items())
            fields.setdefault("notes", []).append(f"measured on a user sample ({sizes})")
        report = ModelReport(
            name=name,
            label=label,
            groups=measured.groups,
            forgotten_recall=measured.forgotten_recall,
            per_user=measured.per_user,
            **fields,
        )
        models[name] = report
        topk[name] = top_lists(scorer, dataset.n_users, prepared.targets.mask)
        late = getattr(scorer, "late_extras", None)  # figures known only after evaluation
        if callable(late):
            report.extras.update(late())
        reporter.emit(ModelResultEvent(name, report.groups, {**report.forgotten_recall, "time_s": report.time_s}))
        return report

    record("base", "Base (trained on all data)", base, time_s=base_s,
           notes=["loaded from cache"] if cached else [])

    trainer = _Trainer(config, prepared, device)
    span = 0.55 / max(1, len(specs))
    for index, (spec, values) in enumerate(zip(specs, params)):
        sub = reporter.sub(0.35 + index * span, 0.35 + (index + 1) * span)
        reporter.stage(f"Unlearning with {spec.label}", 4 + index, total)
        ctx = UnlearnContext(
            dataset=dataset,
            split=prepared.split,
            request=prepared.request,
            groups=prepared.groups,
            base_model=base,
            model_config=config.model,
            device=device,
            reporter=sub,
            seed=config.split.seed,
            train_model=trainer,
        )
        prep_s = 0.0
        prepared_state = None
        if spec.prepare is not None:
            t = time.perf_counter()
            prepared_state = spec.prepare(ctx, values)
            _sync(device)
            prep_s = time.perf_counter() - t
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t = time.perf_counter()
        outcome = spec.unlearn(ctx, values, prepared_state)
        _sync(device)
        seconds = time.perf_counter() - t
        peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
        scorers[spec.name] = outcome.model
        record(spec.name, spec.label, outcome.model, time_s=seconds, prep_time_s=prep_s,
               peak_memory_mb=peak, extras=dict(outcome.extras), notes=list(outcome.notes))
        reporter.log(f"{spec.label}: unlearning took {seconds:.2f} s")

    _same_sample_references(prepared, scorers, models)
    retrain = models.get("retrain")
    for report in models.values():
        if retrain is not None and report.name not in ("base", "retrain") and report.time_s > 0:
            report.speedup_vs_retrain = retrain.time_s / report.time_s
        elif report.name == "retrain":
            report.speedup_vs_retrain = 1.0

    if config.mia:
        reporter.stage("Membership inference", total - 1, total)
        _membership_inference(config, prepared, scorers, models, reporter)

    reporter.stage("Done", total, total)
    reporter.progress(1.0, "done")
    return RunResult(
        run_id=run_id,
        config=config.to_dict(),
        dataset={**dataset.summary().as_dict(), "fingerprint": dataset.fingerprint(), "source": dataset.source},
        split=prepared.split.as_dict(),
        request=prepared.request.as_dict(),
        groups={
            **prepared.groups.as_dict(),
            "users": {name: prepared.groups.get(name).tolist() for name in ("retain", "forget", "similar")},
            "forget_users_all": prepared.request.forget_users.tolist(),
            "forget_items": prepared.request.forget_items.tolist(),
            "outsiders": prepared.split.outsiders.tolist(),
        },
        models=models,
        environment=_environment(device),
        timings=timings,
        topk=topk,
        started_at=started,
        finished_at=time.time(),
    )


def _same_sample_references(prepared: Prepared, scorers: dict, models: dict) -> None:
    """For sampled models, base and retrain measured on the same users, so deltas are fair."""
    for name, scorer in scorers.items():
        sample = getattr(scorer, EVAL_SAMPLE_ATTR, None)
        if sample is None:
            continue
        for ref in ("base", "retrain"):
            if ref not in scorers:
                continue
            measured = evaluate_model(scorers[ref], prepared.targets, sample)
            for group, metrics in measured.groups.items():
                for metric in ("hit@10", "ndcg@10"):
                    models[name].extras[f"same_sample/{ref}/{group}/{metric}"] = metrics[metric]
            models[name].extras[f"same_sample/{ref}/forgotten_recall@10"] = measured.forgotten_recall[
                "forgotten_recall@10"
            ]


def _membership_inference(config, prepared, scorers, models, reporter) -> None:
    """Fill ``mia_auc`` for every model once the attack module exists."""
    try:
        from core.mia import membership_auc_for_models
    except ImportError:
        reporter.log("membership inference is not available in this build", "warning")
        return
    try:
        aucs = membership_auc_for_models(prepared, scorers, seed=config.split.seed)
    except CragruError as exc:
        reporter.log(f"membership inference skipped: {exc}", "warning")
        return
    for name, auc in aucs.items():
        if name in models:
            models[name].mia_auc = auc
            reporter.emit(ModelResultEvent(name, models[name].groups, {"mia_auc": auc}))


ProgressCallback = Callable[[float, str], None]
