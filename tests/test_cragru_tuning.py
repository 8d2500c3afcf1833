"""CRAGRU's validation choices (λ, the knapsack's ratios) never use an evaluated user."""

from __future__ import annotations

import numpy as np
from test_cragru_common import FakeBackend, make_context, params

from core.evaluation.grouped import evaluate_model
from core.methods.cragru.method import prepare, unlearn
from core.methods.cragru.tuning import split_tuning_users


def _evaluated(sample) -> set[int]:
    return set(np.concatenate(list(sample.values())).tolist())


def test_split_takes_users_outside_the_sample_first_and_holds_out_the_rest():
    pool = np.arange(20)
    sample = {"retain": np.arange(0, 15), "forget": np.array([30, 31])}
    tuning, trimmed = split_tuning_users(pool, sample, 3, seed=0)
    assert set(tuning.tolist()) <= set(range(15, 20)) and len(tuning) == 3
    assert all(np.array_equal(trimmed[k], sample[k]) for k in sample)  # the shared sample is kept
    tuning, trimmed = split_tuning_users(pool, sample, 8, seed=0)  # only 5 free: 3 held out of the sample
    assert len(tuning) == 8 and set(range(15, 20)) <= set(tuning.tolist())
    assert not set(tuning.tolist()) & _evaluated(trimmed) and len(trimmed["retain"]) == 12
    again, _ = split_tuning_users(pool, sample, 8, seed=0)
    assert np.array_equal(tuning, again)  # seeded


def test_lambda_and_knapsack_are_tuned_on_users_disjoint_from_the_evaluated_ones():
    ctx = make_context("users:random:0.05")
    p = params(
        strategy="diversity",
        knapsack_values="llm",
        knapsack_users=4,
        knapsack_levels=2,
        fusion_weight=-1.0,
        fusion_users=6,
        eval_users_per_group=6,
    )
    prep = prepare(ctx, p, backend=FakeBackend())
    outcome = unlearn(ctx, p, prep)
    evaluate_model(outcome.model, ctx.targets, outcome.eval_sample)  # the LLM serves the evaluated users
    evaluated = _evaluated(outcome.eval_sample)
    state = prep.state
    tuned = state.tuned_users  # every user whose prompt went to the LLM for tuning
    assert len(tuned) == 6 and tuned == set(prep.tuning_users.tolist())
    assert not tuned & evaluated
    assert not tuned & set(ctx.request.forget_users.tolist())
    served = set(state.llm_keys_by_user)
    assert served and served <= evaluated and not served & tuned
    assert state.llm_prompts == len(served)  # tuning prompts are booked apart
    assert outcome.extras["fusion_users"] == 6 and outcome.extras["knapsack_users"] == 4


def test_when_everyone_is_evaluated_the_tuning_users_are_held_out_of_the_evaluation():
    ctx = make_context("users:random:0.05")
    p = params(strategy="recent", fusion_weight=-1.0, fusion_users=5, eval_users_per_group=0)
    prep = prepare(ctx, p, backend=FakeBackend())
    tuning = set(prep.tuning_users.tolist())
    assert len(tuning) == 5 and not tuning & _evaluated(prep.eval_users)
    for group in ("retain", "similar"):
        everyone = set(ctx.groups.get(group).tolist())
        assert set(prep.eval_users[group].tolist()) == everyone - tuning
    assert np.array_equal(prep.eval_users["forgotten"], ctx.targets.forget_users)
    assert any("5 tuning users were held out of the evaluation" in n for n in prep.notes)


def test_a_fixed_lambda_tunes_nothing_and_keeps_the_shared_sample():
    ctx = make_context("users:random:0.05")
    p = params(strategy="recent", fusion_weight=0.5, eval_users_per_group=6)
    prep = prepare(ctx, p, backend=FakeBackend())
    assert len(prep.tuning_users) == 0 and prep.state.tuned_users == set()
    shared = ctx.eval_sample(6)
    assert all(np.array_equal(prep.eval_users[k], shared[k]) for k in shared)


def test_the_proxy_value_table_matches_level_by_level():
    """The proxy knapsack values, all ratio levels at once, equal the level-by-level loop."""
    from core.methods.cragru.fusion import fuse
    from core.methods.cragru.method import build_state
    from core.methods.cragru.tuning import _cluster_positions, proxy_value_table, ratio_levels, truth_sets

    ctx = make_context()
    state, _, _ = build_state(ctx, params(), backend=FakeBackend())
    users = np.unique(ctx.dataset.users[ctx.retrain_valid_rows])[:40]
    truth = truth_sets(ctx.dataset, ctx.retrain_valid_rows, users)
    levels = 10
    quotas = np.maximum(1, np.floor(ratio_levels(levels) * state.budget + 1e-9).astype(np.int64))
    vectors = state.clusters.vectors
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    expected, counted = np.zeros((state.clusters.k, levels)), 0
    for user, true in zip(users.tolist(), truth):
        if not true:
            continue
        counted += 1
        cands, base = state.candidates([user])[0]
        items = state.store.user_items(user)
        base_hit = float(np.isin(cands[np.argsort(-base, kind="stable")][:10], list(true)).any())
        sims = unit[cands] @ unit[items].T
        for c, pos in enumerate(_cluster_positions(state.clusters.labels[items], state.clusters.k)):
            if len(pos) == 0:
                expected[c] += base_hit
                continue
            running = np.cumsum(sims[:, pos], axis=1)
            for level, q in enumerate(quotas):
                q = min(int(q), len(pos))
                fused = fuse((running[:, q - 1] / q)[None], base[None], 0.5)[0]
                top = cands[np.argsort(-fused, kind="stable")[:10]]
                expected[c, level] += float(np.isin(top, list(true)).any())
    assert counted > 10
    assert np.array_equal(proxy_value_table(state, users, truth, levels), expected / counted)
