"""The side memory: LoRA adapters on the main memory's decoder feed-forward layers.

Trained at unlearning time only, with the main weights frozen. The objective mixes

* retention — a hinge on retained training rows: no retained interaction may become
  less likely under the side memory than under the main memory;
* forgetting, on every forgotten interaction (each in the context a request will carry,
  and in the context it was learned in):
  unlikelihood ``−log(1 − p(i))``; a pairwise margin pushing the item's logit below the
  main memory's hard negatives; a top-K penalty pushing it below the K-th best
  unseen item; an absolute suppression keeping ``p(i)`` under the uniform ``1/n_items``;
* stability — KL(main ‖ side) on retained users' requests, so users the router sends
  here by mistake get (almost) the main memory's answer.

Why detached competitors: the hard negatives and the K-th item are the user's unseen
items and may be test items; only the forgotten item's logit receives gradient from
the forget terms, so no test item is ever a training target.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model

from core.evaluation.full_sort import RowSets
from core.events import Reporter
from core.fit_loop import FitPlan, fit
from core.methods.dual_memory import chosen_blocks
from core.methods.dual_memory.generative import encode, item_logits
from core.methods.dual_memory.sequences import Examples

ADAPTER = "side"


@dataclass(frozen=True)
class SideConfig:
    rank: int = 8
    layers: str = "all"
    epochs: int = 10
    lr: float = 1e-2
    batch_size: int = 256
    w_retain: float = 0.5
    w_unlikelihood: float = 1.0
    w_margin: float = 1.0
    margin: float = 1.0
    hard_negatives: int = 10
    w_topk: float = 1.0
    topk: int = 10
    w_suppress: float = 1.0
    w_kl: float = 0.5
    seed: int = 0


def decoder_ff_targets(model: torch.nn.Module, layers: str) -> list[str]:
    """Module names of the chosen decoder blocks' feed-forward projections (``wi``, ``wo``).

    ``layers`` is ``all``, ``last`` or comma-separated block indices (``0,1``).
    """
    chosen = chosen_blocks(layers, len(model.decoder.block))
    return [f"decoder.block.{i}.layer.2.DenseReluDense.{proj}" for i in chosen for proj in ("wi", "wo")]


def attach_side_memory(main: torch.nn.Module, cfg: SideConfig) -> torch.nn.Module:
    """A peft copy of ``main`` with a zero-initialised LoRA adapter (side == main at start).

    ``main`` itself is left untouched (the prepared, cached main memory stays pristine);
    the copy's base weights are frozen by peft.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(cfg.seed))
        config = LoraConfig(
            r=cfg.rank,
            lora_alpha=cfg.rank,
            lora_dropout=0.0,
            target_modules=decoder_ff_targets(main, cfg.layers),
            bias="none",
        )
        with warnings.catch_warnings():  # peft probes a deprecated transformers property
            warnings.simplefilter("ignore", FutureWarning)
            model = get_peft_model(copy.deepcopy(main), config, adapter_name=ADAPTER)
    model.eval()
    return model


@torch.no_grad()
def hard_negatives(
    model: torch.nn.Module, contexts: torch.Tensor, seen: RowSets, users: np.ndarray, m: int, batch: int = 1024
) -> torch.Tensor:
    """``[E, m]`` the main memory's best items per context among the user's unseen items."""
    out = []
    with model.disable_adapter():
        for start in range(0, len(users), batch):
            ctx = contexts[start : start + batch]
            logits = item_logits(model, ctx)
            logits = logits.masked_fill(seen.dense(users[start : start + batch], ctx.device), float("-inf"))
            out.append(torch.topk(logits, min(m, logits.shape[1]), dim=1).indices)
    return torch.cat(out) if out else torch.zeros(0, m, dtype=torch.long, device=contexts.device)


def forget_terms(
    logits: torch.Tensor, targets: torch.Tensor, negatives: torch.Tensor, seen_mask: torch.Tensor, cfg: SideConfig
) -> dict[str, torch.Tensor]:
    """The four forget losses for a batch (means over the batch).

    ``logits [B, n_items]`` of the side memory, ``targets [B]`` forgotten items,
    ``negatives [B, M]`` hard-negative items, ``seen_mask [B, n_items]`` the user's
    training items (never competitors: evaluation masks them).
    """
    n_items = logits.shape[1]
    log_p = F.log_softmax(logits, dim=-1)
    z_t = logits.gather(1, targets[:, None]).squeeze(1)
    lp_t = log_p.gather(1, targets[:, None]).squeeze(1)
    p_t = lp_t.exp().clamp(max=1 - 1e-6)
    unlikelihood = -torch.log1p(-p_t)
    z_neg = logits.gather(1, negatives).detach()
    margin = F.relu(cfg.margin - (z_neg - z_t[:, None])).mean(dim=1)
    competitors = logits.detach().masked_fill(seen_mask, float("-inf"))
    k = min(cfg.topk, n_items)
    kth = torch.topk(competitors, k, dim=1).values[:, -1]
    kth = torch.where(torch.isfinite(kth), kth, z_t.detach())
    topk = F.relu(z_t - kth)
    suppress = F.relu(lp_t + math.log(n_items))
    return {
        "unlikelihood": unlikelihood.mean(),
        "margin": margin.mean(),
        "topk": topk.mean(),
        "suppress": suppress.mean(),
    }


