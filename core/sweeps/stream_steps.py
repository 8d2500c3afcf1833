"""One method after one request of a stream: what it carries and how far it is from retraining."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.agreement import overlap_per_user
from core.evaluation.full_sort import top_k
from core.evaluation.grouped import EvalSample, evaluate_model
from core.events import StreamStep
from core.experiment.data import Prepared
from core.methods.registry import MethodSpec


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
    set_up: bool = False  # prepare has run (its output, possibly None, is in ``prepared``)


def _retained_top10(model, users: np.ndarray, prepared: Prepared) -> np.ndarray:
    return top_k(model, users, prepared.targets.mask, 10)


def measure_step(
    state: StreamState, step: int, seconds: float, setup_s: float, prepared: Prepared, reference
) -> StreamStep:
    """The step's figures; drift is against retraining on the same rows, same users."""
    targets = prepared.targets
    measured = evaluate_model(state.model, targets, state.sample)
    users = targets.groups.retain
    if state.sample is not None and "retain" in state.sample:
        users = np.intersect1d(users, state.sample["retain"])
    ref = evaluate_model(reference, targets, state.sample)
    jaccard, _ = overlap_per_user(
        _retained_top10(state.model, users, prepared), _retained_top10(reference, users, prepared)
    )
    ndcg = measured.groups["retain"]["ndcg@10"]
    return StreamStep(
        method=state.spec.name,
        step=step,
        mode=state.mode,
        latency_s=seconds,
        cumulative_s=setup_s + state.total_s,
        removed_rows=int(len(prepared.request.removed_rows)),
        retain_ndcg=ndcg,
        forgotten_recall=measured.forgotten_recall["forgotten_recall@10"],
        drift_ndcg=ndcg - ref.groups["retain"]["ndcg@10"],
        drift_top10=float(1.0 - jaccard.mean()) if len(jaccard) else float("nan"),
    )
