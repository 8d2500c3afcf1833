"""Row-wise training (sparse gradients + SparseAdam): a step costs the batch, not the tables."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.demo import demo_dataset
from core.errors import ConfigError
from core.evaluation.full_sort import RowSets, evaluate_users, mean_metrics
from core.models.base import ModelConfig, model_config
from core.models.training import fit_recommender
from core.split import SplitConfig, make_split


def test_sparse_loss_gives_gradients_of_the_touched_rows_only():
    from core.models.factory import create_model

    torch.manual_seed(0)
    rows = (np.arange(50) % 50, np.arange(50) % 40)
    model = create_model(ModelConfig(dim=8), 50, 40, *rows)
    users, pos, neg = torch.tensor([1, 2, 2]), torch.tensor([3, 4, 5]), torch.tensor([6, 7, 8])
    loss, reg = model.bpr_loss(users, pos, neg, sparse=True)
    (loss + reg).backward()
    grad = model.user_embedding.weight.grad
    assert grad.is_sparse
    assert sorted(set(grad.coalesce().indices()[0].tolist())) == [1, 2]
    dense = create_model(ModelConfig(dim=8), 50, 40, *rows)
    dense.load_state_dict(model.state_dict())
    loss2, reg2 = dense.bpr_loss(users, pos, neg)
    (loss2 + reg2).backward()
    assert torch.allclose(grad.to_dense(), dense.user_embedding.weight.grad, atol=1e-6)  # the same gradient


def test_row_wise_training_reaches_adams_quality_on_the_demo():
    ds = demo_dataset(0)
    split = make_split(ds, SplitConfig(seed=0))
    users = np.unique(ds.users[split.test])
    scores = []
    for row_wise in (False, True):
        model, _ = fit_recommender(
            ModelConfig(),
            ds.n_users,
            ds.n_items,
            ds.users[split.train],
            ds.items[split.train],
            "cpu",
            valid=(ds.users[split.valid], ds.items[split.valid]),
            row_wise=row_wise,
        )
        per_user = evaluate_users(model, users, RowSets.from_rows(ds, split.test), RowSets.from_rows(ds, split.train))
        scores.append(mean_metrics(per_user)["ndcg@10"])
    assert abs(scores[1] - scores[0]) < 0.02 and scores[1] > 0.2


def test_row_wise_needs_raw_tables():
    with pytest.raises(ConfigError, match="lightgcn"):
        fit_recommender(model_config("lightgcn"), 5, 5, np.array([0, 1]), np.array([1, 2]), "cpu", row_wise=True)
