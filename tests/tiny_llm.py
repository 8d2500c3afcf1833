"""A tiny random Llama with a word-hash tokenizer, standing in for the bundled SmolLM2 in
tests that run the LLM methods' real code paths (loading the real model takes ~30 s)."""

from __future__ import annotations

import re
import zlib

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from core.llm.local import LocalLLM

VOCAB = 512


class WordTokenizer:
    """Each whitespace-separated word → a stable id (crc32); no chat template."""

    pad_token_id, eos_token_id = 0, 2
    pad_token, eos_token = "<pad>", "</s>"
    chat_template = None

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [3 + zlib.crc32(w.encode()) % (VOCAB - 3) for w in re.findall(r"\S+", text)]

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return " ".join(str(int(i)) for i in ids)


def tiny_llm(layers: int = 2, width: int = 32) -> LocalLLM:
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=width,
        intermediate_size=2 * width,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    return LocalLLM(
        model=model, tokenizer=WordTokenizer(), source="tiny", device=torch.device("cpu"), dtype=torch.float32
    )
