"""A request stream: K deletion requests applied one after another to the same model.

Step k draws ``request`` (e.g. ``users:random:0.005``, seed + k) among what is still
retained, so the steps never overlap. Retraining from scratch on what remains after
step k is the reference. A method that declares ``sequential_requests`` unlearns only
step k's rows, starting from its own model of step k − 1 (set-up once, before the
first request). Any other method must start again from the base model with every
request so far, and pays that in its per-request latency. Per step and method: latency,
cumulative cost (set-up included), and drift from retraining.

Built on the runner's own pieces (``prepare``, ``train_base``, ``Trainer``, the
evaluation), not on ``run_experiment``: no change to the runner.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from core.config import ExperimentConfig
from core.data.dataset import Dataset
from core.errors import ConfigError
from core.forget_request import ResolvedRequest, resolve_request
from core.split import Split

SEQUENTIAL = "sequential_requests"
MAX_STEPS = 1000


@dataclass(frozen=True)
class StreamStep:
    """One method after one request (also the event sent as it is measured)."""

    method: str
    step: int  # 1-based
    mode: str  # "incremental" (sequential_requests) or "from base" (every request so far, again)
    latency_s: float  # this request's unlearning wall time
    cumulative_s: float  # set-up + every latency so far
    removed_rows: int  # training rows forgotten so far
    retain_ndcg: float  # retain/ndcg@10
    forgotten_recall: float  # forgotten_recall@10 over every user forgotten so far
    drift_ndcg: float  # retain/ndcg@10 minus retraining's at this step
    drift_top10: float  # 1 − mean top-10 Jaccard with retraining's lists, retained users


@dataclass
class StreamResult:
    request: str
    dataset: str
    steps: list[StreamStep] = field(default_factory=list)
    setup_s: dict[str, float] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)

    def of(self, method: str) -> list[StreamStep]:
        return [s for s in self.steps if s.method == method]

    def as_dict(self) -> dict:
        return {
            "request": self.request,
            "dataset": self.dataset,
            "setup_s": self.setup_s,
            "modes": self.modes,
            "steps": [asdict(s) for s in self.steps],
        }


def step_requests(dataset: Dataset, split: Split, config: ExperimentConfig, n_steps: int) -> list[ResolvedRequest]:
    """Each step's request, drawn among the training rows the earlier steps left; its
    ``retained_rows`` are what remains after it (cumulative)."""
    out, current = [], split
    for k in range(n_steps):
        request = replace(config.request, seed=config.request.seed + k)
        resolved = resolve_request(dataset, current, request)
        out.append(resolved)
        current = replace(current, train=resolved.retained_rows)
    return out


def merged(dataset: Dataset, steps: list[ResolvedRequest]) -> ResolvedRequest:
    """Every request so far as one: what a method without ``sequential_requests`` redoes."""
    removed = np.sort(np.concatenate([s.removed_rows for s in steps]))
    return ResolvedRequest(
        request=steps[-1].request,
        removed_rows=removed,
        retained_rows=steps[-1].retained_rows,
        forget_users=np.unique(dataset.users[removed]),
        forget_items=np.unique(dataset.items[removed]),
        target_users=np.unique(np.concatenate([s.target_users for s in steps])),
        target_items=np.unique(np.concatenate([s.target_items for s in steps])),
    )


def _timed(device: torch.device, fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - t


def run_stream(
    config: ExperimentConfig, n_steps: int, on_event=None, should_stop=None, dataset: Dataset | None = None
) -> StreamResult:
    """Apply ``n_steps`` requests to every method of ``config``; retraining is always measured."""
    from core.base_model import train_base
    from core.device import resolve_device
    from core.events import Reporter
    from core.fit_loop import warm_up
    from core.methods.registry import get_method
    from core.runner import load_data, prepare
    from core.sweeps.stream_steps import StreamState, measure_step, step_context

    config.validate()
    if not 1 <= n_steps <= MAX_STEPS:
        raise ConfigError(f"a stream has 1 to {MAX_STEPS} requests, got {n_steps}")
    warm_up()  # torch's one-off optimiser import, before any timed request
    reporter = Reporter(on_event, should_stop)
    ds = dataset if dataset is not None else load_data(config)
    torch.manual_seed(config.split.seed)
    start = prepare(config, ds)
    device = resolve_device(config.device)
    base, _, _ = train_base(config, start, device, reporter.sub(0.0, 0.1))
    requests = step_requests(ds, start.split, config, n_steps)
    result = StreamResult(config.request.describe(), ds.name)
    states = []
    for choice in config.methods:
        spec = get_method(choice.name)
        mode = "incremental" if spec.has(SEQUENTIAL) else "from base"
        states.append(StreamState(spec, spec.validate(choice.params, demo=config.data.is_demo), mode, base))
        result.modes[spec.name] = mode
    for k in range(n_steps):
        sub = reporter.sub(0.1 + 0.9 * k / n_steps, 0.1 + 0.9 * (k + 1) / n_steps)
        so_far = merged(ds, requests[: k + 1])
        data = prepare_step(config, start, so_far)
        torch.manual_seed(config.split.seed + k)
        reference, retrain_s = _timed(device, data.trainer(device), so_far.retained_rows)
        for state in states:
            reporter.check()
            torch.manual_seed(config.split.seed + k)
            if state.spec.name == "retrain":
                model, seconds = reference, retrain_s
            else:
                request = requests[k] if state.mode == "incremental" else so_far
                ctx = step_context(
                    config,
                    data,
                    request,
                    state.model if state.mode == "incremental" else base,
                    device,
                    sub.for_model(state.spec.name),
                )
                if state.prepared is None and state.spec.prepare is not None:
                    state.prepared, result.setup_s[state.spec.name] = _timed(
                        device, state.spec.prepare, ctx, state.params
                    )
                outcome, seconds = _timed(device, state.spec.unlearn, ctx, state.params, state.prepared)
                model = outcome.model
                state.sample = outcome.eval_sample
            state.model, state.total_s = model, state.total_s + seconds
            step = measure_step(state, k + 1, seconds, result.setup_s.get(state.spec.name, 0.0), data, reference)
            result.steps.append(step)
            reporter.emit(step)
    return result


def prepare_step(config: ExperimentConfig, start, so_far: ResolvedRequest):
    """The runner's ``Prepared`` for the requests so far (groups and targets recomputed)."""
    from core.evaluation.grouped import make_targets
    from core.groups import make_groups
    from core.runner import Prepared

    groups = make_groups(start.dataset, start.split, so_far, config.similar_top_n)
    targets = make_targets(start.dataset, start.split, so_far, groups, config.ks)
    return _StepData(Prepared(start.dataset, start.split, so_far, groups, targets), config)


@dataclass
class _StepData:
    prepared: object  # core.runner.Prepared
    config: ExperimentConfig

    def trainer(self, device: torch.device):
        from core.base_model import Trainer

        return Trainer(self.config, self.prepared, device)
