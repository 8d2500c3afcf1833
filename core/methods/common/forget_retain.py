"""The forget/retain loop NegGrad and reverse BPR share: they differ only in the loss on
the forgotten triples.

One epoch is one pass over the removed rows in batches of ``forget_batch``; every step
pairs them with ``retain_ratio × forget_batch`` retained rows drawn at random (forward
BPR plus the experiment's L2). Negatives for forgotten triples avoid every training
positive of the user; for retained ones, the retained positives. Epochs, the seeded
generator, cancel checks, gradient clipping and the curves are :func:`core.fit_loop.fit`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from core.fit_loop import EpochEnd, FitPlan, fit, make_generator
from core.methods.common.copies import copy_for_unlearning
from core.methods.registry import UnlearnContext, UnlearnOutcome
from core.models.negative_sampling import NegativeSampler

ForgetLoss = Callable[[torch.Tensor], torch.Tensor]  # score gaps s(u,i) − s(u,j) → per-triple loss
SEED_OFFSET = 0x9E6  # this loop's random stream, apart from the base model's


@dataclass(frozen=True)
class ForgetRetainSettings:
    """The form of :func:`core.methods.common.forms.forget_retain_params` plus the method's
    own stopping bound. ``stop_above``: end once the forgotten pairs' mean BPR loss exceeds it."""

    epochs: int
    lr: float
    forget_weight: float
    forget_batch: int
    clip_norm: float
    retain_ratio: int = 4
    stop_at_popularity: bool = True
    stop_above: float | None = None

    @classmethod
    def from_params(cls, params: dict, stop_above: float | None = None) -> "ForgetRetainSettings":
        return cls(
            params["epochs"],
            params["lr"],
            params["forget_weight"],
            params["forget_batch"],
            params["clip_norm"],
            params["retain_ratio"],
            params["stop_at_popularity"],
            stop_above,
        )


class _Triples:
    """Forgotten and retained rows on the device, with their negative samplers."""

    def __init__(self, ctx: UnlearnContext) -> None:
        ds, device, train = ctx.dataset, ctx.device, ctx.split.train
        as_t = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
        self.f_users, self.f_items = as_t(ds.users[ctx.removed_rows]), as_t(ds.items[ctx.removed_rows])
        self.r_users, self.r_items = as_t(ds.users[ctx.retained_rows]), as_t(ds.items[ctx.retained_rows])
        self.forget_sampler = NegativeSampler(ds.users[train], ds.items[train], ds.n_users, ds.n_items, device)
        self.retain_sampler = NegativeSampler(
            ds.users[ctx.retained_rows], ds.items[ctx.retained_rows], ds.n_users, ds.n_items, device
        )


