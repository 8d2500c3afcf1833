"""A LightGCN that has already scored can be deep-copied (fine-tune-style methods copy the base model)."""

import copy

import numpy as np
import torch

from core.models.base import ModelConfig
from core.models.training import build_model


def test_deepcopy_after_scoring_gives_identical_independent_model():
    rng = np.random.default_rng(0)
    users = rng.integers(0, 20, 200)
    items = rng.integers(0, 30, 200)
    model = build_model(ModelConfig(name="lightgcn", dim=8, seed=0), 20, 30, users, items, torch.device("cpu"))
    batch = torch.arange(20)
    with torch.no_grad():
        before = model.score(batch).clone()
    twin = copy.deepcopy(model)
    with torch.no_grad():
        assert torch.equal(twin.score(batch), before)
        twin.layer0()[0].add_(1.0)  # editing the copy leaves the original alone
        assert torch.equal(model.score(batch), before)
        assert not torch.equal(twin.score(batch), before)
