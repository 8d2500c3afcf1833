"""Fine-tune on retained data: the cheapest baseline."""

from core.methods.registry import MethodSpec, ParamSpec, deferred, register

_, unlearn = deferred("core.methods.finetune.method")

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
            ParamSpec("epochs", int, 5, "Training epochs on the retained data.", low=1, high=10_000, label="Epochs"),
            ParamSpec(
                "early_stop",
                bool,
                False,
                "Keep the epoch with the best validation NDCG@10 (on a converged base model this "
                "is usually the first, and fine-tuning changes almost nothing).",
                label="Early stopping",
            ),
            ParamSpec(
                "lr_scale",
                float,
                1.0,
                "Multiplier on the experiment's learning rate.",
                low=0.01,
                high=100.0,
                label="Learning-rate scale",
            ),
        ),
        unlearn=unlearn,
        capabilities=frozenset({"needs_embeddings", "sequential_requests"}),
    )
)
