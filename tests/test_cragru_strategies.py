"""Retrieval strategies and the knapsack, on hand-made cases with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.methods.cragru.knapsack import grouped_knapsack
from core.methods.cragru.strategies import (
    attention_importance,
    preference_quotas,
    ratio_quotas,
    select_history,
    select_recent,
    take_by_quota,
)


def test_recent_takes_the_newest_first():
    assert select_recent(5, 3).tolist() == [4, 3, 2]
    assert select_recent(2, 5).tolist() == [1, 0]


def test_none_selects_no_history_and_unknown_strategies_are_refused():
    items = np.arange(8)
    assert select_history("none", items, 5).tolist() == []
    assert len(select_history("recent", items, 5)) == 5
    with pytest.raises(ValueError, match="unknown retrieval strategy"):
        select_history("newest", np.zeros(0, dtype=np.int64), 5)  # refused even for an empty history


def test_preference_quotas_follow_the_users_own_shares():
    # 6/3/1 of 10 items, budget 5 → exact 3, 1.5, 0.5 → floors 3,1,0; the spare seat goes
    # to the larger remainder tie's bigger cluster (cluster 1).
    assert preference_quotas(np.array([6, 3, 1]), 5).tolist() == [3, 2, 0]
    # budget above the history: everything
    assert preference_quotas(np.array([2, 0, 1]), 10).tolist() == [2, 0, 1]
    # proportional when it divides exactly
    assert preference_quotas(np.array([8, 4, 4, 0]), 8).tolist() == [4, 2, 2, 0]
    q = preference_quotas(np.array([7, 5, 3, 1]), 6)
    assert q.sum() == 6 and (q <= [7, 5, 3, 1]).all()


def test_ratio_quotas_apply_the_budget_ratios_and_refill_shortfalls():
    # ratios .5/.3/.2 of 10 with plenty of items: exactly 5/3/2
    assert ratio_quotas(np.array([20, 20, 20]), np.array([0.5, 0.3, 0.2]), 10).tolist() == [5, 3, 2]
    # cluster 0 has only 1 item: its 4 spare seats go to the others ∝ their ratios (3:2)
    q = ratio_quotas(np.array([1, 20, 20]), np.array([0.5, 0.3, 0.2]), 10)
    assert q.sum() == 10 and q[0] == 1 and q[1] > q[2]
    # a non-empty cluster with a positive ratio gets at least one seat
    assert ratio_quotas(np.array([5, 5, 20]), np.array([0.05, 0.05, 0.9]), 10).tolist() == [1, 1, 8]


def test_take_by_quota_picks_the_most_recent_of_each_cluster():
    labels = np.array([0, 1, 0, 0, 1, 2])  # oldest first
    picked = take_by_quota(labels, np.array([2, 1, 0]))
    assert picked.tolist() == [4, 3, 2]  # newest first


def test_preference_strategy_end_to_end_on_a_history():
    cluster_of = np.array([0, 0, 0, 1, 1, 2, 0])  # item → cluster
    items = np.array([0, 3, 1, 4, 2, 5, 6])  # history, oldest first (clusters 0,1,0,1,0,2,0)
    picked = select_history("preference", items, 4, labels=cluster_of, n_clusters=3)
    clusters = cluster_of[items[picked]]
    assert np.bincount(clusters, minlength=3).tolist() == [2, 1, 1]  # 4/7, 2/7, 1/7 of 4 seats


def test_attention_selection_follows_the_base_models_embeddings():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(30, 8))
    history = np.arange(10)
    candidates = np.arange(20, 30)
    first = select_history("attention", history, 3, item_embeddings=emb, candidates=candidates)
    # make three history items point where the candidates are: they must now be chosen
    emb2 = emb.copy()
    emb2[[0, 1, 2]] = emb[candidates].mean(0) * 10
    second = select_history("attention", history, 3, item_embeddings=emb2, candidates=candidates)
    assert sorted(second.tolist()) == [0, 1, 2]
    assert sorted(first.tolist()) != sorted(second.tolist())
    weights = attention_importance(emb2[history], emb2[candidates])
    assert weights.sum() == pytest.approx(1.0) and weights[:3].min() > weights[3:].max()


def brute_force(values: np.ndarray, weights: np.ndarray, capacity: int) -> float:
    best = -np.inf
    for combo in itertools.product(range(values.shape[1]), repeat=values.shape[0]):
        if weights[list(combo)].sum() <= capacity:
            best = max(best, sum(values[g, lv] for g, lv in enumerate(combo)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_knapsack_finds_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    values = rng.random((4, 5)).round(3)
    weights = np.arange(1, 6)
    capacity = int(rng.integers(4, 16))
    picks, value = grouped_knapsack(values, weights, capacity)
    assert value == pytest.approx(brute_force(values, weights, capacity))
    assert weights[picks].sum() <= capacity
    assert value == pytest.approx(sum(values[g, p] for g, p in enumerate(picks)))


def test_knapsack_prefers_the_big_level_where_it_pays():
    # cluster 0 gains a lot from a big share, cluster 1 nothing: give the room to cluster 0
    values = np.array([[0.1, 0.2, 0.9], [0.5, 0.5, 0.5]])
    picks, value = grouped_knapsack(values, np.array([1, 2, 3]), 4)
    assert picks.tolist() == [2, 0] and value == pytest.approx(1.4)


def test_knapsack_refuses_an_impossible_capacity():
    with pytest.raises(ValueError):
        grouped_knapsack(np.ones((3, 2)), np.array([2, 3]), 5)
