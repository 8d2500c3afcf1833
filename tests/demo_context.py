"""The demo data and an :class:`UnlearnContext` over it, as the runner builds one: the one
set-up the method tests share (split, request, groups, targets, retrain's validation rows)."""

from __future__ import annotations

import functools

import torch

from core.data.demo import demo_dataset
from core.evaluation.grouped import make_targets
from core.events import Reporter
from core.experiment import Prepared
from core.forget_request import ForgetRequest, resolve_request
from core.groups import make_groups
from core.methods.registry import UnlearnContext
from core.models.base import ModelConfig
from core.split import SplitConfig, make_split


@functools.lru_cache(maxsize=4)
def demo_data(request_text: str = "users:random:0.05", seed: int = 0):
    """``(dataset, split, resolved request, groups)`` of the demo (kept: tests share them)."""
    ds = demo_dataset(seed)
    split = make_split(ds, SplitConfig(seed=seed))
    request = resolve_request(ds, split, ForgetRequest.parse(request_text, seed=seed))
    return ds, split, request, make_groups(ds, split, request)


def demo_context(
    request_text: str = "users:random:0.05", *, base_model=None, reporter: Reporter | None = None, seed: int = 0
) -> UnlearnContext:
    """What a method's ``prepare``/``unlearn`` gets from the runner, on the demo, on the CPU."""
    ds, split, request, groups = demo_data(request_text, seed)
    targets = make_targets(ds, split, request, groups)
    valid = Prepared(ds, split, request, groups, targets).retrain_valid_rows  # the runner's own rule
    return UnlearnContext(
        ds,
        split,
        request,
        groups,
        base_model=base_model,
        model_config=ModelConfig(),
        device=torch.device("cpu"),
        reporter=reporter or Reporter(),
        seed=seed,
        train_model=None,
        targets=targets,
        retrain_valid_rows=valid,
    )
