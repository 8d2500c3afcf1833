"""Reverse BPR (MMRecUn, Sinha et al., 2024): rank each forgotten item below a sampled negative.

For a forgotten interaction (u, i) and a sampled item j the user never interacted with,
reverse BPR minimises ``−log σ(s(u,j) − s(u,i))`` — the BPR loss with the pair's roles
swapped — while forward BPR on retained interactions keeps everyone else's ranking.
Unlike raw gradient ascent the reverse loss saturates (it tends to 0 once i is well
below j), so it cannot diverge; gradient clipping guards the first steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.methods.neggrad import forget_retain_training
from core.methods.registry import MethodSpec, ParamSpec, UnlearnContext, UnlearnOutcome, register


def reverse_bpr_loss(gap: torch.Tensor) -> torch.Tensor:
    """Per-triple ``−log σ(s(u,j) − s(u,i))`` from gaps ``s(u,i) − s(u,j)``."""
    return -F.logsigmoid(-gap)


def _unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    model, extras = forget_retain_training(
        ctx, reverse_bpr_loss, epochs=params["epochs"], lr=params["lr"], forget_weight=params["forget_weight"],
        forget_batch=params["forget_batch"], clip_norm=params["clip_norm"], series="unlearn/reverse_bpr",
        retain_ratio=params["retain_ratio"], stop_at_popularity=params["stop_at_popularity"],
    )
    return UnlearnOutcome(model=model, extras=extras)


register(
    MethodSpec(
        name="reverse_bpr",
        label="Reverse BPR (MMRecUn)",
        description=(
            "Trains the model to rank each forgotten item below an item the user never "
            "chose (BPR with the pair reversed), while ordinary BPR on the retained data "
            "protects everyone else. Self-limiting: the push fades once the item is low."
        ),
        params=(
            ParamSpec("epochs", int, 20, "Most passes over the forgotten interactions.", low=1, high=10_000,
                      label="Epochs"),
            ParamSpec("lr", float, 0.005, "Learning rate (Adam).", low=1e-6, high=1.0, label="Learning rate"),
            ParamSpec("forget_weight", float, 0.5,
                      "Weight of the reverse-BPR term; the retained-data term gets 1 − this.", low=0.0, high=1.0,
                      label="Forget weight"),
            ParamSpec("forget_batch", int, 256, "Forgotten interactions per step.", low=1, high=1_000_000,
                      label="Forget batch"),
            ParamSpec("retain_ratio", int, 4, "Retained interactions drawn per forgotten one in each step.",
                      low=1, high=1000, label="Retained per forgotten"),
            ParamSpec("clip_norm", float, 1.0, "Gradient-norm clip of every step.", low=1e-4, high=1e4,
                      label="Gradient clip"),
            ParamSpec("stop_at_popularity", bool, True,
                      "Stop once the forgotten items rank no better than popularity would rank them "
                      "(where retraining puts a forgotten user).", label="Stop at popularity level"),
        ),
        unlearn=_unlearn,
    )
)
