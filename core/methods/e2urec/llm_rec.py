"""The LLM recommender: a causal LM whose next token after a prompt is " Yes" or " No".

Its output is the pair of logits ``[z_no, z_yes]`` at the answer position; P(like) is
their softmax. One model carries several peft LoRA adapters (the recommender, the
augmented model, the retrained reference, the student); switching the active adapter
switches the model, and the base weights are shared and never trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
import scipy.sparse as sp
import torch

from core.events import Reporter
from core.fit_loop import FitPlan, fit
from core.methods.common.lora import adapter_parameters, autocast

REC, RETRAIN, AUG, STUDENT = "rec", "retrain", "aug", "student"
"""The adapters one model carries: recommender, retrained reference, augmented, student."""


@dataclass
class Samples:
    """Labelled (user, item) prompts: ``label`` 1 = liked (a training interaction)."""

    users: np.ndarray
    items: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def take(self, index: np.ndarray) -> "Samples":
        return Samples(self.users[index], self.items[index], self.labels[index])


def pick_rows(rows: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows at random (all when ``n`` is 0 or larger than the pool), sorted."""
    if n <= 0 or n >= len(rows):
        return np.asarray(rows)
    return np.sort(rng.choice(rows, size=n, replace=False))


def sample_negatives(
    users: np.ndarray, seen: sp.csr_matrix, n_items: int, rng: np.random.Generator, tries: int = 20
) -> np.ndarray:
    """One item per user that the user has not interacted with in ``seen`` (rejection sampling)."""
    seen = seen.tocsr()
    out = rng.integers(0, n_items, len(users))
    for _ in range(tries):
        clash = np.asarray(seen[users, out]).ravel() > 0
        if not clash.any():
            break
        out[clash] = rng.integers(0, n_items, int(clash.sum()))
    return out


def labelled_samples(
    users: np.ndarray, items: np.ndarray, seen: sp.csr_matrix, n_items: int, rng: np.random.Generator
) -> Samples:
    """Each positive (user, item) with one sampled negative for the same user, interleaved."""
    neg = sample_negatives(users, seen, n_items, rng)
    return Samples(
        users=np.stack([users, users], 1).ravel(),
        items=np.stack([items, neg], 1).ravel(),
        labels=np.tile(np.array([1, 0]), len(users)),
    )


def left_pad(prompts: list[list[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded ``(ids, attention_mask)``: the answer position is the last column for every row."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, p in enumerate(prompts):
        ids[row, width - len(p) :] = torch.as_tensor(p)
        mask[row, width - len(p) :] = 1
    return ids.to(device), mask.to(device)


def answer_logits(
    model: torch.nn.Module, prompts: list[list[int]], answer_ids: tuple[int, int], pad_id: int, device: torch.device
) -> torch.Tensor:
    """``[B, 2]`` float32 logits (no, yes) after each prompt; differentiable."""
    from core.methods.e2urec.frozen_bottom import active

    ids, mask = left_pad(prompts, pad_id, device)
    position = (mask.cumsum(1) - 1).clamp(min=0)
    bottom = active(model)  # unlearning: the unadapted lower blocks' states reused per prompt
    with autocast(device):
        if bottom is not None:
            logits = bottom.upper_logits(prompts, mask, position, device)
        else:
            logits = model(
                input_ids=ids, attention_mask=mask, position_ids=position, logits_to_keep=1, use_cache=False
            ).logits
    return logits[:, -1, list(answer_ids)].float()


@torch.no_grad()
def answer_logits_batched(
    model: torch.nn.Module,
    prompts: list[list[int]],
    answer_ids: tuple[int, int],
    pad_id: int,
    device: torch.device,
    batch_size: int = 16,
    reporter: Reporter | None = None,
) -> torch.Tensor:
    model.eval()
    parts = []
    for start in range(0, len(prompts), batch_size):
        if reporter is not None:
            reporter.check()
        parts.append(answer_logits(model, prompts[start : start + batch_size], answer_ids, pad_id, device))
    return torch.cat(parts) if parts else torch.zeros(0, 2, device=device)


def use_adapter(model: torch.nn.Module, name: str, trainable: bool = False) -> None:
    """Make ``name`` the active adapter; only its weights (when ``trainable``) get gradients."""
    model.set_adapter(name)
    for param in model.parameters():
        param.requires_grad_(False)
    if trainable:
        for param in adapter_parameters(model, name).values():
            param.requires_grad_(True)


LossFn = Callable[[np.ndarray], Union[torch.Tensor, tuple[torch.Tensor, dict[str, float]]]]


def train_adapter(
    model: torch.nn.Module,
    adapter: str,
    n_samples: int,
    loss_fn: LossFn,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    reporter: Reporter,
    stage: str,
) -> float:
    """AdamW on one adapter through the shared fit loop; ``loss_fn(indices)`` computes a
    batch's loss (or ``(loss, parts)``). Returns the last epoch's mean loss.

    LoRA dropout draws from a forked, seeded global generator for reproducibility.
    """
    use_adapter(model, adapter, trainable=True)
    params = list(adapter_parameters(model, adapter).values())
    device = params[0].device

    def step(idx: torch.Tensor, _generator: torch.Generator):
        return loss_fn(idx.cpu().numpy())

    plan = FitPlan(epochs=epochs, batch_size=batch_size, seed=seed, stage=stage)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(int(seed))
        result = fit(
            step,
            params,
            n_samples,
            plan,
            reporter,
            optimizer=torch.optim.AdamW(params, lr=lr),
            module=model,
            device=device,
        )
    for param in params:
        param.requires_grad_(False)
    return result.loss


@torch.no_grad()
def candidate_logits(
    model: torch.nn.Module,
    prefix: list[int],
    suffixes: list[list[int]],
    answer_ids: tuple[int, int],
    pad_id: int,
    device: torch.device,
) -> torch.Tensor:
    """``[C, 2]`` answer logits for one user's prefix and C candidate suffixes.

    The prefix is encoded once and its key/value cache shared by every candidate; the
    suffixes are left-padded behind it with explicit positions, so each candidate
    reads exactly ``prefix + suffix`` (the same tokens as in training).
    """
    model.eval()
    pre = torch.as_tensor([prefix], device=device)
    with autocast(device):
        out = model(input_ids=pre, use_cache=True, logits_to_keep=1)
    cache = out.cache
    cache.batch_repeat_interleave(len(suffixes))
    ids, mask = left_pad(suffixes, pad_id, device)
    p = pre.shape[1]
    position = p + (mask.cumsum(1) - 1).clamp(min=0)
    full_mask = torch.cat([torch.ones(len(suffixes), p, dtype=mask.dtype, device=device), mask], 1)
    with autocast(device):
        out = model(
            input_ids=ids,
            attention_mask=full_mask,
            position_ids=position,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
    return out.logits[:, -1, list(answer_ids)].float()
