"""The main memory: a generative sequential recommender on a small, randomly initialised T5.

Items are single vocabulary tokens, so "generate the next item" is one decoder step:
one forward pass gives the log-probability of every item, a full ranking for the
shared evaluator. Beam search with K beams over a single-token target returns the
same top-K (:func:`beam_top_k`, kept for the published protocol and checked in tests).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from transformers import LogitsProcessor, LogitsProcessorList, T5Config, T5ForConditionalGeneration

from core.evaluation.full_sort import RowSets, evaluate_users
from core.events import Reporter
from core.fit_loop import FitPlan, fit
from core.methods.common.lora import autocast
from core.methods.dual_memory.sequences import EOS, ITEM_OFFSET, PAD, Examples


@dataclass(frozen=True)
class MainConfig:
    """Size and training budget of the main memory (part of its cache key)."""

    history_len: int = 20
    dim: int = 64
    layers: int = 2
    heads: int = 4
    dropout: float = 0.1
    epochs: int = 20
    lr: float = 3e-3
    batch_size: int = 256
    patience: int = 3
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def build_t5(n_items: int, cfg: MainConfig) -> T5ForConditionalGeneration:
    """A T5 whose vocabulary is PAD, EOS and one token per item; random init from ``cfg.seed``."""
    config = T5Config(
        vocab_size=ITEM_OFFSET + n_items,
        d_model=cfg.dim,
        d_kv=max(8, cfg.dim // cfg.heads),
        d_ff=cfg.dim * 2,
        num_layers=cfg.layers,
        num_decoder_layers=cfg.layers,
        num_heads=cfg.heads,
        dropout_rate=cfg.dropout,
        feed_forward_proj="relu",
        pad_token_id=PAD,
        eos_token_id=EOS,
        decoder_start_token_id=PAD,
        relative_attention_num_buckets=16,
        relative_attention_max_distance=max(32, cfg.history_len + 2),
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(cfg.seed))
        model = T5ForConditionalGeneration(config)
    return model


def encode(model: torch.nn.Module, contexts: torch.Tensor):
    """The encoder's outputs for ``contexts``: what :func:`item_logits` computes first. The side
    memory adapts decoder blocks only, so side and main memory share these for the same inputs."""
    with autocast(contexts.device):
        return model.get_encoder()(input_ids=contexts, attention_mask=contexts.ne(PAD))


def item_logits(model: torch.nn.Module, contexts: torch.Tensor, encoded=None) -> torch.Tensor:
    """``[B, n_items]`` float32 logits of the first decoded token, restricted to item tokens;
    ``encoded``: :func:`encode` of the same ``contexts``, computed once for several calls."""
    start = torch.full((contexts.shape[0], 1), PAD, dtype=torch.long, device=contexts.device)
    inputs = {"input_ids": contexts} if encoded is None else {"encoder_outputs": encoded}
    with autocast(contexts.device):
        out = model(**inputs, attention_mask=contexts.ne(PAD), decoder_input_ids=start)
    return out.logits[:, 0, ITEM_OFFSET:].float()


def item_log_probs(model: torch.nn.Module, contexts: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over items (renormalised without the special tokens)."""
    return F.log_softmax(item_logits(model, contexts), dim=-1)


class _ItemMask(LogitsProcessor):
    """Beam-search logits processor: only item tokens, and no masked (already seen) item."""

    def __init__(self, banned: torch.Tensor) -> None:
        self.banned = banned  # bool [B, vocab]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        beams = scores.shape[0] // self.banned.shape[0]
        banned = self.banned.repeat_interleave(beams, dim=0)
        return scores.masked_fill(banned, float("-inf"))


@torch.no_grad()
def beam_top_k(
    model: torch.nn.Module, contexts: torch.Tensor, k: int, masked: torch.Tensor | None = None
) -> torch.Tensor:
    """Top-``k`` items ``[B, k]`` by beam search (``k`` beams, one new token), duplicates removed.

    ``masked`` (bool ``[B, n_items]``) bans items such as the user's training items.
    """
    model.eval()
    batch = contexts.shape[0]
    vocab = model.config.vocab_size
    banned = torch.zeros(batch, vocab, dtype=torch.bool, device=contexts.device)
    banned[:, :ITEM_OFFSET] = True
    if masked is not None:
        banned[:, ITEM_OFFSET:] = masked
    with autocast(contexts.device):
        out = model.generate(
            input_ids=contexts,
            attention_mask=contexts.ne(PAD),
            num_beams=k,
            num_return_sequences=k,
            max_new_tokens=1,
            min_new_tokens=1,
            do_sample=False,
            early_stopping=True,
            length_penalty=0.0,
            logits_processor=LogitsProcessorList([_ItemMask(banned)]),
            decoder_start_token_id=PAD,
            pad_token_id=PAD,
            eos_token_id=EOS,
        )
    items = (out[:, -1] - ITEM_OFFSET).view(batch, k)
    # distinct by construction for a single step; keep the first occurrence if a backend repeats
    result = torch.full_like(items, -1)
    for row in range(batch):  # k is small; this only runs for the beam-search cross-check
        seen: list[int] = []
        for item in items[row].tolist():
            if item not in seen:
                seen.append(item)
        result[row, : len(seen)] = torch.as_tensor(seen)
    return result


class ContextScorer:
    """A :class:`~core.models.base.Scorer` view of a sequence model over fixed user inputs."""

    def __init__(
        self, model: torch.nn.Module, contexts: torch.Tensor, known: torch.Tensor, popularity: torch.Tensor
    ) -> None:
        self.model = model
        self.contexts = contexts
        self.n_users, self.n_items = contexts.shape[0], int(popularity.shape[0])
        self._known = known
        self._popularity = popularity

    @property
    def device(self) -> torch.device:
        return self.contexts.device

    @property
    def known_users(self) -> torch.Tensor:
        return self._known

    @property
    def popularity(self) -> torch.Tensor:
        return self._popularity

    @torch.no_grad()
    def score(self, users: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        return item_log_probs(self.model, self.contexts[users.to(self.device)])


def train_main(
    model: T5ForConditionalGeneration,
    examples: Examples,
    cfg: MainConfig,
    device: torch.device,
    reporter: Reporter,
    validation: tuple[ContextScorer, np.ndarray, RowSets, RowSets] | None = None,
    stage: str = "main memory",
) -> float:
    """Next-item cross-entropy with Adam on the shared fit loop; early stopping on valid
    NDCG@10 (best state kept). Dropout draws from a forked, seeded global generator and
    batches from the loop's own: same data and seed, same model.
    Returns the best validation NDCG@10 (NaN without validation).
    """
    model.to(device)
    contexts = torch.as_tensor(examples.contexts, device=device)
    targets = torch.as_tensor(examples.targets, device=device)

    def step(idx: torch.Tensor, _generator: torch.Generator) -> torch.Tensor:
        return F.cross_entropy(item_logits(model, contexts[idx]), targets[idx])

    validate = None
    if validation is not None:
        scorer, users, truth, mask = validation

        def validate() -> float:
            values = evaluate_users(scorer, users, truth, mask, ks=(10,))["ndcg@10"]
            return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")

    plan = FitPlan(epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed, stage=stage, patience=cfg.patience)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(cfg.seed))
        result = fit(
            step,
            list(model.parameters()),
            len(examples),
            plan,
            reporter,
            lr=cfg.lr,
            validate=validate,
            module=model,
            device=device,
        )
    return result.best_score
