"""Retrain (gold standard): the same model, trained from scratch on the retained rows."""

from core.methods.registry import MethodSpec, deferred, register

_, unlearn = deferred("core.methods.retrain.method")

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
        unlearn=unlearn,
        capabilities=frozenset({"exact"}),
    )
)
