"""Reverse BPR (MMRecUn): see :mod:`core.methods.reverse_bpr.method`."""

from core.methods.common.forms import FORGET_RETAIN_CURVES, forget_retain_params
from core.methods.registry import MethodSpec, deferred, register

_, unlearn = deferred("core.methods.reverse_bpr.method")

register(
    MethodSpec(
        name="reverse_bpr",
        label="Reverse BPR (MMRecUn)",
        description=(
            "Trains the model to rank each forgotten item below an item the user never "
            "chose (BPR with the pair reversed), while ordinary BPR on the retained data "
            "protects everyone else. Self-limiting: the push fades once the item is low."
        ),
        params=forget_retain_params("reverse-BPR"),
        unlearn=unlearn,
        curves=FORGET_RETAIN_CURVES,
        capabilities=frozenset({"needs_embeddings", "sequential_requests"}),
    )
)
