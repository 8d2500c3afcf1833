"""Retraining from scratch on the retained data: the gold standard every method is measured against."""

from __future__ import annotations

from core.methods.registry import MethodSpec, UnlearnContext, UnlearnOutcome, register


def _unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    model = ctx.train_model(ctx.retained_rows, stage="train", reporter=ctx.reporter)
    return UnlearnOutcome(model=model)


register(
    MethodSpec(
        name="retrain",
        label="Retrain (gold standard)",
        description=(
            "Trains the same model with the same hyper-parameters from scratch on the "
            "retained training data. Exact unlearning by construction and the reference "
            "every other method is compared with; also the slowest."
        ),
        params=(),
        unlearn=_unlearn,
        family="exact",
    )
)
