"""Scoring mode: rank candidates by the LLM's log-likelihood of each candidate's text.

For one user the prompt is encoded once and every candidate continuation is scored in
the same forward pass: the candidates are packed behind the prompt, each in its own
block of ``L`` slots, and a block attention mask lets a candidate token see the prompt
and the earlier tokens of its own candidate only (position ids restart after the
prompt for each block). So the prompt's keys/values are computed once and shared
without being copied per candidate, and only the positions that predict a candidate
token are projected onto the vocabulary (``logits_to_keep``). Users are batched: the
prompts are left-padded so every row's candidate blocks sit in the same columns.

A candidate's score is the mean log-probability of its tokens (length-normalised, so
long titles are not penalised for being long). Everything is deterministic.
"""

from __future__ import annotations

import numpy as np
import torch


def _pack(
    prompts: list[list[int]], candidates: list[list[list[int]]], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int, int, int]:
    """Token ids, segment ids, intra-segment positions and position ids of a packed batch."""
    batch = len(prompts)
    n = len(candidates[0])
    if any(len(c) != n for c in candidates):
        raise ValueError("every user in a scoring batch needs the same number of candidates")
    width_p = max(len(p) for p in prompts)
    width_c = max(1, max((len(t) for cands in candidates for t in cands), default=1))
    width = width_p + n * width_c
    ids = np.full((batch, width), pad_id, dtype=np.int64)
    seg = np.full((batch, width), -1, dtype=np.int64)  # -1 pad, 0 prompt, j+1 candidate j
    pos = np.zeros((batch, width), dtype=np.int64)
    targets = np.zeros((batch, n, width_c), dtype=np.int64)
    valid = np.zeros((batch, n, width_c), dtype=bool)
    for b, (prompt, cands) in enumerate(zip(prompts, candidates)):
        p = len(prompt)
        ids[b, width_p - p : width_p] = prompt
        seg[b, width_p - p : width_p] = 0
        pos[b, width_p - p : width_p] = np.arange(p)
        for j, toks in enumerate(cands):
            start = width_p + j * width_c
            m = len(toks)
            ids[b, start : start + m] = toks
            seg[b, start : start + m] = j + 1
            pos[b, start : start + m] = p + np.arange(m)
            targets[b, j, :m] = toks
            valid[b, j, :m] = True
    t = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
    return t(ids), t(seg), t(pos), t(targets), t(valid), width_p, width_c, n


