"""One method at one step of a request stream: its context, and how far it is from retraining."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.config import ExperimentConfig
from core.evaluation.agreement import overlap_per_user
from core.evaluation.full_sort import top_k
from core.evaluation.grouped import EvalSample, evaluate_model
from core.forget_request import ResolvedRequest
from core.methods.registry import MethodSpec, UnlearnContext
from core.sweeps.stream import StreamStep


@dataclass
class StreamState:
    """What a method carries from one request to the next."""

    spec: MethodSpec
    params: dict
    mode: str
    model: Any  # its latest model (the base before the first request)
    prepared: Any = None  # prepare's output, made once
    total_s: float = 0.0
    sample: EvalSample | None = None


def step_context(
    config: ExperimentConfig, data, request: ResolvedRequest, model, device: torch.device, reporter
) -> UnlearnContext:
    """The method's context at one step: ``request`` is this step's rows (incremental) or
    every request so far (from base); retained rows are always what remains."""
    p = data.prepared
    return UnlearnContext(
        dataset=p.dataset,
        split=p.split,
        request=request,
        groups=p.groups,
        base_model=model,
        model_config=config.model,
        device=device,
        reporter=reporter,
        seed=config.split.seed,
        train_model=data.trainer(device),
        targets=p.targets,
        retrain_valid_rows=p.retrain_valid_rows,
    )


def _retained_top10(model, users: np.ndarray, data) -> np.ndarray:
    return top_k(model, users, data.prepared.targets.mask, 10)


def measure_step(state: StreamState, step: int, seconds: float, setup_s: float, data, reference) -> StreamStep:
    """The step's figures; drift is against retraining on the same rows, same users."""
    targets = data.prepared.targets
    measured = evaluate_model(state.model, targets, state.sample)
    users = targets.groups.retain
    if state.sample is not None and "retain" in state.sample:
        users = np.intersect1d(users, state.sample["retain"])
    ref = evaluate_model(reference, targets, state.sample)
    jaccard, _ = overlap_per_user(_retained_top10(state.model, users, data), _retained_top10(reference, users, data))
    ndcg = measured.groups["retain"]["ndcg@10"]
    return StreamStep(
        method=state.spec.name,
        step=step,
        mode=state.mode,
        latency_s=seconds,
        cumulative_s=setup_s + state.total_s,
        removed_rows=int(len(data.prepared.request.removed_rows)),
        retain_ndcg=ndcg,
        forgotten_recall=measured.forgotten_recall["forgotten_recall@10"],
        drift_ndcg=ndcg - ref.groups["retain"]["ndcg@10"],
        drift_top10=float(1.0 - jaccard.mean()) if len(jaccard) else float("nan"),
    )
