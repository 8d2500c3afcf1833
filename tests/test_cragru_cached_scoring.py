"""CRAGRU's cached scoring path (one chunked prefill, a shared prefix, candidates from the
cache) gives the reference numbers, and the steps of its preparation stop on request."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from core.errors import Cancelled
from core.events import Reporter
from core.methods.cragru.candidate_logprobs import CachedScorer, naive_candidate_logprobs, packed_candidate_logprobs
from core.methods.cragru.clusters import _kmeans, fit_item_clusters
from tests.demo_context import demo_data
from tests.tiny_llm import tiny_llm


def test_cached_scoring_matches_full_sequences():
    model = tiny_llm().model
    rng = np.random.RandomState(0)
    prefix = rng.randint(3, 512, 7).tolist()
    prompt = prefix + rng.randint(3, 512, 40).tolist()
    cands = [rng.randint(3, 512, k).tolist() for k in (1, 3, 5, 2)]
    reference = naive_candidate_logprobs(model, prompt, cands, torch.device("cpu"))
    checks = []
    scorer = CachedScorer(model, 0, torch.device("cpu"), check=lambda: checks.append(1), chunk=9)
    assert np.allclose(scorer.score(prompt, cands), reference, atol=1e-5)
    assert len(checks) >= 40 // 9  # a check between prefill chunks
    scorer.set_prefix(prefix)
    assert np.allclose(scorer.score(prompt, cands), reference, atol=1e-5)
    assert scorer.timing["prefix_tokens_saved"] == len(prefix)
    packed = packed_candidate_logprobs(model, [prompt], [cands], 0, torch.device("cpu"))[0]
    assert np.allclose(packed, reference, atol=1e-5)


def test_a_prompt_without_the_shared_prefix_is_scored_in_full():
    model = tiny_llm().model
    scorer = CachedScorer(model, 0, torch.device("cpu"))
    scorer.set_prefix([5, 6, 7])
    prompt, cands = [9, 10, 11, 12], [[4, 5], [6]]
    reference = naive_candidate_logprobs(model, prompt, cands, torch.device("cpu"))
    assert np.allclose(scorer.score(prompt, cands), reference, atol=1e-5)
    assert scorer.timing["prefix_tokens_saved"] == 0


def test_checked_kmeans_equals_scikit_learns_restarts():
    from sklearn.cluster import KMeans

    x = np.random.RandomState(1).randn(300, 8).astype(np.float32)
    ours = _kmeans(x, 4, seed=3, reporter=Reporter())
    theirs = KMeans(4, n_init=10, random_state=3).fit(x)
    assert ours.inertia_ == pytest.approx(theirs.inertia_) and (ours.labels_ == theirs.labels_).all()


def test_word2vec_stops_within_a_fraction_of_a_second():
    ds, split, _, _ = demo_data("users:random:0.05")
    stop = {"at": None}
    reporter = Reporter(should_stop=lambda: stop["at"] is not None)
    outcome = {}

    def work() -> None:
        try:
            fit_item_clusters(ds, split.train, epochs=100_000, reporter=reporter)  # would run for hours
        except Cancelled:
            outcome["at"] = time.perf_counter()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    time.sleep(1.5)
    stop["at"] = time.perf_counter()
    thread.join(10)
    assert "at" in outcome and outcome["at"] - stop["at"] < 1.0


def test_answers_are_reused_by_prompt_hash_and_purged_on_deletion(monkeypatch):
    import core.llm.local as local_llm
    from core.methods.cragru import state as state_module
    from core.methods.cragru.method import build_state
    from tests.test_cragru_common import make_context, params

    llm = tiny_llm()
    monkeypatch.setattr(local_llm, "load_local_llm", lambda *a, **k: llm)
    ctx = make_context()
    settings = params(strategy="recent", fusion_weight=1.0, candidates=5, history_budget=4)
    users = ctx.groups.retain[:3]
    first, _, _ = build_state(ctx, settings)
    scores = {u: a.scores for u, a in first.answers(users).items()}
    assert first.cached_scorer.timing["tokens"] > 0
    again, _, _ = build_state(ctx, settings)  # a second run in the same process
    reused = again.answers(users)
    assert again.cached_scorer is None  # nothing was run through the LLM
    assert all(np.array_equal(reused[u].scores, scores[u]) for u in scores)
    user = int(users[0])
    key = again.prompt(user).key
    memo = state_module.ANSWER_MEMO[state_module._memo_name(again.backend)]
    assert key in memo
    again.delete(again.store.user_rows(user)[:1])
    assert key not in memo


def test_a_forgotten_users_answer_after_deletion_is_kept_for_a_rerun(monkeypatch):
    """After a user-level deletion a forgotten user's prompt holds nothing of them (no history,
    no profile, popularity candidates): its answer is nobody's, so rerunning the request (a new
    state, the same deletion) reuses it, on disk too, while their earlier answers are purged."""
    import core.llm.local as local_llm
    from core.llm.answer_store import AnswerStore
    from core.methods.cragru import state as state_module
    from core.methods.cragru.method import build_state
    from tests.test_cragru_common import make_context, params

    llm = tiny_llm()
    monkeypatch.setattr(local_llm, "load_local_llm", lambda *a, **k: llm)
    monkeypatch.setattr(state_module, "ANSWER_MEMO", {})
    monkeypatch.setattr(state_module, "MEMO_KEYS_BY_USER", {})
    ctx = make_context()
    settings = params(strategy="recent", fusion_weight=1.0, candidates=5, history_budget=4, use_cache=False)
    user = int(ctx.request.target_users[0])
    retained = int(ctx.groups.retain[0])
    disk = AnswerStore("test-identity")
    monkeypatch.setattr(disk, "flush", lambda: None)  # kept in memory: the test reads it back

    def run():
        state, _, _ = build_state(ctx, settings)
        state.answer_store = disk
        before = state.prompt(user)
        state.answers(np.asarray([user, retained]))
        assert state.owner(before) == user  # their history and profile are in it
        state.delete(ctx.removed_rows, ctx.request.target_users)
        after = state.prompt(user)
        tokens = state.cached_scorer.timing["tokens"] if state.cached_scorer else 0.0
        state.answers(np.asarray([user]))
        asked = state.cached_scorer.timing["tokens"] - tokens  # tokens the LLM ran for the post-deletion prompt
        return state, before, after, asked

    first, before, after, asked = run()
    assert first.owner(after) == -1 and len(after.history_rows) == 0 and not after.has_profile
    assert asked > 0
    memo = state_module.ANSWER_MEMO[state_module._memo_name(first.backend)]
    assert after.key in memo and before.key not in memo
    assert disk.get(after.key) is not None and disk.get(before.key) is None
    _, _, again, asked = run()  # the pre-deletion prompt is asked again (purged), the post-deletion one is not
    assert again.key == after.key and asked == 0
    assert disk.get(after.key) is not None and disk.get(before.key) is None
    state_module.ANSWER_MEMO.clear()  # a new process: only the disk has it
    _, _, _, asked = run()
    assert asked == 0


def test_identical_prompts_are_scored_once(monkeypatch):
    """Forgotten users' prompts after a user-level deletion are the same text: one LLM pass."""
    import core.llm.local as local_llm
    from core.methods.cragru import state as state_module
    from core.methods.cragru.method import build_state
    from tests.test_cragru_common import make_context, params

    llm = tiny_llm()
    monkeypatch.setattr(local_llm, "load_local_llm", lambda *a, **k: llm)
    monkeypatch.setattr(state_module, "ANSWER_MEMO", {})
    monkeypatch.setattr(state_module, "MEMO_KEYS_BY_USER", {})
    ctx = make_context()
    state, _, _ = build_state(ctx, params(strategy="recent", fusion_weight=1.0, candidates=5, use_cache=False))
    state.delete(ctx.removed_rows, ctx.request.target_users)
    users = [int(u) for u in ctx.request.target_users[:3]]
    prompts = [state.prompt(u) for u in users]
    assert len({p.key for p in prompts}) == 1 and len(users) == 3
    answers = state.answers(np.asarray(users))
    one = len(state.backend._ids(state.backend.format(prompts[0].text))) + sum(
        len(state.backend._ids(c)[:15]) + 1 for c in prompts[0].candidate_texts
    )
    assert state.cached_scorer.timing["tokens"] == one
    assert all(np.array_equal(answers[u].scores, answers[users[0]].scores) for u in users)
