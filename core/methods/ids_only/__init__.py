"""IDs only (a control): changes no parameter, only forgets *who* the forgotten users are."""

from core.methods.registry import MethodSpec, deferred, register

prepare, unlearn = deferred("core.methods.ids_only.method")

register(
    MethodSpec(
        name="ids_only",
        label="Control: IDs only (should fail)",
        description=(
            "A control, not a real method: keeps every learned parameter of the base model and only "
            "drops the forgotten users from its list of known users (they are then ranked by "
            "popularity, like retrained ones). Nothing the model learned from the deleted data is "
            "removed, so a trustworthy measure must tell it apart from retraining — the fold-in "
            "attack and agreement with retrain do."
        ),
        params=(),
        unlearn=unlearn,
        prepare=None,
        curves=(),
        capabilities=frozenset({"needs_embeddings", "control"}),
    )
)
