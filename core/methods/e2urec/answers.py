"""LLM answers remembered by (adapter weights, prompt): a rerun reuses identical forward passes.

Evaluation and E2URec's own measures ask the LLM the same prompts under the same adapter
weights every time a demo is run again. The key is a digest of the active adapter's
tensors plus the prompt's token ids, so a changed adapter (another request, another
seed) can never be answered from memory. Only work outside the timed unlearning step
uses this: the per-request time always includes the method's own forward passes.
With a store (:func:`use_store`: the LLM file's answers on disk, core/llm/answer_store.py)
a second launch reuses them too.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from core.llm.answer_store import AnswerStore
from core.methods.common.lora import adapter_parameters
from core.model_cache import MemoryCache

MAX_ENTRIES = 50_000  # ~ a few MB: two floats and a 16-byte key each
_MEMO = MemoryCache(MAX_ENTRIES)
_DISK: list[AnswerStore | None] = [None]  # the store of the LLM file in use (None: in-process only)


def use_store(store: AnswerStore | None) -> None:
    """Answers also read from and written to ``store`` (None: memory only), until the next call."""
    _DISK[0] = store


def flush() -> None:
    """Write the new answers to the store, if any (a failure is the store's warning, never an error)."""
    if _DISK[0] is not None:
        _DISK[0].flush()


def adapter_digest(model: torch.nn.Module, adapter: str) -> bytes:
    """A digest of ``adapter``'s weights (names, shapes and values)."""
    digest = hashlib.blake2b(adapter.encode(), digest_size=16)
    for name, param in sorted(adapter_parameters(model, adapter).items()):
        digest.update(name.encode())
        digest.update(param.detach().float().cpu().numpy().tobytes())
    return digest.digest()


def prompt_key(weights: bytes, *pieces: list[int]) -> bytes:
    digest = hashlib.blake2b(weights, digest_size=16)
    for ids in pieces:
        digest.update(np.asarray(ids, dtype=np.int64).tobytes())
        digest.update(b"|")
    return digest.digest()


def recall(key: bytes) -> np.ndarray | None:
    hit = _MEMO.get(key)
    if hit is None and _DISK[0] is not None:
        hit = _DISK[0].get(key)
        if hit is not None:
            hit = hit.astype(np.float32)
            _MEMO.put(key, hit)
    return hit


def remember(key: bytes, value: np.ndarray) -> None:
    _MEMO.put(key, value)
    if _DISK[0] is not None:
        _DISK[0].put(key, value)


def forget_all() -> None:
    _MEMO.clear()


def memo_size() -> int:
    return len(_MEMO)


def remembered_logits(
    model: torch.nn.Module,
    adapter: str,
    prompts: list[list[int]],
    answer_ids: tuple[int, int],
    pad_id: int,
    device: torch.device,
    reporter=None,
) -> torch.Tensor:
    """``[B, 2]`` answer logits under ``adapter``: remembered ones reused, the rest computed."""
    from core.methods.e2urec.llm_rec import answer_logits_batched, use_adapter

    use_adapter(model, adapter)
    weights = adapter_digest(model, adapter)
    keys = [prompt_key(weights, p) for p in prompts]
    out = np.zeros((len(prompts), 2), dtype=np.float32)
    todo = []
    for row, key in enumerate(keys):
        hit = recall(key)
        if hit is None:
            todo.append(row)
        else:
            out[row] = hit
    if todo:
        fresh = (
            answer_logits_batched(model, [prompts[i] for i in todo], answer_ids, pad_id, device, reporter=reporter)
            .cpu()
            .numpy()
        )
        for row, value in zip(todo, fresh):
            out[row] = value
            remember(keys[row], value.copy())
        flush()
    return torch.as_tensor(out, device=device)
