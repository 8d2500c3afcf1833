"""Issue 16, cache entries: E2URec's tuned adapters are keyed, checksummed entries; another
key's file planted under its name, an altered, an unkeyed or a wrongly shaped one is refused
with a warning and the adapter tuned again (nothing of it copied); an unwritable cache is a
warning. A tiny random Llama (tests/test_e2urec.py) stands in for the bundled LLM."""

import warnings
from dataclasses import replace

import pytest
import torch

from core.events import LogEvent, Reporter
from core.methods.e2urec.llm_rec import REC
from core.methods.e2urec.method import CACHE_KIND, _adapter_key, _adapter_state, _train_recommender, lora_config
from core.methods.e2urec.prompts import PromptBuilder, answer_token_ids
from core.methods.registry import get_method
from core.model_cache import ENTRY_MAGIC, cached_path, save_entry
from tests.demo_context import demo_context
from tests.test_e2urec import WordTokenizer, tiny_llama

LOGS: list[LogEvent] = []


@pytest.fixture(scope="module")
def setup():
    ctx = demo_context(reporter=Reporter(lambda e: LOGS.append(e) if isinstance(e, LogEvent) else None))
    ds, split = ctx.dataset, ctx.split
    params = get_method("e2urec").validate(dict(rec_samples=16, lora_rank=4, use_cache=True))
    tokenizer = WordTokenizer()
    prompts = PromptBuilder(ds, tokenizer, split.train, params["n_history"], params["title_words"])
    return ctx, params, prompts, (answer_token_ids(tokenizer), tokenizer.pad_token_id)


def tune(setup, seed: int = 0):
    """A fresh peft model's REC adapter tuned or loaded; (state, from_cache, warnings)."""
    from peft import get_peft_model

    ctx, params, prompts, ids = setup
    ctx = replace(ctx, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        llm = tiny_llama()
        model = get_peft_model(llm, lora_config(params, llm.config.num_hidden_layers), adapter_name=REC)
    LOGS.clear()
    cached = _train_recommender(ctx, params, model, REC, ctx.split.train, prompts, ids, ())
    return _adapter_state(model, REC), cached, [e.text for e in LOGS if e.level == "warning"]


def entry(setup, seed: int = 0):
    ctx, params, _, _ = setup
    key = _adapter_key(replace(ctx, seed=seed), params, REC)
    return cached_path(key, CACHE_KIND), key


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_adapter_entry_is_keyed_and_refuses_what_is_not_its_own(isolated_home, setup):
    tuned, cached, warned = tune(setup)
    path, _ = entry(setup)
    assert not cached and not warned and path.read_bytes().startswith(ENTRY_MAGIC)
    loaded, cached, warned = tune(setup)
    assert cached and not warned and same(loaded, tuned)

    other, _, _ = tune(setup, seed=3)  # another key's valid adapter, planted under this one's name
    assert not same(other, tuned)
    path.write_bytes(entry(setup, seed=3)[0].read_bytes())
    again, cached, warned = tune(setup)
    assert not cached and any("another key" in w and "training again" in w for w in warned)
    assert same(again, tuned)  # tuned again from its own seed, nothing of the planted file

    body = bytearray(path.read_bytes())
    body[-10] ^= 0xFF
    path.write_bytes(bytes(body))
    _, cached, warned = tune(setup)
    assert not cached and any("checksum" in w for w in warned)

    torch.save(tuned, path)  # the older format: valid weights, no key
    _, cached, warned = tune(setup)
    assert not cached and any("no key" in w for w in warned)


def test_an_entry_of_another_shape_is_retuned_not_a_crash(isolated_home, setup):
    tuned, _, _ = tune(setup)
    path, key = entry(setup)
    wrong = {k: torch.zeros(v.shape[0] + 1, *v.shape[1:]) for k, v in tuned.items()}  # right key, another rank
    assert save_entry(path, key, wrong) is None
    again, cached, warned = tune(setup)
    assert not cached and any("do not match" in w and "training again" in w for w in warned)
    assert same(again, tuned)


def test_an_unwritable_cache_is_a_warning(isolated_home, setup, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(blocker))
    state, cached, warned = tune(setup)
    assert state and not cached and any("not saved" in w for w in warned)
