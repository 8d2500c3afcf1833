"""Dual memory: the side memory forgets, retained users keep their lists, the router routes.

One tiny experiment on the demo data is shared by the module (a 1-block T5 of width 32
trained for a few epochs; ~20 s on a slow CPU).
"""

import numpy as np
import pytest
import torch

from core.data.dataset import Dataset
from core.evaluation.full_sort import RowSets
from core.events import MetricEvent, Reporter
from core.methods.common.lora import frozen_state, same_state
from core.methods.dual_memory.generative import item_log_probs
from core.methods.dual_memory.method import side_memory_examples
from core.methods.dual_memory.sequences import (
    EOS,
    ITEM_OFFSET,
    PAD,
    next_item_examples,
    prefix_contexts,
    serving_contexts,
)
from core.methods.registry import get_method
from tests.demo_context import demo_context

TINY = dict(
    history_len=10,
    model_dim=32,
    model_layers=1,
    model_heads=2,
    main_epochs=10,
    main_lr=0.01,
    batch_size=512,
    side_epochs=8,
    use_cache=False,
)
EVENTS: list = []


@pytest.fixture(scope="module")
def run():
    torch.manual_seed(0)
    ctx = demo_context("users:random:0.1", reporter=Reporter(EVENTS.append).for_model("dual_memory"))
    spec = get_method("dual_memory")
    params = spec.validate(TINY)
    prepared = spec.prepare(ctx, params)
    main_before = frozen_state(prepared.main)
    outcome = spec.unlearn(ctx, params, prepared)
    return ctx, prepared, outcome, main_before


def _ranks(scores: torch.Tensor, mask: torch.Tensor, items: np.ndarray) -> np.ndarray:
    """0-based rank of ``items[b]`` in row b once ``mask`` (retained train) is excluded."""
    scores = scores.masked_fill(mask, float("-inf"))
    target = scores[torch.arange(len(items)), torch.as_tensor(items)]
    return (scores > target[:, None]).sum(1).numpy()


def _main_scores(scorer, users: np.ndarray) -> torch.Tensor:
    with torch.no_grad(), scorer.model.disable_adapter():
        return item_log_probs(scorer.model, scorer.contexts[torch.as_tensor(users)])


def test_side_memory_pushes_forgotten_items_down(run):
    ctx, _, outcome, _ = run
    scorer, ds = outcome.model, ctx.dataset
    removed = ctx.removed_rows
    users, items = ds.users[removed], ds.items[removed]
    mask = RowSets.from_rows(ds, ctx.retained_rows).dense(users, torch.device("cpu"))
    before = _ranks(_main_scores(scorer, users), mask, items)
    after = _ranks(scorer.score(torch.as_tensor(users)), mask, items)
    routed = scorer.routes(torch.as_tensor(users)).numpy()
    assert routed.mean() > 0.5  # most forgotten requests reach the side memory
    # on routed requests, forgotten items leave the top of the list they used to occupy
    for k in (10, 20):
        assert (after[routed] < k).mean() < 0.5 * (before[routed] < k).mean()
    assert (1 / (1 + after[routed])).mean() < 0.5 * (1 / (1 + before[routed])).mean()


def test_retained_users_top10_mostly_unchanged(run):
    """Overlap ≥ 0.9 between the served and the main memory's top-10 of retained users.

    Why 0.9: a retained user's list changes only when the router sends them to the side
    memory by mistake, and the router's false-positive rate on this data is a few
    percent (routed_share/retain ≈ 0.03); 0.9 leaves room for up to ~10 % misrouted
    users. The side memory itself does not spare retained users — forced on for all of
    them it keeps far less of their top-10 (reported as an extra, checked to be lower) —
    which is exactly why evaluation goes through the router.
    """
    ctx, _, outcome, _ = run
    scorer, ds = outcome.model, ctx.dataset
    users = ctx.groups.retain
    mask = RowSets.from_rows(ds, ctx.retained_rows).dense(users, torch.device("cpu"))
    main_top = torch.topk(_main_scores(scorer, users).masked_fill(mask, float("-inf")), 10).indices.numpy()
    served = torch.topk(scorer.score(torch.as_tensor(users)).masked_fill(mask, float("-inf")), 10).indices.numpy()
    overlap = float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(main_top, served)]))
    routed_share = outcome.extras["routed_share/retain"]
    assert routed_share < 0.1
    assert overlap >= 0.9
    forced = outcome.extras["side_forced_top10_overlap/retain"]
    assert 0.0 <= forced < overlap


def test_router_beats_chance_on_held_out_users(run):
    _, _, outcome, _ = run
    e = outcome.extras
    base_rate = e["router_positives"] / e["router_n"]
    assert e["router_n"] > 0 and e["router_positives"] > 0
    assert e["router_recall"] >= 0.5
    assert e["router_precision"] > 2 * base_rate  # a coin with the same rate has precision = base rate


