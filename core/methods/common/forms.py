"""Parameter forms and curve declarations shared by several methods' registry entries.

Kept apart from the training code so a method's ``__init__`` (its registry line) imports
only these light declarations, never its training loop.
"""

from __future__ import annotations

from core.curves import LOSS, CurveSpec
from core.methods.registry import ParamSpec

FORGET_RETAIN_CURVES: tuple[CurveSpec, ...] = (
    LOSS,
    CurveSpec("forget_bpr", "forget-side BPR loss", "diagnostics"),
    CurveSpec("forget_pair_accuracy", "forgotten items ranked above a negative", "diagnostics"),
)
"""What :func:`core.methods.common.forget_retain.forget_retain_training` reports per epoch."""


def forget_retain_params(forget_term: str, *after_weight: ParamSpec) -> tuple[ParamSpec, ...]:
    """The parameters of the forget/retain loop, one form for NegGrad and reverse BPR.

    ``forget_term`` names the forget-side loss in the weight's help text; ``after_weight``
    (a method's own parameters) stand right after the weight, where saved forms expect them.
    """
    return (
        ParamSpec(
            "epochs", int, 20, "Most passes over the forgotten interactions.", low=1, high=10_000, label="Epochs"
        ),
        ParamSpec("lr", float, 0.005, "Learning rate (Adam).", low=1e-6, high=1.0, label="Learning rate"),
        ParamSpec(
            "forget_weight",
            float,
            0.5,
            f"Weight of the {forget_term} term; the retained-data term gets 1 − this.",
            low=0.0,
            high=1.0,
            label="Forget weight",
        ),
        *after_weight,
        ParamSpec(
            "forget_batch", int, 256, "Forgotten interactions per step.", low=1, high=1_000_000, label="Forget batch"
        ),
        ParamSpec(
            "retain_ratio",
            int,
            4,
            "Retained interactions drawn per forgotten one in each step.",
            low=1,
            high=1000,
            label="Retained per forgotten",
        ),
        ParamSpec(
            "clip_norm", float, 1.0, "Gradient-norm clip of every step.", low=1e-4, high=1e4, label="Gradient clip"
        ),
        ParamSpec(
            "stop_at_popularity",
            bool,
            True,
            "Stop once the forgotten items rank no better than popularity would rank them "
            "(where retraining puts a forgotten user).",
            label="Stop at popularity level",
        ),
    )


DEMO_SHARDS = 5
"""Shards on the demo. Its 300 users in 10 shards of 30 cost a full, early-stopped training
per shard (~40 epochs of 4 small steps each, whatever the shard's size), so 5 shards of 60
halve the set-up (1 thread, CPU s: SISA 1.52 -> 0.95, RecEraser 1.67 -> 1.18) and cut the
request (its 14 forgotten users touch 7-8 of 10 shards, all 5 of 5: SISA 0.83 -> 0.71,
RecEraser 1.21 -> 0.88). The verdicts stay those of 10 shards (demo, split seeds 0-2: SISA
and RecEraser pass "forgotten?"; SISA fails "affected?" on seeds 0 and 1, can't tell on 2)."""


def n_shards_param() -> ParamSpec:
    """The shard-count field of every sharded method's form (:data:`DEMO_SHARDS` on the demo)."""
    return ParamSpec(
        "n_shards",
        int,
        10,
        "Number of user shards (one sub-model each).",
        low=2,
        high=64,
        label="Shards",
        demo=DEMO_SHARDS,
    )


def shard_training_params(epochs_label: str) -> tuple[ParamSpec, ParamSpec]:
    """The ``epochs`` and ``scale_batch`` fields read by :func:`core.methods.common.shards.shard_plan`."""
    return (
        ParamSpec(
            "epochs",
            int,
            0,
            "Epoch budget of each shard; 0 uses the experiment's. Each shard stops early on "
            "its own users' validation rows.",
            low=0,
            high=100_000,
            label=epochs_label,
        ),
        ParamSpec(
            "scale_batch",
            bool,
            True,
            "Split the experiment's batch size among the shards, so each shard takes as many "
            "steps per epoch as the full model (off: every shard uses the full batch size).",
            label="Scale batch to shards",
        ),
    )
