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
