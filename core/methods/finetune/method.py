"""Fine-tuning: continue training a copy of the base model on the retained rows only.

The cheapest baseline. Nothing pushes the forgotten data out; it only fades as the
shared item embeddings drift towards the retained data. The forgotten users' own
vectors receive no gradient and are kept, so the model still "knows" them (their
``known_users`` entries stay set): the evaluator ranks them with what the model
remembers, which is exactly what the memorisation and membership figures should show.
"""

from __future__ import annotations

import dataclasses

from core.methods.common.copies import copy_for_unlearning
from core.methods.registry import UnlearnContext, UnlearnOutcome


def unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    from core.models.training import train_recommender

    model = copy_for_unlearning(ctx, "fine-tuning")
    ds, rows, valid = ctx.dataset, ctx.retained_rows, ctx.retrain_valid_rows
    config = dataclasses.replace(ctx.model_config, lr=ctx.model_config.lr * params["lr_scale"])
    model = train_recommender(
        config,
        ds.n_users,
        ds.n_items,
        ds.users[rows],
        ds.items[rows],
        ctx.device,
        valid=(ds.users[valid], ds.items[valid]) if params["early_stop"] else None,
        reporter=ctx.reporter,
        stage="train",
        model=model,
        epochs=params["epochs"],
    )
    return UnlearnOutcome(model=model, extras={"epochs": float(params["epochs"])})
