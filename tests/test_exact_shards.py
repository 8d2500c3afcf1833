"""Exact shards: a shard's weights depend only on its own rows (issue 12, item 4).

Each shard trains from scratch with its own seed, its own step count and its own early
stopping, so changing another shard's rows (adding or removing them) must leave it
bit-identical — for BPR-MF and LightGCN, with and without validation.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.methods.common.shards import ShardPlan, train_shards
from core.models.base import ModelConfig

N_USERS, N_ITEMS, K = 30, 40, 3
CONFIG = dict(dim=8, lr=0.05, epochs=8, patience=2, batch_size=96)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _rows(seed: int, n: int):
    rng = np.random.default_rng(seed)
    pairs = np.unique(rng.integers(0, [N_USERS, N_ITEMS], size=(n, 2)), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def _tensors(stack, position: int) -> dict[str, torch.Tensor]:
    names = ("users0", "items0", "users", "items", "user_known", "item_known", "popularity")
    return {name: getattr(stack, name)[position].clone() for name in names}


@pytest.mark.parametrize("model", ["bpr", "lightgcn"])
@pytest.mark.parametrize("with_valid", [False, True])
def test_changing_shard_j_leaves_shard_i_bit_identical(model, with_valid):
    users, items = _rows(0, 500)
    v_users, v_items = _rows(1, 120)
    user_shard = np.arange(N_USERS) % K
    plan = ShardPlan(ModelConfig(name=model, **CONFIG), N_USERS, N_ITEMS, user_shard)
    valid = (v_users, v_items) if with_valid else None
    first = train_shards(plan, users, items, np.arange(K), "cpu", valid=valid)

    # shard 1 loses a third of its rows, shard 2 gains rows (and validation rows change too)
    in_1 = np.flatnonzero(user_shard[users] == 1)
    keep = np.ones(len(users), bool)
    keep[in_1[::3]] = False
    extra_users = np.array([2, 5, 8, 11, 14], dtype=np.int64)  # all in shard 2
    extra_items = np.array([0, 1, 2, 3, 4], dtype=np.int64)
    users2 = np.concatenate([users[keep], extra_users])
    items2 = np.concatenate([items[keep], extra_items])
    valid2 = None
    if with_valid:
        drop = user_shard[v_users] == 2
        valid2 = (v_users[~drop], v_items[~drop])
    second = train_shards(plan, users2, items2, np.arange(K), "cpu", valid=valid2)

    untouched, before, after = _tensors(first, 0), _tensors(first, 0), _tensors(second, 0)
    for name in untouched:
        assert torch.equal(before[name], after[name]), name
    assert first.epochs[0] == second.epochs[0]
    for changed in (1, 2):
        assert not torch.equal(first.users0[changed], second.users0[changed])


def test_a_shard_trained_alone_equals_the_same_shard_trained_with_the_others():
    users, items = _rows(3, 400)
    user_shard = np.arange(N_USERS) % K
    plan = ShardPlan(ModelConfig(name="bpr", **CONFIG), N_USERS, N_ITEMS, user_shard)
    together = train_shards(plan, users, items, np.arange(K), "cpu")
    alone = train_shards(plan, users, items, np.array([1]), "cpu")
    assert torch.equal(together.users0[1], alone.users0[0])
    assert torch.equal(together.items[1], alone.items[0])
