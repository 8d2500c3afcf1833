"""NegGrad (gradient ascent), bounded: see :mod:`core.methods.neggrad.method`."""

import math

from core.methods.common.forms import FORGET_RETAIN_CURVES, forget_retain_params
from core.methods.registry import MethodSpec, ParamSpec, deferred, register

_, unlearn = deferred("core.methods.neggrad.method")

register(
    MethodSpec(
        name="neggrad",
        label="NegGrad (gradient ascent)",
        description=(
            "Gradient ascent on the forgotten interactions, so the model ranks them lower, "
            "combined with ordinary training on retained data to protect everyone else. "
            "Bounded: each forgotten pair stops being pushed once its loss reaches the "
            "bound, and gradients are clipped."
        ),
        params=forget_retain_params(
            "ascent",
            ParamSpec(
                "loss_bound",
                float,
                round(math.log(2), 4),
                "Per-pair BPR loss at which ascent stops (ln 2 = level with a random item).",
                low=0.01,
                high=20.0,
                label="Loss bound",
            ),
        ),
        unlearn=unlearn,
        curves=FORGET_RETAIN_CURVES,
        capabilities=frozenset({"needs_embeddings", "sequential_requests"}),
    )
)
