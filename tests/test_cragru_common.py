"""Shared helpers for the CRAGRU tests (no tests here): a demo context and a fake LLM.

The fake backend is deterministic and instant, so the plumbing (store, caches, prompts,
audit, scorer) is tested without waiting for a real model; the real bundled model is
exercised once, end to end, in ``test_cragru_end_to_end.py``.
"""

from __future__ import annotations

import functools

import numpy as np

from core.methods.registry import UnlearnContext
from core.models.base import ModelConfig
from tests.demo_context import demo_context, demo_data


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


@functools.lru_cache(maxsize=2)
def _base(epochs: int, seed: int = 0):
    from core.models.training import train_recommender

    ds, split, _, _ = demo_data("users:random:0.05", seed)
    config = (
        ModelConfig(epochs=epochs, patience=3, batch_size=1024, lr=5e-3, seed=seed)
        if epochs
        else ModelConfig(seed=seed)
    )
    if epochs == 0:
        from core.models.training import build_model

        return build_model(config, ds.n_users, ds.n_items, ds.users[split.train], ds.items[split.train], "cpu").eval()
    return train_recommender(
        config,
        ds.n_users,
        ds.n_items,
        ds.users[split.train],
        ds.items[split.train],
        "cpu",
        valid=(ds.users[split.valid], ds.items[split.valid]),
    )


def make_context(request_text: str = "users:random:0.05", *, epochs: int = 0, seed: int = 0) -> UnlearnContext:
    """A demo-dataset context; ``epochs=0`` uses an untrained (seeded) BPR base model."""
    return demo_context(request_text, base_model=_base(epochs, seed), seed=seed)


def params(**changes) -> dict:
    from core.methods.registry import get_method

    return get_method("cragru").validate({"eval_users_per_group": 6, "knapsack_users": 40, "w2v_epochs": 3, **changes})
