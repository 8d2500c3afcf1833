"""A request stream: K deletion requests applied one after another to the same model.

Step k draws ``request`` (e.g. ``users:random:0.005``, seed + k) among what is still
retained, so the steps never overlap. Retraining from scratch on what remains after
step k is the reference. A method that declares ``sequential_requests`` unlearns only
step k's rows, starting from its own model of step k − 1 (set-up once, before the
first request). Any other method must start again from the base model with every
request so far, and pays that in its per-request latency. Per step and method: latency,
cumulative cost (set-up included), and drift from retraining.

Each method runs through the experiment's own method step
(:func:`core.experiment.method_step.run_method_step`): the same context, cache switch and
timing as in an experiment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from core.config import ExperimentConfig
from core.data.dataset import Dataset
from core.device import resolve_device
from core.errors import ConfigError
from core.events import Reporter
from core.experiment.base_model import Trainer, train_base
from core.experiment.data import load_data, prepare_data
from core.experiment.method_step import method_context, run_method_step, timed
from core.fit_loop import warm_up
from core.forget_request import ResolvedRequest, resolve_request
from core.methods.registry import get_method
from core.split import Split
from core.sweeps.stream_steps import StreamState, StreamStep, measure_step

__all__ = ["StreamResult", "StreamStep", "run_stream", "step_requests", "merged", "MAX_STEPS"]

SEQUENTIAL = "sequential_requests"
MAX_STEPS = 1000


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


def run_stream(
    config: ExperimentConfig, n_steps: int, on_event=None, should_stop=None, dataset: Dataset | None = None
) -> StreamResult:
    """Apply ``n_steps`` requests to every method of ``config``; retraining is always measured."""
    config.validate()
    if not 1 <= n_steps <= MAX_STEPS:
        raise ConfigError(f"a stream has 1 to {MAX_STEPS} requests, got {n_steps}")
    warm_up()  # torch's one-off optimiser import, before any timed request
    reporter = Reporter(on_event, should_stop)
    ds = dataset if dataset is not None else load_data(config)
    torch.manual_seed(config.split.seed)
    start = prepare_data(config, ds)
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
        data = start.with_request(so_far, config.similar_top_n, config.ks)
        torch.manual_seed(config.split.seed + k)
        reference, retrain_s = timed(device, Trainer(config, data, device), so_far.retained_rows)
        for state in states:
            reporter.check()
            torch.manual_seed(config.split.seed + k)
            if state.spec.name == "retrain":
                model, seconds = reference, retrain_s
            else:
                model, seconds = _step(config, state, data, requests[k], base, device, sub, result)
            state.model, state.total_s = model, state.total_s + seconds
            step = measure_step(state, k + 1, seconds, result.setup_s.get(state.spec.name, 0.0), data, reference)
            result.steps.append(step)
            reporter.emit(step)
    return result


def _step(config, state: StreamState, data, request: ResolvedRequest, base, device, reporter, result: StreamResult):
    """One request through the method step every run uses: an incremental method unlearns
    this request from its own latest model; any other starts again from the base with every
    request so far. The set-up is paid once, at the first request."""
    incremental = state.mode == "incremental"
    ctx = method_context(
        config,
        data,
        state.model if incremental else base,
        device,
        reporter.for_model(state.spec.name),
        request=request if incremental else None,
    )
    step = run_method_step(state.spec, state.params, ctx, state.prepared, set_up=not state.set_up)
    if not state.set_up:
        state.prepared, state.set_up = step.prepared_state, True
        if state.spec.prepare is not None:
            result.setup_s[state.spec.name] = step.prep_s
    state.sample = step.outcome.eval_sample
    return step.outcome.model, step.seconds
