"""Retraining from scratch on the retained data: the gold standard every method is measured against."""

from __future__ import annotations

from core.methods.registry import UnlearnContext, UnlearnOutcome


def unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    model = ctx.train_model(ctx.retained_rows, stage="train", reporter=ctx.reporter)
    return UnlearnOutcome(model=model)
