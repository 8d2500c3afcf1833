"""The controls' models: a second retraining, the base unchanged, base + noise, re-drawn user vectors."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from core.methods.registry import UnlearnContext, UnlearnOutcome

SEED_OFFSET = 1000
"""Added to the run's model seed for anything a control draws: never a reference ensemble's seed
(references use small offsets), so a control is never compared with a copy of itself."""
NOISE_SHARE = 0.01
"""The noise control's standard deviation, as a share of each parameter table's own standard deviation."""


def control_seed(ctx: UnlearnContext) -> int:
    return int(ctx.model_config.seed) + SEED_OFFSET


def retrain_seed(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    """The runner's retraining (same rows, same validation rows, same settings), another model seed."""
    from core.models.training import train_recommender

    ds, rows, valid = ctx.dataset, ctx.retained_rows, ctx.retrain_valid_rows
    config = replace(ctx.model_config, seed=control_seed(ctx))
    model = train_recommender(
        config,
        ds.n_users,
        ds.n_items,
        ds.users[rows],
        ds.items[rows],
        ctx.device,
        valid=(ds.users[valid], ds.items[valid]),
        reporter=ctx.reporter,
        stage="train",
    )
    return UnlearnOutcome(model=model, notes=[f"a control: retraining with model seed {config.seed}"])


def base_unchanged(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    """The base model as it is (it still knows the forgotten users)."""
    model = copy.deepcopy(ctx.base_model).to(ctx.device)
    return UnlearnOutcome(model=model, notes=["a control: the base model, unchanged"])


def base_noise(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    """Every parameter table + Gaussian noise of :data:`NOISE_SHARE` of its own spread (seeded, CPU draws)."""
    model = copy.deepcopy(ctx.base_model).to(ctx.device)
    generator = torch.Generator().manual_seed(control_seed(ctx))
    with torch.no_grad():
        for param in model.parameters():
            noise = torch.randn(param.shape, generator=generator, dtype=param.dtype)
            param.add_(noise.to(param.device) * (NOISE_SHARE * float(param.detach().float().std())))
    return UnlearnOutcome(model=model, notes=[f"a control: base + {NOISE_SHARE:.0%} noise"])


def redraw_users(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    """Forgotten users marked unknown and their vectors re-drawn from the initialisation
    (Xavier-normal of the user table, as :meth:`Recommender.reset_parameters` draws it);
    the item side, which learned from their rows, is kept.

    Only users the request removes *entirely* are re-drawn (every user of a ``users`` request):
    a user who keeps rows (``items``/``interactions`` requests) is trained on them by
    retraining too, so a model that never saw the removed rows still has a trained vector for
    them — re-drawing it would destroy kept data, not leave the deletion undone."""
    model = copy.deepcopy(ctx.base_model).to(ctx.device)
    ds, rows = ctx.dataset, ctx.retained_rows
    model.set_training_rows(ds.users[rows], ds.items[rows])
    users, _items = model.layer0()
    gone = np.setdiff1d(np.asarray(ctx.request.forget_users, dtype=np.int64), ds.users[rows])
    forgotten = torch.as_tensor(gone, dtype=torch.long)
    fresh = torch.empty(tuple(users.shape), dtype=users.dtype)
    nn.init.xavier_normal_(fresh, generator=torch.Generator().manual_seed(control_seed(ctx)))
    with torch.no_grad():
        users[forgotten.to(users.device)] = fresh[forgotten].to(users.device)
    note = f"a control: {len(gone):,} forgotten users' vectors re-drawn (users removed entirely), item side kept"
    return UnlearnOutcome(model=model, notes=[note])


UNLEARN = {
    "control_retrain_seed": retrain_seed,
    "control_base": base_unchanged,
    "control_noise": base_noise,
    "control_redraw": redraw_users,
}
