"""What unlearning must guarantee: no test item or forgotten interaction in any prompt's
history, an audit that finds planted rows and nothing after deletion, other users'
prompts untouched, and deletion that is fast."""

from __future__ import annotations

import numpy as np
import pytest
from test_cragru_common import FakeBackend, make_context, params

from core.errors import ConfigError
from core.methods.cragru.audit import audit_erasure
from core.methods.cragru.method import build_state, prepare, unlearn
from core.methods.cragru.prompts import NO_HISTORY, PromptBuilder, parse_template, profile_sentence

REQUESTS = ("users:random:0.05", "items:random:0.05", "interactions:random:0.05")


def _history_section(text: str) -> str:
    return text.split("Candidate")[0]


@pytest.mark.parametrize("request_text", REQUESTS)
@pytest.mark.parametrize("strategy", ["diversity", "attention", "none"])
def test_no_prompt_holds_a_test_item_or_a_forgotten_interaction(request_text, strategy):
    ctx = make_context(request_text)
    p = params(strategy=strategy)
    prep = prepare(ctx, p, backend=FakeBackend())
    unlearn(ctx, p, prep)
    state, ds, split = prep.state, ctx.dataset, ctx.split
    removed = set(ctx.removed_rows.tolist())
    retained = set(ctx.retained_rows.tolist())
    held_out = {}
    for row in np.concatenate([split.test, split.valid]).tolist():
        held_out.setdefault(int(ds.users[row]), set()).add(int(ds.items[row]))
    removed_pairs = set(zip(ds.users[ctx.removed_rows].tolist(), ds.items[ctx.removed_rows].tolist()))
    for user in range(ds.n_users):  # every user of the run
        prompt = state.prompt(user)
        rows = prompt.history_rows.tolist()
        assert set(rows) <= retained and not set(rows) & removed
        assert (ds.users[prompt.history_rows] == user).all()
        assert not set(prompt.history_items.tolist()) & held_out.get(user, set())
        assert not {(user, i) for i in prompt.history_items.tolist()} & removed_pairs
        section = _history_section(prompt.text)
        for item in held_out.get(user, set()):  # titles of test/valid items never in the history text
            assert f"- {state.builder.titles[item]}{state.builder.years[item]}," not in section
        assert len(rows) <= p["history_budget"]
        if strategy == "none":  # the ablation: profile and candidates only
            assert rows == [] and NO_HISTORY in prompt.text
        # candidates: the base top-N with the retained history masked, nothing else
        assert not set(prompt.candidates.tolist()) & set(state.store.user_items(user).tolist())
    if ctx.request.request.kind == "users":
        for user in ctx.request.target_users.tolist():
            prompt = state.prompt(user)
            assert NO_HISTORY in prompt.text and not prompt.has_profile


def test_audit_finds_planted_rows_then_none_after_deletion():
    ctx = make_context("users:random:0.05")
    p = params(strategy="preference")
    state, _, _ = build_state(ctx, p, backend=FakeBackend())
    forgotten = ctx.request.target_users
    # plant: warm every cache for the forgotten users and a few others, LLM answers included
    others = ctx.groups.retain[:5]
    state.answers(np.concatenate([forgotten, others]))
    before = audit_erasure(state, ctx.request)
    locations = {f.location for f in before}
    assert {"store", "retrieved_history", "prompt", "llm_answer", "profile", "prompt_profile"} <= locations
    assert {f.row for f in before if f.location == "store"} == set(ctx.removed_rows.tolist())
    untouched = {int(u): state.prompt_cache[int(u)].text for u in others}
    answers_before = {int(u): state.llm_cache[state.prompt_cache[int(u)].key] for u in others}

    report = state.delete(ctx.removed_rows, forgotten)
    assert audit_erasure(state, ctx.request) == []
    assert report.rows_deleted == len(ctx.removed_rows) and report.seconds < 0.5
    for u in others:  # other users' prompts and answers are the very same objects
        assert state.prompt_cache[int(u)].text == untouched[int(u)]
        assert state.llm_cache[state.prompt_cache[int(u)].key] is answers_before[int(u)]
    for u in forgotten.tolist():
        assert state.store.count(u) == 0 and u not in state.prompt_cache


def test_audit_catches_a_stale_cache():
    ctx = make_context("items:random:0.05")
    state, _, _ = build_state(
        ctx, params(strategy="recent", history_budget=200, max_prompt_tokens=32768), backend=FakeBackend()
    )
    removed = set(ctx.removed_rows.tolist())
    # a user whose prompt shows a forgotten interaction (every history row fits the budget)
    user = next(int(u) for u in ctx.request.forget_users if set(state.prompt(int(u)).history_rows.tolist()) & removed)
    stale = state.prompt_cache[user]
    state.delete(ctx.removed_rows)
    assert audit_erasure(state, ctx.request) == []
    state.prompt_cache[user] = stale  # a bug that forgot to purge would leave this
    found = audit_erasure(state, ctx.request)
    assert found and all(f.location == "prompt" and f.user == user for f in found)
    assert {f.row for f in found} == set(stale.history_rows.tolist()) & removed


def test_unlearning_is_milliseconds_and_other_users_prompts_are_unchanged():
    ctx = make_context("users:random:0.05")
    p = params(strategy="diversity")
    prep = prepare(ctx, p, backend=FakeBackend())
    retain = ctx.groups.retain[:20]
    before = {int(u): prep.state.prompt(int(u)).text for u in retain}
    outcome = unlearn(ctx, p, prep)
    assert outcome.extras["deletion_ms"] < 500 and outcome.extras["audit_findings"] == 0
    assert outcome.extras["rows_deleted"] == len(ctx.removed_rows)
    assert all(prep.state.prompt(int(u)).text == before[int(u)] for u in retain)


def test_prompt_respects_the_token_budget_and_template():
    ctx = make_context()
    backend = FakeBackend()
    state, _, _ = build_state(ctx, params(strategy="recent", history_budget=40, max_prompt_tokens=330), backend)
    user = int(np.argmax(np.bincount(ctx.dataset.users[ctx.split.train])))
    prompt = state.prompt(user)
    assert prompt.n_tokens <= 330 and backend.count_tokens(prompt.text) == prompt.n_tokens
    assert 0 < len(prompt.history_rows) < 40  # lines were dropped, newest kept
    newest = state.store.user_rows(user)[-len(prompt.history_rows) :]
    assert sorted(prompt.history_rows.tolist()) == sorted(newest.tolist())
    with pytest.raises(ConfigError):
        parse_template("{history} {nope}")
    with pytest.raises(ConfigError):
        parse_template("only {history}")
    custom = PromptBuilder(ctx.dataset, backend.count_tokens, template="H:\\n{history}\\nC:\\n{candidates}")
    text = custom.build(0, None, np.array([0]), np.array([3]), np.array([4.0]), np.array([0]), np.array([5, 6])).text
    assert text.startswith("H:\n- ") and "\nC:\n" in text


def test_profile_sentence_is_gender_neutral():
    text = profile_sentence({"age": 24, "occupation": "technician"})
    assert text == "The user is 24 years old and their occupation is technician."
    assert not any(w in text.lower().split() for w in ("he", "she", "his", "her"))
    assert profile_sentence({}) == "No profile information is available."
