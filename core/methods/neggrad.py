"""NegGrad: gradient ascent on the forgotten interactions, descent on retained ones.

Plain ascent on a BPR loss has no floor: the loss of a forgotten pair grows without
limit and drags the shared item embeddings with it. Three guards keep it bounded:
each forgotten triple's loss is clipped at ``loss_bound`` (a pair pushed that far below
its negative stops contributing), training stops once the mean loss of the forgotten
pairs passes the bound, and gradients are clipped by norm. The default bound, ln 2 ≈
0.693, is the loss of a pair scored level with a random negative. By default training
stops earlier still, once the forgotten items rank no better than popularity would
rank them — where the retrained model puts a user it never saw.

:func:`forget_retain_training` is the loop NegGrad and reverse BPR share; they differ
only in the loss on the forgotten triples. :func:`run_forget_retain` and
:func:`forget_retain_params` share their parameter wiring and forms.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from core.methods.finetune import copy_for_unlearning
from core.methods.registry import MethodSpec, ParamSpec, UnlearnContext, UnlearnOutcome, register
from core.models.negative_sampling import NegativeSampler

ForgetLoss = Callable[[torch.Tensor], torch.Tensor]  # score gaps s(u,i) − s(u,j) → per-triple loss

CHECK_EVERY_BATCHES = 50


def forget_retain_training(
    ctx: UnlearnContext,
    forget_loss: ForgetLoss,
    *,
    epochs: int,
    lr: float,
    forget_weight: float,
    forget_batch: int,
    clip_norm: float,
    series: str,
    retain_ratio: int = 4,
    stop_at_popularity: bool = True,
    stop_above: float | None = None,
) -> tuple[torch.nn.Module, dict[str, float]]:
    """Train a copy of the base model on ``forget_weight·forget + (1−forget_weight)·retain``.

    One epoch is one pass over the removed rows in batches of ``forget_batch``; every
    step pairs them with ``retain_ratio × forget_batch`` retained rows drawn at random
    (forward BPR plus the experiment's L2). Negatives for forgotten triples avoid every
    training positive of the user; for retained ones, the retained positives.

    ``stop_at_popularity``: the target of unlearning is the retrained model, which ranks
    a forgotten user by popularity. After each epoch the model's pairwise accuracy on the
    forgotten pairs (share of (u, i, j) with s(u,i) > s(u,j), fixed negatives) is compared
    with popularity's accuracy on the same pairs; training stops once it is no higher,
    instead of pushing the forgotten items below where a model that never saw them
    would put them. ``stop_above`` ends training once the mean BPR loss of those pairs
    exceeds it.
    """
    model = copy_for_unlearning(ctx)
    config, device, ds = ctx.model_config, ctx.device, ctx.dataset
    f_users = torch.as_tensor(ds.users[ctx.removed_rows], device=device)
    f_items = torch.as_tensor(ds.items[ctx.removed_rows], device=device)
    r_users = torch.as_tensor(ds.users[ctx.retained_rows], device=device)
    r_items = torch.as_tensor(ds.items[ctx.retained_rows], device=device)
    train = ctx.split.train
    forget_sampler = NegativeSampler(ds.users[train], ds.items[train], ds.n_users, ds.n_items, device)
    retain_sampler = NegativeSampler(ds.users[ctx.retained_rows], ds.items[ctx.retained_rows],
                                     ds.n_users, ds.n_items, device)
    generator = torch.Generator(device=device).manual_seed(int(ctx.seed) + 0x9E6)
    user0, item0 = model.layer0()
    optimizer = torch.optim.Adam([user0, item0], lr=lr)
    n_forget = len(f_users)
    steps = max(1, math.ceil(n_forget / forget_batch))
    retain_batch = int(retain_ratio * forget_batch)
    probe_neg = forget_sampler.sample(f_users, generator)  # fixed negatives for the stopping test
    popularity = model.popularity.to(device)
    pop_gap = popularity[f_items] - popularity[probe_neg]
    pop_accuracy = float(((pop_gap > 0).float() + 0.5 * (pop_gap == 0).float()).mean())
    accuracy, probe_loss = _probe(model, f_users, f_items, probe_neg)
    start_accuracy = accuracy
    epoch = 0
    model.train()
    for epoch in range(1, epochs + 1):
        ctx.reporter.check()
        order = torch.randperm(n_forget, generator=generator, device=device)
        for step in range(steps):
            if step and step % CHECK_EVERY_BATCHES == 0:
                ctx.reporter.check()
            idx = order[step * forget_batch : (step + 1) * forget_batch]
            fu, fi = f_users[idx], f_items[idx]
            fj = forget_sampler.sample(fu, generator)
            ridx = torch.randint(len(r_users), (retain_batch,), generator=generator, device=device)
            ru, ri = r_users[ridx], r_items[ridx]
            rj = retain_sampler.sample(ru, generator)
            user_emb, item_emb = model.embeddings()
            f_gap = (user_emb[fu] * (item_emb[fi] - item_emb[fj])).sum(-1)
            r_gap = (user_emb[ru] * (item_emb[ri] - item_emb[rj])).sum(-1)
            retain_loss = -F.logsigmoid(r_gap).mean()
            reg = (user0[ru].pow(2).sum() + item0[ri].pow(2).sum() + item0[rj].pow(2).sum()) / (2 * retain_batch)
            retain_term = retain_loss + config.reg * reg
            objective = (1.0 - forget_weight) * retain_term + forget_weight * forget_loss(f_gap).mean()
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            torch.nn.utils.clip_grad_norm_([user0, item0], clip_norm)
            optimizer.step()
        accuracy, probe_loss = _probe(model, f_users, f_items, probe_neg)
        ctx.reporter.metric(series, epoch, forget_bpr=probe_loss, forget_pair_accuracy=accuracy)
        ctx.reporter.progress(epoch / epochs, f"epoch {epoch}: forget-side BPR loss {probe_loss:.4f}, "
                                              f"pair accuracy {accuracy:.3f} (popularity {pop_accuracy:.3f})")
        if stop_at_popularity and accuracy <= pop_accuracy:
            ctx.reporter.log(f"{series}: forgotten pairs ranked no better than by popularity "
                             f"({accuracy:.3f} ≤ {pop_accuracy:.3f}) after epoch {epoch}; stopping")
            break
        if stop_above is not None and probe_loss > stop_above:
            ctx.reporter.log(f"{series}: forget loss {probe_loss:.3f} passed the bound {stop_above:.3f} "
                             f"after epoch {epoch}; stopping")
            break
    model.eval()
    return model, {"epochs_run": float(epoch), "forget_bpr_loss": probe_loss,
                   "forget_pair_accuracy_before": start_accuracy, "forget_pair_accuracy": accuracy,
                   "popularity_pair_accuracy": pop_accuracy}


@torch.no_grad()
def _probe(model, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> tuple[float, float]:
    """(share of (u, i, j) with s(u,i) > s(u,j), ties half; their mean BPR loss)."""
    user_emb, item_emb = model.embeddings()
    gap = (user_emb[users] * (item_emb[pos] - item_emb[neg])).sum(-1)
    accuracy = float(((gap > 0).float() + 0.5 * (gap == 0).float()).mean())
    return accuracy, float(-F.logsigmoid(gap).mean())


def run_forget_retain(
    ctx: UnlearnContext, params: dict, forget_loss: ForgetLoss, series: str, stop_above: float | None = None,
) -> UnlearnOutcome:
    """:func:`forget_retain_training` driven by the form of :func:`forget_retain_params`."""
    model, extras = forget_retain_training(
        ctx, forget_loss, epochs=params["epochs"], lr=params["lr"], forget_weight=params["forget_weight"],
        forget_batch=params["forget_batch"], clip_norm=params["clip_norm"], series=series,
        retain_ratio=params["retain_ratio"], stop_at_popularity=params["stop_at_popularity"],
        stop_above=stop_above,
    )
    return UnlearnOutcome(model=model, extras=extras)


def forget_retain_params(forget_term: str, *after_weight: ParamSpec) -> tuple[ParamSpec, ...]:
    """The parameters of :func:`run_forget_retain`, one form for NegGrad and reverse BPR.

    ``forget_term`` names the forget-side loss in the weight's help text; ``after_weight``
    (a method's own parameters) stand right after the weight, where saved forms expect them.
    """
    return (
        ParamSpec("epochs", int, 20, "Most passes over the forgotten interactions.", low=1, high=10_000,
                  label="Epochs"),
        ParamSpec("lr", float, 0.005, "Learning rate (Adam).", low=1e-6, high=1.0, label="Learning rate"),
        ParamSpec("forget_weight", float, 0.5,
                  f"Weight of the {forget_term} term; the retained-data term gets 1 − this.", low=0.0, high=1.0,
                  label="Forget weight"),
        *after_weight,
        ParamSpec("forget_batch", int, 256, "Forgotten interactions per step.", low=1, high=1_000_000,
                  label="Forget batch"),
        ParamSpec("retain_ratio", int, 4, "Retained interactions drawn per forgotten one in each step.",
                  low=1, high=1000, label="Retained per forgotten"),
        ParamSpec("clip_norm", float, 1.0, "Gradient-norm clip of every step.", low=1e-4, high=1e4,
                  label="Gradient clip"),
        ParamSpec("stop_at_popularity", bool, True,
                  "Stop once the forgotten items rank no better than popularity would rank them "
                  "(where retraining puts a forgotten user).", label="Stop at popularity level"),
    )


def _unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    bound = params["loss_bound"]

    def ascent(gap: torch.Tensor) -> torch.Tensor:
        # minimising −min(loss, bound) raises each pair's loss until it reaches the bound
        return -torch.clamp(-F.logsigmoid(gap), max=bound)

    return run_forget_retain(ctx, params, ascent, "unlearn", stop_above=bound)


register(
    MethodSpec(
        name="neggrad",
        label="NegGrad (gradient ascent)",
        description=(
            "Gradient ascent on the forgotten interactions, so the model ranks them lower, "
            "combined with ordinary training on retained data to protect everyone else. "
            "Bounded: each forgotten pair stops being pushed once its loss reaches the "
            "bound, and gradients are clipped."
        ),
        params=forget_retain_params(
            "ascent",
            ParamSpec("loss_bound", float, round(math.log(2), 4),
                      "Per-pair BPR loss at which ascent stops (ln 2 = level with a random item).",
                      low=0.01, high=20.0, label="Loss bound"),
        ),
        unlearn=_unlearn,
        family="parametric",
    )
)

__all__ = ["forget_retain_params", "forget_retain_training", "run_forget_retain"]
