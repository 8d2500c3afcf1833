"""Which training curves exist and where they are drawn: declared, never guessed.

A method lists its :class:`CurveSpec`s in its :class:`~core.methods.registry.MethodSpec`;
the base model and retraining use :data:`BASE_CURVES`. The window draws, for every
:class:`~core.events.MetricEvent`, exactly the values whose key is declared for that
model, on the panel the spec names, with the spec's plain label in the legend.
"""

from __future__ import annotations

from dataclasses import dataclass

PANELS = ("loss", "validation", "diagnostics")
"""``loss``: training objectives; ``validation``: validation NDCG@10 while training;
``diagnostics``: anything else a method tracks (forget loss, pair accuracy, loss parts)."""


@dataclass(frozen=True)
class CurveSpec:
    """One value a model reports while it trains: ``key`` in ``MetricEvent.values``."""

    key: str
    label: str
    panel: str = "loss"

    def __post_init__(self) -> None:
        if self.panel not in PANELS:
            raise ValueError(f"curve {self.key!r}: panel must be one of {', '.join(PANELS)}, got {self.panel!r}")


LOSS = CurveSpec("loss", "training loss", "loss")
VALID_NDCG10 = CurveSpec("valid_ndcg10", "validation NDCG@10", "validation")
BASE_CURVES: tuple[CurveSpec, ...] = (LOSS, VALID_NDCG10)
"""What every recommender trained by :func:`core.models.training.train_recommender` reports."""


def curves_for(model: str) -> dict[str, CurveSpec]:
    """key -> spec of every curve declared for ``model`` (``base`` or a registered method)."""
    if model == "base":
        return {c.key: c for c in BASE_CURVES}
    import core.methods  # noqa: F401  (registers the built-in methods)
    from core.methods.registry import METHODS

    spec = METHODS.get(model)  # a stored run may name a method this build no longer has
    return {c.key: c for c in spec.curves} if spec is not None else {}
