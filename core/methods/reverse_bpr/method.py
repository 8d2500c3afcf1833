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

from core.methods.common.forget_retain import run_forget_retain
from core.methods.registry import UnlearnContext, UnlearnOutcome


def reverse_bpr_loss(gap: torch.Tensor) -> torch.Tensor:
    """Per-triple ``−log σ(s(u,j) − s(u,i))`` from gaps ``s(u,i) − s(u,j)``."""
    return -F.logsigmoid(-gap)


def unlearn(ctx: UnlearnContext, params: dict, _prepared) -> UnlearnOutcome:
    return run_forget_retain(ctx, params, reverse_bpr_loss)
