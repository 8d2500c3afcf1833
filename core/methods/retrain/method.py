"""Retraining from scratch on the retained data: the gold standard every method is measured against."""

from __future__ import annotations

from core.fit_loop import warm_up
from core.methods.registry import UnlearnContext, UnlearnOutcome


def prepare(ctx: UnlearnContext, params: dict) -> None:
    """Pay torch's one-off optimiser import here, not in the timed retraining."""
    warm_up()


def unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    model = ctx.train_model(ctx.retained_rows, stage="train", reporter=ctx.reporter)
    return UnlearnOutcome(model=model)
