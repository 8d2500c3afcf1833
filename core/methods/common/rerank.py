"""How an LLM re-ranker's order becomes scores the shared evaluator can rank: the user's
candidates are lifted above every other item, in the LLM's order; everything else keeps
the base order below them (so Hit/NDCG@K for K <= the candidate count measure the LLM)."""

from __future__ import annotations

import numpy as np
import torch


def lift_candidates(scores: torch.Tensor, row: int, items, order) -> None:
    """In place: ``scores[row, items]`` become the row's best score + 1 + ``order`` (higher
    first), so every candidate ranks above every other item of the row."""
    top = scores[row].max()
    lifted = top + 1.0 + torch.as_tensor(np.asarray(order), device=scores.device, dtype=scores.dtype)
    scores[row, torch.as_tensor(items, device=scores.device)] = lifted
