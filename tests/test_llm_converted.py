"""The de-quantised LLM cache: same weights and tokens back, refused when altered or foreign."""

from __future__ import annotations

import json

import pytest
import torch

from core.llm import converted
from core.llm.converted import MANIFEST, WEIGHTS, save_converted, usable


def _tiny_model_and_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "user", "liked", "toy", "story", "yes", "no"])}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="<pad>", unk_token="<unk>")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval(), tokenizer


def _logits(model, tokenizer, text="user liked toy story"):
    with torch.no_grad():
        return model(torch.tensor([tokenizer.encode(text)])).logits


def test_converted_copy_gives_the_same_model_back(tmp_path):
    from core.llm.local import _load_folder

    model, tokenizer = _tiny_model_and_tokenizer()
    folder = tmp_path / "llm" / "k1"
    assert save_converted(model, tokenizer, folder, "k1") is None
    assert usable(folder, "k1") == (True, None)
    tok2, model2 = _load_folder(folder, torch.float32)
    assert tok2.encode("user liked toy story") == tokenizer.encode("user liked toy story")
    assert torch.equal(_logits(model2, tok2), _logits(model, tokenizer))


def test_altered_or_foreign_copies_are_refused(tmp_path, monkeypatch):
    model, tokenizer = _tiny_model_and_tokenizer()
    folder = tmp_path / "llm" / "k1"
    save_converted(model, tokenizer, folder, "k1")
    ok, why = usable(folder, "k2")
    assert not ok and "another model" in why
    monkeypatch.setattr(converted, "_VERIFIED", {})  # a new process: the weights are hashed again
    weights = folder / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF  # one weight altered, size unchanged
    weights.write_bytes(bytes(data))
    ok, why = usable(folder, "k1")
    assert not ok and "checksum" in why
    (folder / MANIFEST).write_text("{not json")
    ok, why = usable(folder, "k1")
    assert not ok and "unreadable" in why
    assert usable(tmp_path / "absent", "k1") == (False, None)


def test_unwritable_cache_is_a_warning(tmp_path):
    model, tokenizer = _tiny_model_and_tokenizer()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    warning = save_converted(model, tokenizer, blocker / "llm" / "k1", "k1")
    assert warning and "not cached" in warning


@pytest.mark.slow
def test_bundled_gguf_is_converted_once_then_read_back(bundled_llm, isolated_home, monkeypatch):
    from core.llm.local import load_local_llm

    monkeypatch.setenv("CRAGRU_LLM_CACHE", str(isolated_home / "cache" / "llm"))
    first = load_local_llm(None, "cpu", fresh=True)
    assert any("de-quantised" in text for _, text in first.notes)
    second = load_local_llm(None, "cpu", fresh=True)
    assert any("converted copy" in text for _, text in second.notes)
    text = "User: 24 M technician. Liked: Toy Story (Animation). Will they like Heat (Action)? Answer:"
    assert first.tokenizer.encode(text) == second.tokenizer.encode(text)
    assert torch.equal(_logits(first.model, first.tokenizer, text), _logits(second.model, second.tokenizer, text))
    assert second.tokenizer.pad_token == first.tokenizer.pad_token
    manifest = json.loads(next((isolated_home / "cache" / "llm").glob(f"*/{MANIFEST}")).read_text())
    assert len(manifest["weights_sha256"]) == 64
