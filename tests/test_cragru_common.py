"""Shared helpers for the CRAGRU tests (no tests here): a demo context and a fake LLM.

The fake backend is deterministic and instant, so the plumbing (store, caches, prompts,
audit, scorer) is tested without waiting for a real model; the real bundled model is
exercised once, end to end, in ``test_cragru_end_to_end.py``.
"""

from __future__ import annotations

import functools

import numpy as np

from core.data.demo import demo_dataset
from core.events import Reporter
from core.evaluation.grouped import make_targets
from core.forget_request import ForgetRequest, resolve_request
from core.groups import make_groups
from core.methods.registry import UnlearnContext
from core.models.base import ModelConfig
from core.split import SplitConfig, make_split
from core.runner import Prepared

import torch


class FakeBackend:
    """Scores a candidate by how many of its title words occur in the prompt's history."""

    name = "fake"

    def __init__(self, outputs: list[str] | None = None) -> None:
        self.outputs = list(outputs or [])
        self.calls = 0
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return int(len(text.split()) * 1.3) + 1

    def score(self, prompts: list[str], candidates: list[list[str]]) -> np.ndarray:
        self.prompts.extend(prompts)
        out = np.zeros((len(prompts), len(candidates[0])))
        for row, (prompt, cands) in enumerate(zip(prompts, candidates)):
            history = prompt.split("Candidate")[0].lower()
            for j, title in enumerate(cands):
                out[row, j] = sum(w.lower() in history for w in title.split()) - 0.01 * j
        return out

    def generate(self, prompts: list[str], max_new_tokens: int, attempt: int = 0) -> list[str]:
        self.prompts.extend(prompts)
        out = []
        for _ in prompts:
            out.append(self.outputs[self.calls % len(self.outputs)] if self.outputs else "")
            self.calls += 1
        return out


@functools.lru_cache(maxsize=4)
def _data(request_text: str, seed: int = 0):
    ds = demo_dataset(seed)
    split = make_split(ds, SplitConfig(seed=seed))
    request = resolve_request(ds, split, ForgetRequest.parse(request_text, seed=seed))
    groups = make_groups(ds, split, request)
    return ds, split, request, groups


@functools.lru_cache(maxsize=2)
def _base(epochs: int, seed: int = 0):
    from core.models.training import train_recommender

    ds, split, _, _ = _data("users:random:0.05", seed)
    config = ModelConfig(epochs=epochs, patience=3, batch_size=1024, lr=5e-3, seed=seed) if epochs else ModelConfig(seed=seed)
    if epochs == 0:
        from core.models.training import build_model

        return build_model(config, ds.n_users, ds.n_items, ds.users[split.train], ds.items[split.train], "cpu").eval()
    return train_recommender(config, ds.n_users, ds.n_items, ds.users[split.train], ds.items[split.train], "cpu",
                             valid=(ds.users[split.valid], ds.items[split.valid]))


def make_context(request_text: str = "users:random:0.05", *, epochs: int = 0, seed: int = 0) -> UnlearnContext:
    """A demo-dataset context; ``epochs=0`` uses an untrained (seeded) BPR base model."""
    ds, split, request, groups = _data(request_text, seed)
    base = _base(epochs, seed)
    targets = make_targets(ds, split, request, groups)
    valid = Prepared(ds, split, request, groups, targets).retrain_valid_rows  # the runner's own rule
    return UnlearnContext(ds, split, request, groups, base_model=base, model_config=ModelConfig(),
                          device=torch.device("cpu"), reporter=Reporter(), seed=seed, train_model=None,
                          targets=targets, retrain_valid_rows=valid)


def params(**changes) -> dict:
    from core.methods.registry import get_method

    return get_method("cragru").validate({"eval_users_per_group": 6, "knapsack_users": 40, "w2v_epochs": 3, **changes})