def test_scores_follow_the_router_not_an_id_list(run):
    ctx, _, outcome, _ = run
    scorer = outcome.model
    users = torch.arange(ctx.dataset.n_users)[scorer.known_users]
    routed = scorer.routes(users)
    served = scorer.score(users)
    with torch.no_grad():
        side = item_log_probs(scorer.model, scorer.contexts[users])
    main = _main_scores(scorer, users.numpy())
    assert torch.allclose(served[routed], side[routed], atol=1e-5)
    assert torch.allclose(served[~routed], main[~routed], atol=1e-5)
    # Swap the request features of a routed forgotten user and an unrouted retained user:
    # the route (and the memory that answers) follows the features, not who the user is.
    forgotten = torch.as_tensor(ctx.request.forget_users)
    f = int(forgotten[scorer.routes(forgotten)][0])
    retain = torch.as_tensor(ctx.groups.retain)
    r = int(retain[~scorer.routes(retain)][0])
    original = scorer.features.clone()
    try:
        scorer.features[[f, r]] = original[[r, f]]
        assert scorer.routes(torch.tensor([f, r])).tolist() == [False, True]
        swapped = scorer.score(torch.tensor([f, r]))
        assert torch.allclose(swapped[0], main[users == f][0], atol=1e-5)  # the forgotten user now gets the main memory
        assert torch.allclose(swapped[1], side[users == r][0], atol=1e-5)  # the retained user the side memory
    finally:
        scorer.features.copy_(original)


def test_every_reported_curve_is_declared(run):
    metrics = [e for e in EVENTS if isinstance(e, MetricEvent)]
    declared = {c.key for c in get_method("dual_memory").curves}
    assert {e.stage for e in metrics} == {"main memory", "side memory"}
    assert all(e.model == "dual_memory" and set(e.values) <= declared for e in metrics)
    side = [e for e in metrics if e.stage == "side memory"]
    assert len(side) == TINY["side_epochs"] and {"unlikelihood", "kl", "retain"} <= set(side[-1].values)
    main = [e for e in metrics if e.stage == "main memory"]
    assert all(np.isfinite(e.values["valid_ndcg10"]) for e in main)


def test_main_memory_weights_untouched(run):
    _, prepared, outcome, main_before = run
    assert same_state(main_before, frozen_state(prepared.main))
    assert same_state(main_before, frozen_state(outcome.model.model))


def test_no_test_item_is_a_side_memory_target(run):
    ctx, prepared, _, _ = run
    ds, split = ctx.dataset, ctx.split
    forget, retain = side_memory_examples(ctx, prepared.contexts, prepared.config.history_len)
    test_pairs = set(zip(ds.users[split.test].tolist(), ds.items[split.test].tolist()))
    for ex in (forget, retain):
        assert np.isin(ex.rows, split.train).all()
        assert not (set(zip(ex.users.tolist(), ex.targets.tolist())) & test_pairs)
    assert set(forget.rows.tolist()) == set(ctx.removed_rows.tolist())  # every forgotten interaction


def test_beam_search_gives_the_one_step_top_k(run):
    ctx, _, outcome, _ = run
    scorer = outcome.model
    users = np.concatenate([ctx.groups.retain[:4], ctx.groups.forget[:2]])
    mask = RowSets.from_rows(ctx.dataset, ctx.retained_rows).dense(users, torch.device("cpu"))
    beams = scorer.recommend(torch.as_tensor(users), 5, mask).numpy()
    full = torch.topk(scorer.score(torch.as_tensor(users)).masked_fill(mask, float("-inf")), 5).indices.numpy()
    assert [set(r) for r in beams] == [set(r) for r in full]


def test_sequences_by_hand():
    import pandas as pd

    frame = pd.DataFrame(
        {"user": ["a", "a", "a", "b", "b"], "item": ["x", "y", "z", "y", "x"], "timestamp": [3, 1, 2, 5, 4]}
    )
    ds = Dataset.from_frame(frame, "hand")  # items x=0 y=1 z=2; a: y z x, b: x y
    rows = np.arange(ds.n_interactions)
    ex = next_item_examples(ds, rows, 2)
    tok = lambda i: i + ITEM_OFFSET  # noqa: E731
    got = {(int(u), int(t)): c.tolist() for u, t, c in zip(ex.users, ex.targets, ex.contexts)}
    assert got == {
        (0, 2): [PAD, tok(1), EOS],
        (0, 0): [tok(1), tok(2), EOS],
        (1, 1): [PAD, tok(0), EOS],
    }
    serve = serving_contexts(ds, rows, 2)
    assert serve.tolist() == [[tok(2), tok(0), EOS], [tok(0), tok(1), EOS]]
    first_of_b = int(np.flatnonzero((ds.users == 1) & (ds.items == 0))[0])
    assert prefix_contexts(ds, rows, np.array([first_of_b]), 2).tolist() == [[PAD, PAD, EOS]]


def test_side_and_main_memory_share_the_encoder_bit_for_bit(run):
    """The side memory adapts decoder blocks only: logits from a shared encoder pass are the
    very same numbers, with the adapter and without it."""
    from core.methods.dual_memory.generative import encode, item_logits

    _, _, outcome, _ = run
    model, contexts = outcome.model.model, outcome.model.contexts[:64]
    encoded = encode(model, contexts)
    with torch.no_grad():
        assert torch.equal(item_logits(model, contexts, encoded), item_logits(model, contexts))
        with model.disable_adapter():
            assert torch.equal(item_logits(model, contexts, encoded), item_logits(model, contexts))
    assert not any("lora_" in name for name, _ in model.get_encoder().named_parameters())