def block_mask(seg: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Additive 4D mask ``[B, 1, W, W]``: prompt causal; a candidate block sees the prompt
    and itself causally; padding sees only itself (no fully masked rows)."""
    width = seg.shape[1]
    col = torch.arange(width, device=seg.device)
    causal = col[None, :] <= col[:, None]  # [q, kv]
    sq, skv = seg[:, :, None], seg[:, None, :]
    allowed = (skv == 0) & (sq >= 0) & causal
    allowed |= (sq == skv) & (sq > 0) & causal
    allowed |= torch.eye(width, dtype=torch.bool, device=seg.device)[None]
    mask = torch.zeros(allowed.shape, dtype=dtype, device=seg.device)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None]


@torch.no_grad()
def packed_candidate_logprobs(
    model: torch.nn.Module,
    prompts: list[list[int]],
    candidates: list[list[list[int]]],
    pad_id: int,
    device: torch.device,
) -> np.ndarray:
    """``[B, N]`` mean token log-probability of each candidate after its user's prompt."""
    ids, seg, pos, targets, valid, width_p, width_c, n = _pack(prompts, candidates, pad_id, device)
    dtype = next(model.parameters()).dtype
    # Positions whose next-token distribution is scored: the prompt's last token (predicts
    # every candidate's first token), then every slot but the last of each block.
    within = torch.arange(width_c - 1, device=device)
    block_cols = (width_p + torch.arange(n, device=device)[:, None] * width_c + within[None, :]).reshape(-1)
    keep = torch.cat([torch.tensor([width_p - 1], device=device), block_cols])
    out = model(
        input_ids=ids, attention_mask=block_mask(seg, dtype), position_ids=pos, logits_to_keep=keep, use_cache=False
    )
    logits = out.logits.float()  # [B, 1 + n*(L-1), V]
    logz = torch.logsumexp(logits, dim=-1)  # [B, K]
    # kept index predicting candidate j token k: 0 when k == 0, else 1 + j*(L-1) + k-1
    k = torch.arange(width_c, device=device)
    j = torch.arange(n, device=device)
    index = torch.where(
        k[None, :] == 0,
        torch.zeros((), dtype=torch.long, device=device),
        1 + j[:, None] * (width_c - 1) + k[None, :] - 1,
    )  # [n, L]
    flat = index.reshape(-1)  # [n*L]
    rows = torch.arange(ids.shape[0], device=device)[:, None]
    tgt = targets.reshape(ids.shape[0], -1)
    token_lp = logits[rows, flat[None, :], tgt] - logz[:, flat]  # [B, n*L]
    token_lp = token_lp.reshape(ids.shape[0], n, width_c)
    token_lp = torch.where(valid, token_lp, torch.zeros_like(token_lp))
    lengths = valid.sum(-1).clamp(min=1)
    return (token_lp.sum(-1) / lengths).cpu().numpy()


@torch.no_grad()
def naive_candidate_logprobs(
    model: torch.nn.Module, prompt: list[int], candidates: list[list[int]], device: torch.device
) -> np.ndarray:
    """Reference: each ``prompt + candidate`` run as a full sequence (slow; for tests)."""
    scores = []
    for toks in candidates:
        ids = torch.as_tensor([prompt + toks], device=device)
        logp = torch.log_softmax(model(input_ids=ids, use_cache=False).logits.float(), -1)[0]
        p = len(prompt)
        lp = [float(logp[p - 1 + k, t]) for k, t in enumerate(toks)]
        scores.append(sum(lp) / max(1, len(lp)))
    return np.asarray(scores)


PREFILL_CHUNK = 256
"""Prompt tokens per forward pass while prefilling: a stop request is honoured within
~0.7 s on one core of the 2-core CPU (135M model, ~55 GFLOP a chunk), and the chunked
prefill costs what one pass over the whole prompt costs (measured with 704 tokens, one
thread: 1.86 s vs 1.84 s; 96-token chunks: 2.07 s)."""


def _clone_cache(cache):
    """An independent copy of a KV cache (the shared prefix is extended per prompt)."""
    import copy

    return copy.deepcopy(cache)


class CachedScorer:
    """Candidate log-likelihoods from one prefill per prompt: the prompt's keys/values are
    computed once (in chunks of :data:`PREFILL_CHUNK` tokens, a cancel check between
    chunks), the instruction prefix shared by every prompt is computed once per scorer,
    and the candidates are scored from the prompt's cache in one batched pass (each
    candidate a row reading the same cache; no candidate sees another). Same numbers as
    :func:`packed_candidate_logprobs` up to float rounding (tested)."""

    def __init__(
        self, model: torch.nn.Module, pad_id: int, device: torch.device, check=lambda: None, chunk: int = PREFILL_CHUNK
    ) -> None:
        self.model, self.pad_id, self.device = model, int(pad_id), torch.device(device)
        self.check, self.chunk = check, max(1, int(chunk))
        self._prefix: tuple[list[int], object] | None = None
        self.timing = {"prefill_s": 0.0, "candidates_s": 0.0, "prefix_tokens_saved": 0.0, "tokens": 0.0}

    def set_prefix(self, ids: list[int]) -> None:
        """Prefill the tokens every prompt starts with, once."""
        self._prefix = (list(ids), self._prefill(list(ids), None) if ids else None)

    @torch.no_grad()
    def _prefill(self, ids: list[int], cache):
        import time

        t = time.perf_counter()
        done = cache.get_seq_length() if cache is not None else 0
        for start in range(0, len(ids), self.chunk):
            self.check()
            part = torch.as_tensor([ids[start : start + self.chunk]], device=self.device)
            pos = torch.arange(done + start, done + start + part.shape[1], device=self.device)[None]
            cache = self.model(input_ids=part, position_ids=pos, cache=cache, use_cache=True, logits_to_keep=1).cache
        self.timing["prefill_s"] += time.perf_counter() - t
        return cache

    @torch.no_grad()
    def score(self, prompt: list[int], candidates: list[list[int]]) -> np.ndarray:
        """``[N]`` mean token log-probability of each candidate after ``prompt``."""
        import time

        prefix, cache = self._prefix or ([], None)
        shared = len(prefix) if prompt[: len(prefix)] == prefix and len(prompt) > len(prefix) else 0
        cache = _clone_cache(cache) if shared and cache is not None else None
        self.timing["prefix_tokens_saved"] += shared
        self.timing["tokens"] += len(prompt) + sum(len(c) for c in candidates)
        # the last prompt token is fed with the candidates: its logits predict their first token
        cache = self._prefill(prompt[shared:-1], cache)
        self.check()
        t = time.perf_counter()
        out = self._candidates(prompt[-1], len(prompt) - 1, cache, candidates)
        self.timing["candidates_s"] += time.perf_counter() - t
        return out

    def _candidates(self, last: int, offset: int, cache, candidates: list[list[int]]) -> np.ndarray:
        """All candidates packed in one row behind the cache (block mask: each sees the
        prompt and itself), so the cache is read, never copied per candidate."""
        n, width = len(candidates), max(len(c) for c in candidates) + 1
        ids = np.full(n * width, self.pad_id, dtype=np.int64)
        seg = np.full(n * width, -1, dtype=np.int64)
        pos = np.full(n * width, offset, dtype=np.int64)
        for j, toks in enumerate(candidates):
            block = [last, *toks]
            ids[j * width : j * width + len(block)] = block
            seg[j * width : j * width + len(block)] = j + 1
            pos[j * width : j * width + len(block)] = offset + np.arange(len(block))
        past = cache.get_seq_length() if cache is not None else 0
        seg_t = torch.as_tensor(seg, device=self.device)
        dtype = next(self.model.parameters()).dtype
        mask = torch.zeros((1, 1, n * width, past + n * width), dtype=dtype, device=self.device)
        mask[:, :, :, past:] = block_mask(seg_t[None], dtype)  # blocks see themselves; all see the cache
        logits = (
            self.model(
                input_ids=torch.as_tensor(ids, device=self.device)[None],
                attention_mask=mask,
                position_ids=torch.as_tensor(pos, device=self.device)[None],
                cache=cache,
                use_cache=cache is not None,
            )
            .logits[0]
            .float()
        )
        logp = torch.log_softmax(logits.reshape(n, width, -1)[:, :-1], -1)
        target = torch.as_tensor(ids.reshape(n, width)[:, 1:], device=self.device)
        valid = torch.as_tensor(seg.reshape(n, width)[:, 1:] > 0, device=self.device)
        token_lp = logp.gather(-1, target[..., None])[..., 0]
        token_lp = torch.where(valid, token_lp, torch.zeros_like(token_lp))
        return (token_lp.sum(-1) / valid.sum(-1).clamp(min=1)).cpu().numpy()
