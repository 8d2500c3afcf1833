"""The control of PROTOCOL.md: the base model, told only that the forgotten users are unknown."""

from __future__ import annotations

import copy

from core.methods.registry import UnlearnContext, UnlearnOutcome


def unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    model = copy.deepcopy(ctx.base_model).to(ctx.device)
    ds, rows = ctx.dataset, ctx.retained_rows
    model.set_training_rows(ds.users[rows], ds.items[rows])  # known users and popularity only
    return UnlearnOutcome(model=model, notes=["a control: every parameter is the base model's"])