def forget_retain_training(
    ctx: UnlearnContext,
    forget_loss: ForgetLoss,
    settings: ForgetRetainSettings,
    stage: str = "unlearn",
) -> tuple[torch.nn.Module, dict[str, float]]:
    """Train a copy of the base model on ``forget_weight·forget + (1−forget_weight)·retain``.

    ``stop_at_popularity``: the target of unlearning is the retrained model, which ranks a
    forgotten user by popularity. After each epoch the model's pairwise accuracy on the
    forgotten pairs (share of (u, i, j) with s(u,i) > s(u,j), fixed negatives) is compared
    with popularity's accuracy on the same pairs; training stops once it is no higher,
    instead of pushing the forgotten items below where a model that never saw them
    would put them.
    """
    model = copy_for_unlearning(ctx, "this method")
    data, s = _Triples(ctx), settings
    user0, item0 = model.layer0()
    generator = make_generator(ctx.seed + SEED_OFFSET, ctx.device)
    probe_neg = data.forget_sampler.sample(data.f_users, generator)  # fixed negatives of the stopping test
    popularity = model.popularity.to(ctx.device)
    pop_accuracy = _accuracy(popularity[data.f_items] - popularity[probe_neg])
    start_accuracy, _ = _probe(model, data.f_users, data.f_items, probe_neg)
    last = {"forget_pair_accuracy": start_accuracy, "forget_bpr": float("nan")}
    step = _step(model, data, forget_loss, s, ctx.model_config.reg)

    def after_epoch(epoch: int) -> EpochEnd:
        accuracy, loss = _probe(model, data.f_users, data.f_items, probe_neg)
        last.update(forget_pair_accuracy=accuracy, forget_bpr=loss)
        stop = ""
        if s.stop_at_popularity and accuracy <= pop_accuracy:
            stop = (
                f"forgotten pairs ranked no better than by popularity ({accuracy:.3f} ≤ {pop_accuracy:.3f}) "
                f"after epoch {epoch}; stopping"
            )
        elif s.stop_above is not None and loss > s.stop_above:
            stop = f"forget loss {loss:.3f} passed the bound {s.stop_above:.3f} after epoch {epoch}; stopping"
        return EpochEnd(dict(last), stop)

    plan = FitPlan(
        epochs=s.epochs, batch_size=s.forget_batch, seed=ctx.seed + SEED_OFFSET, stage=stage, clip_norm=s.clip_norm
    )
    result = fit(
        step,
        [user0, item0],
        len(data.f_users),
        plan,
        ctx.reporter,
        lr=s.lr,
        module=model,
        after_epoch=after_epoch,
        device=ctx.device,
        generator=generator,
        small_steps=True,
    )
    return model.eval(), {
        "epochs_run": float(result.epochs),
        "forget_bpr_loss": last["forget_bpr"],
        "forget_pair_accuracy_before": start_accuracy,
        "forget_pair_accuracy": last["forget_pair_accuracy"],
        "popularity_pair_accuracy": pop_accuracy,
    }


def _step(model, data: _Triples, forget_loss: ForgetLoss, s: ForgetRetainSettings, reg_weight: float):
    """The loss of one step: a batch of forgotten triples and ``retain_ratio`` times as many retained ones."""
    user0, item0 = model.layer0()
    retain_batch = int(s.retain_ratio * s.forget_batch)

    def step(idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        fu, fi = data.f_users[idx], data.f_items[idx]
        fj = data.forget_sampler.sample(fu, generator)
        ridx = torch.randint(len(data.r_users), (retain_batch,), generator=generator, device=fu.device)
        ru, ri = data.r_users[ridx], data.r_items[ridx]
        rj = data.retain_sampler.sample(ru, generator)
        user_emb, item_emb = model.embeddings()
        f_gap = (user_emb[fu] * (item_emb[fi] - item_emb[fj])).sum(-1)
        r_gap = (user_emb[ru] * (item_emb[ri] - item_emb[rj])).sum(-1)
        reg = (user0[ru].pow(2).sum() + item0[ri].pow(2).sum() + item0[rj].pow(2).sum()) / (2 * retain_batch)
        retain_term = -F.logsigmoid(r_gap).mean() + reg_weight * reg
        return (1.0 - s.forget_weight) * retain_term + s.forget_weight * forget_loss(f_gap).mean()

    return step


def _accuracy(gap: torch.Tensor) -> float:
    """Share of positive gaps, ties counted half."""
    return float(((gap > 0).float() + 0.5 * (gap == 0).float()).mean())


@torch.no_grad()
def _probe(model, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> tuple[float, float]:
    """(share of (u, i, j) with s(u,i) > s(u,j), ties half; their mean BPR loss)."""
    user_emb, item_emb = model.embeddings()
    gap = (user_emb[users] * (item_emb[pos] - item_emb[neg])).sum(-1)
    return _accuracy(gap), float(-F.logsigmoid(gap).mean())


def run_forget_retain(
    ctx: UnlearnContext, params: dict, forget_loss: ForgetLoss, stop_above: float | None = None
) -> UnlearnOutcome:
    """:func:`forget_retain_training` driven by the form of ``forget_retain_params``."""
    model, extras = forget_retain_training(ctx, forget_loss, ForgetRetainSettings.from_params(params, stop_above))
    return UnlearnOutcome(model=model, extras=extras)
