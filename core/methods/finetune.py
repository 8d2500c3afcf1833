"""Fine-tuning: continue training a copy of the base model on the retained rows only.

The cheapest baseline. Nothing pushes the forgotten data out; it only fades as the
shared item embeddings drift towards the retained data. The forgotten users' own
vectors receive no gradient and are kept, so the model still "knows" them (their
``known_users`` entries stay set): the evaluator ranks them with what the model
remembers, which is exactly what the memorisation and membership figures should show.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import torch

from core.methods.registry import MethodSpec, ParamSpec, UnlearnContext, UnlearnOutcome, register
from core.models.base import popularity_of


def copy_for_unlearning(ctx: UnlearnContext) -> torch.nn.Module:
    """A trainable copy of the base model that propagates over and counts only retained rows.

    ``known_users`` is left as the base model's: a method that keeps a forgotten user's
    vector keeps their representation. LightGCN's graph becomes the retained rows, so
    removed interactions are no longer propagated.
    """
    base = ctx.base_model
    if not hasattr(base, "layer0"):
        raise TypeError(f"{type(base).__name__} has no embedding tables to update")
    model = copy.deepcopy(base).to(ctx.device)
    ds = ctx.dataset
    rows = ctx.retained_rows
    with torch.no_grad():
        model.popularity.copy_(popularity_of(ds.items[rows], ds.n_items, model.popularity.device))
    if hasattr(model, "set_graph"):
        model.set_graph(ds.users[rows], ds.items[rows])
    return model


def valid_without_forgotten(ctx: UnlearnContext) -> tuple[np.ndarray, np.ndarray]:
    """Validation rows of users who are not being forgotten (the runner's rule for retraining)."""
    ds, valid = ctx.dataset, ctx.split.valid
    valid = valid[~np.isin(ds.users[valid], ctx.request.forget_users)]
    return ds.users[valid], ds.items[valid]


def _unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    from core.models.training import train_recommender

    model = copy_for_unlearning(ctx)
    ds, rows = ctx.dataset, ctx.retained_rows
    config = dataclasses.replace(ctx.model_config, lr=ctx.model_config.lr * params["lr_scale"])
    model = train_recommender(
        config, ds.n_users, ds.n_items, ds.users[rows], ds.items[rows], ctx.device,
        valid=valid_without_forgotten(ctx) if params["early_stop"] else None, reporter=ctx.reporter,
        stage="train",
        model=model, epochs=params["epochs"],
    )
    return UnlearnOutcome(model=model, extras={"epochs": float(params["epochs"])})


register(
    MethodSpec(
        name="finetune",
        label="Fine-tune on retained data",
        description=(
            "Continues training a copy of the base model on the retained data for a few "
            "epochs. Fast, but it never targets the forgotten data: what the model learned "
            "from it fades only slowly, and the forgotten users' vectors are kept."
        ),
        params=(
            ParamSpec("epochs", int, 5, "Training epochs on the retained data.", low=1, high=10_000,
                      label="Epochs"),
            ParamSpec("early_stop", bool, False,
                      "Keep the epoch with the best validation NDCG@10 (on a converged base model this "
                      "is usually the first, and fine-tuning changes almost nothing).",
                      label="Early stopping"),
            ParamSpec("lr_scale", float, 1.0, "Multiplier on the experiment's learning rate.", low=0.01,
                      high=100.0, label="Learning-rate scale"),
        ),
        unlearn=_unlearn,
    )
)
