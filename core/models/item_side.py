"""The frozen item side of a model, for attacks that fold a fresh user into it.

A model that ranks by ``user · item`` offers its final item embeddings; an ensemble
(one model per data shard) offers one table per member, and the fold-in attack folds
the user into each and averages the scores — as the ensemble averages its own.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class HasItemSide(Protocol):
    """Anything with item embeddings a user vector can be scored against by dot product."""

    n_items: int

    def item_sides(self) -> list[torch.Tensor]:
        """Detached float tables ``[n_items, d]`` (one per ensemble member)."""
        ...