def retention_hinge(side_log_p: torch.Tensor, main_log_p: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean of ``ReLU(nll_side − nll_main)`` on retained next-item examples.

    Why a hinge and not plain cross-entropy: the main memory was trained to its best
    validation point; plain cross-entropy would keep training the side memory on the
    retained rows (drifting away from the main memory for everybody), while the hinge
    only objects when the side memory predicts a retained interaction worse than the
    main memory does.
    """
    nll_side = -side_log_p.gather(1, targets[:, None]).squeeze(1)
    nll_main = -main_log_p.gather(1, targets[:, None]).squeeze(1)
    return F.relu(nll_side - nll_main).mean()


def kl_to_main(side_log_p: torch.Tensor, main_log_p: torch.Tensor) -> torch.Tensor:
    """KL(main ‖ side) per batch (mean over rows)."""
    return F.kl_div(side_log_p, main_log_p, log_target=True, reduction="batchmean")


def train_side_memory(
    model: torch.nn.Module,
    forget: Examples,
    retain: Examples,
    stability_contexts: np.ndarray,
    seen: RowSets,
    cfg: SideConfig,
    device: torch.device,
    reporter: Reporter,
    stage: str = "side memory",
) -> dict[str, float]:
    """Train the adapter on the shared fit loop (fixed epochs over the forgotten
    interactions); returns the last step's value of each loss term.

    ``forget``: every forgotten interaction (with its contexts), ``retain``: next-item
    examples from the retained rows, ``stability_contexts``: retained users' request
    inputs for the KL term, ``seen``: each user's training items (retained and
    forgotten), excluded from the competitors of the forget terms.
    """
    data = _SideData(forget, retain, stability_contexts, device)
    negatives = hard_negatives(model, data.f_ctx, seen, forget.users, cfg.hard_negatives)
    last: dict[str, float] = {}

    def step(f_idx: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        f_users = forget.users[f_idx.cpu().numpy()]
        logits = item_logits(model, data.f_ctx[f_idx])
        terms = forget_terms(logits, data.f_tgt[f_idx], negatives[f_idx], seen.dense(f_users, device), cfg)
        objective = (
            cfg.w_unlikelihood * terms["unlikelihood"]
            + cfg.w_margin * terms["margin"]
            + cfg.w_topk * terms["topk"]
            + cfg.w_suppress * terms["suppress"]
        )
        objective = objective + _stability(model, data, cfg, terms, generator)
        last.clear()
        last.update({k: float(v.detach()) for k, v in terms.items()})
        return objective, dict(last)

    params = [p for p in model.parameters() if p.requires_grad]
    plan = FitPlan(epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed, stage=stage)
    model.eval()  # LoRA has no dropout; the frozen main's dropout stays off for exact targets
    fit(step, params, len(forget), plan, reporter, lr=cfg.lr, device=device)  # module=None: modes untouched
    model.eval()
    return last


class _SideData:
    """The side memory's training tensors, on the training device."""

    def __init__(
        self, forget: Examples, retain: Examples, stability_contexts: np.ndarray, device: torch.device
    ) -> None:
        self.f_ctx = torch.as_tensor(forget.contexts, device=device)
        self.f_tgt = torch.as_tensor(forget.targets, device=device)
        self.r_ctx = torch.as_tensor(retain.contexts, device=device)
        self.r_tgt = torch.as_tensor(retain.targets, device=device)
        self.s_ctx = torch.as_tensor(stability_contexts, device=device)


def _stability(
    model: torch.nn.Module, data: _SideData, cfg: SideConfig, terms: dict[str, torch.Tensor], generator: torch.Generator
) -> torch.Tensor | float:
    """Retention hinge and KL to the main memory on a random retained batch (adds to ``terms``)."""
    bs, device = cfg.batch_size, generator.device
    r_idx = torch.randint(len(data.r_ctx), (bs,), generator=generator, device=device) if len(data.r_ctx) else None
    s_idx = torch.randint(len(data.s_ctx), (bs,), generator=generator, device=device) if len(data.s_ctx) else None
    parts = ([data.r_ctx[r_idx]] if r_idx is not None else []) + ([data.s_ctx[s_idx]] if s_idx is not None else [])
    if not parts:
        return 0.0
    stab_ctx = torch.cat(parts)
    encoded = encode(model, stab_ctx)  # no adapter in the encoder: the same for side and main memory
    side_lp = F.log_softmax(item_logits(model, stab_ctx, encoded), dim=-1)
    with torch.no_grad(), model.disable_adapter():
        main_lp = F.log_softmax(item_logits(model, stab_ctx, encoded), dim=-1)
    extra: torch.Tensor | float = 0.0
    if r_idx is not None:
        n_r = len(r_idx)
        terms["retain"] = retention_hinge(side_lp[:n_r], main_lp[:n_r], data.r_tgt[r_idx])
        extra = extra + cfg.w_retain * terms["retain"]
    if cfg.w_kl > 0:
        terms["kl"] = kl_to_main(side_lp, main_lp)
        extra = extra + cfg.w_kl * terms["kl"]
    return extra
