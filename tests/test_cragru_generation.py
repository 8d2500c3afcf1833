"""Generate mode: the JSON parser on malformed outputs, retries and fallbacks, path counts."""

from __future__ import annotations

import numpy as np
import pytest
from test_cragru_common import FakeBackend, make_context, params

from core.methods.cragru.generation_parse import parse_ranking
from core.methods.cragru.method import build_state

IDS = ["10", "20", "30", "40"]


@pytest.mark.parametrize(
    "text, order, complete",
    [
        ('{"ranking": [30, 10, 40, 20]}', [2, 0, 3, 1], True),
        ('Sure! ```json\n{"ranking": ["40", "30", "20", "10"]}\n``` Hope this helps', [3, 2, 1, 0], True),
        ("[20, 10, 30, 40]", [1, 0, 2, 3], True),
        ('{"10": 55, "20": 90, "30": 70, "40": 10}', [1, 2, 0, 3], True),  # the paper's id → score form
        ('{"ranking": [{"id": 40}, {"id": 10}]}', [3, 0, 1, 2], False),  # missing appended in base order
        ('{"ranking": [99, 30, 30, "abc", 10]}', [2, 0, 1, 3], False),  # unknown dropped, duplicate removed
        ('{"ranking": [30.0, 20]}', [2, 1, 0, 3], False),
    ],
)
def test_parser_repairs_what_it_can(text, order, complete):
    parsed = parse_ranking(text, IDS)
    assert parsed.ok and parsed.order.tolist() == order and parsed.complete == complete
    assert sorted(parsed.order.tolist()) == [0, 1, 2, 3]


def test_parser_counts_the_repairs():
    parsed = parse_ranking('{"ranking": [99, 30, 30, "abc", 10]}', IDS)
    assert (parsed.n_known, parsed.n_unknown, parsed.n_duplicates, parsed.n_missing) == (2, 2, 1, 2)


@pytest.mark.parametrize(
    "text", ["", "I like movies", '{"ranking": [30, 10', "[1, 2, 3]", '{"ranking": "30, 10"}', "null", '{"a": "b"}']
)
def test_parser_rejects_what_is_not_a_ranking(text):
    parsed = parse_ranking(text, IDS)
    assert not parsed.ok and parsed.order.tolist() == [0, 1, 2, 3]


def test_lenient_parse_salvages_known_ids_from_broken_json():
    parsed = parse_ranking('{"ranking": [30, 10', IDS, lenient=True)
    assert parsed.ok and parsed.salvaged and parsed.order.tolist() == [2, 0, 1, 3]
    assert not parse_ranking("nothing here", IDS, lenient=True).ok


def _ranking_json(prompt_ids: list[str], reverse: bool = True) -> str:
    ids = prompt_ids[::-1] if reverse else prompt_ids
    return '{"ranking": [' + ", ".join(ids) + "]}"


def test_generate_mode_retries_then_falls_back_and_records_the_path():
    ctx = make_context()
    p = params(mode="generate", gen_retries=1, strategy="recent")
    backend = FakeBackend()
    state, _, _ = build_state(ctx, p, backend=backend)
    users = ctx.groups.retain[:3]
    prompts = [state.prompt(int(u)) for u in users]
    good = _ranking_json(prompts[0].candidate_ids)
    # user 0: good at once; user 1: broken then good; user 2: broken twice → salvage fails → base order
    backend.outputs = [good, "oops", "{still broken", _ranking_json(prompts[1].candidate_ids), "no ids at all"]
    answers = state.ask(prompts)
    assert [a.path for a in answers] == ["generate_complete", "generate_complete", "fallback_base"]
    assert answers[0].scores.argmax() == len(prompts[0].candidates) - 1  # reversed order came through
    base_first = np.argsort(-answers[2].scores, kind="stable")
    assert base_first.tolist() == list(range(len(prompts[2].candidates)))
    assert state.path_counts["generate_complete"] == 2 and state.path_counts["fallback_base"] == 1
    assert "JSON" in prompts[0].text and prompts[0].candidate_ids[0] in prompts[0].text
