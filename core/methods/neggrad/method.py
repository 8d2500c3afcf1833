"""NegGrad: gradient ascent on the forgotten interactions, descent on retained ones.

Plain ascent on a BPR loss has no floor: the loss of a forgotten pair grows without
limit and drags the shared item embeddings with it. Three guards keep it bounded:
each forgotten triple's loss is clipped at ``loss_bound`` (a pair pushed that far below
its negative stops contributing), training stops once the mean loss of the forgotten
pairs passes the bound, and gradients are clipped by norm. The default bound, ln 2 ≈
0.693, is the loss of a pair scored level with a random negative. By default training
stops earlier still, once the forgotten items rank no better than popularity would
rank them — where the retrained model puts a user it never saw.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.methods.common.forget_retain import run_forget_retain
from core.methods.registry import UnlearnContext, UnlearnOutcome


def unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    bound = params["loss_bound"]

    def ascent(gap: torch.Tensor) -> torch.Tensor:
        # minimising −min(loss, bound) raises each pair's loss until it reaches the bound
        return -torch.clamp(-F.logsigmoid(gap), max=bound)

    return run_forget_retain(ctx, params, ascent, stop_above=bound)
