"""The Scorer contract, packed candidate scoring, fusion and the item clusters."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_cragru_common import FakeBackend, make_context, params
from transformers import LlamaConfig, LlamaForCausalLM

from core.evaluation.grouped import evaluate_model
from core.methods.cragru.candidate_logprobs import naive_candidate_logprobs, packed_candidate_logprobs
from core.methods.cragru.clusters import fit_item_clusters, training_sentences
from core.methods.cragru.fusion import choose_weight, fuse, rank_scores
from core.methods.cragru.method import prepare, unlearn
from core.models.base import Scorer


@pytest.fixture(scope="module")
def run():
    ctx = make_context("users:random:0.05")
    p = params(strategy="preference", fusion_weight=0.7)
    prep = prepare(ctx, p, backend=FakeBackend())
    outcome = unlearn(ctx, p, prep)
    return ctx, prep, outcome


def test_scorer_lifts_candidates_in_the_fused_order_and_keeps_base_order_below(run):
    ctx, prep, outcome = run
    scorer = outcome.model
    assert isinstance(scorer, Scorer) and outcome.eval_sample is prep.eval_users
    user = int(prep.eval_users["retain"][0])
    scores = scorer.score(torch.tensor([user]))[0]
    cands, fused = prep.state.ranking(user)
    rest = np.setdiff1d(np.arange(ctx.dataset.n_items), cands)
    assert scores[cands].min() > scores[rest].max()
    assert np.argsort(-scores[cands].numpy(), kind="stable").tolist() == np.argsort(-fused, kind="stable").tolist()
    base = ctx.base_model.score(torch.tensor([user]))[0]
    assert torch.equal(scores[rest], base[rest])  # non-candidates: base scores unchanged


def test_users_outside_the_sample_get_the_base_order(run):
    ctx, prep, outcome = run
    sampled = np.concatenate(list(prep.eval_users.values()))
    outside = np.setdiff1d(ctx.groups.retain, sampled)[:3]
    got = outcome.model.score(torch.as_tensor(outside))
    assert torch.equal(got, ctx.base_model.score(torch.as_tensor(outside)))
    extras = outcome.model.late_extras()
    assert extras["paths/base_order_outside_sample"] >= 3 and extras["paths/scoring"] > 0


def test_forgotten_users_are_ranked_from_retained_popularity(run):
    ctx, prep, outcome = run
    user = int(ctx.request.target_users[0])
    scores = prep.state.base_scores(np.array([user]))[0]
    pop = torch.as_tensor(prep.state.store.popularity)
    assert torch.equal(scores, pop)
    # retained popularity no longer counts the forgotten rows
    full = np.bincount(ctx.dataset.items[ctx.split.train], minlength=ctx.dataset.n_items)
    removed = np.bincount(ctx.dataset.items[ctx.removed_rows], minlength=ctx.dataset.n_items)
    assert (prep.state.store.popularity == full - removed).all()


def test_the_shared_evaluator_measures_it_on_the_sample(run):
    ctx, prep, outcome = run
    measured = evaluate_model(outcome.model, ctx.targets, outcome.eval_sample)
    for group, metrics in measured.groups.items():
        assert 0.0 <= metrics["hit@10"] <= 1.0
        assert len(measured.per_user[group]["hit@10"]) <= len(prep.eval_users[group])


def tiny_llama(impl: str) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    config._attn_implementation = impl
    return LlamaForCausalLM(config).eval()


@pytest.mark.parametrize("impl", ["sdpa", "eager"])
def test_packed_scoring_equals_scoring_each_full_sequence(impl):
    model = tiny_llama(impl)
    prompts = [[5, 6, 7, 8, 9, 10], [11, 12, 13]]
    cands = [[[20, 21], [22], [23, 24, 25]], [[30], [31, 32, 33, 34], [35, 36]]]
    got = packed_candidate_logprobs(model, prompts, cands, 0, torch.device("cpu"))
    ref = np.stack([naive_candidate_logprobs(model, p, c, torch.device("cpu")) for p, c in zip(prompts, cands)])
    np.testing.assert_allclose(got, ref, atol=1e-4)
    # a user's scores do not depend on who shares the batch
    alone = packed_candidate_logprobs(model, prompts[1:], cands[1:], 0, torch.device("cpu"))
    np.testing.assert_allclose(alone[0], got[1], atol=1e-4)


@pytest.mark.parametrize("impl", ["sdpa", "eager"])
def test_packed_scoring_works_in_bfloat16(impl):
    """The GPU path runs the LLM in bf16: the block mask must stay finite there too."""
    prompts = [[5, 6, 7, 8, 9, 10], [11, 12, 13]]
    cands = [[[20, 21], [22], [23, 24, 25]], [[30], [31, 32, 33, 34], [35, 36]]]
    model = tiny_llama(impl).to(torch.bfloat16)
    got = packed_candidate_logprobs(model, prompts, cands, 0, torch.device("cpu"))
    ref = np.stack([naive_candidate_logprobs(model, p, c, torch.device("cpu")) for p, c in zip(prompts, cands)])
    full = packed_candidate_logprobs(tiny_llama(impl), prompts, cands, 0, torch.device("cpu"))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, atol=2e-3)
    np.testing.assert_allclose(got, full, atol=2e-2)  # bf16 rounding only


def test_fusion_interpolates_between_the_two_orders():
    llm = np.array([[3.0, 2.0, 1.0]])
    base = np.array([[1.0, 2.0, 3.0]])
    assert rank_scores(llm).tolist() == [[1.0, 0.5, 0.0]]
    assert np.argmax(fuse(llm, base, 1.0)) == 0 and np.argmax(fuse(llm, base, 0.0)) == 2
    cands = np.array([[7, 8, 9]])
    # truth is the LLM's favourite at k=1: λ=1 wins; ties prefer the larger λ
    weight, table = choose_weight(llm, base, cands, [{7}], k=1)
    assert weight == 1.0 and table[1.0][0] == 1.0 and table[0.0][0] == 0.0
    weight, _ = choose_weight(llm, base, cands, [{9}], k=1)
    assert weight <= 0.5  # at 0.5 the ranks tie and the base order breaks the tie


def test_item_clusters_are_deterministic_and_use_training_rows_only():
    ctx = make_context()
    ds, split = ctx.dataset, ctx.split
    a = fit_item_clusters(ds, split.train, k=4, dim=8, epochs=2, seed=3)
    b = fit_item_clusters(ds, split.train, k=4, dim=8, epochs=2, seed=3)
    assert np.array_equal(a.labels, b.labels) and np.allclose(a.vectors, b.vectors)
    assert a.labels.min() >= 0 and a.labels.max() < 4
    sentences = training_sentences(ds, split.train, use_meta=False)
    assert sum(len(s) for s in sentences) == len(split.train)  # one token per training row, nothing else


@pytest.mark.parametrize("how", ["proxy", "llm"])
def test_diversity_ratios_come_from_the_knapsack_on_validation(how):
    ctx = make_context()
    p = params(
        strategy="diversity",
        knapsack_values=how,
        knapsack_users=4 if how == "llm" else 40,
        knapsack_levels=4,
        fusion_weight=1.0,
    )
    prep = prepare(ctx, p, backend=FakeBackend())
    ratios = prep.state.ratios
    assert len(ratios) == prep.state.clusters.k and ratios.sum() <= 1.0 + 1e-9
    assert set(np.round(ratios, 2).tolist()) <= {0.05, 0.1, 0.15, 0.2}
    assert 0.0 <= prep.extras["knapsack_value"] <= prep.state.clusters.k
    # one-off tuning prompts are booked apart from the serving figures
    assert prep.state.llm_prompts == 0
    assert (prep.state.tuning_llm_prompts > 0) == (how == "llm")
