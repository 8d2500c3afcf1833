"""LLM answers on disk (issue 23): a second launch reuses the first's, keyed by model file and prompt."""

from __future__ import annotations

import numpy as np

from core.llm import answer_store
from core.llm.answer_store import AnswerStore, model_identity, store_for


def test_answers_survive_a_new_process_and_a_purge_reaches_the_disk(isolated_home, tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights")
    identity = model_identity(str(model), "cpu", "float32")
    first = AnswerStore(identity)
    assert first.get("prompt a") is None
    first.put("prompt a", np.array([0.5, -1.25]), user=3)
    first.put(b"\x01" * 16, np.array([2.0]), user=4)
    first.flush()
    again = AnswerStore(identity)  # what a new launch reads
    assert np.array_equal(again.get("prompt a"), [0.5, -1.25]) and np.array_equal(again.get(b"\x01" * 16), [2.0])
    assert again.purge_users({3}) == 1
    again.flush()
    third = AnswerStore(identity)
    assert third.get("prompt a") is None and len(third) == 1


def test_another_model_file_or_setting_is_another_store(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights")
    first = model_identity(str(model), "cpu")
    assert model_identity(str(model), "cuda") != first
    model.write_bytes(b"other weights")
    assert model_identity(str(model), "cpu") != first
    assert model_identity("tiny", "cpu") is None and model_identity(None) is None  # built in memory: no store
    assert store_for(None) is None and store_for(first) is store_for(first)


def test_the_oldest_answers_go_past_the_limit(isolated_home, monkeypatch):
    monkeypatch.setattr(answer_store, "MAX_ENTRIES", 2)
    store = AnswerStore("limit-test")
    for k in ("a", "b", "c"):
        store.put(k, np.array([1.0]))
    assert store.get("a") is None and store.get("c") is not None and len(store) == 2
