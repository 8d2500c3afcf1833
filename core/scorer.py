"""What the evaluator ranks: anything that scores every item for a batch of users.

A base type below the evaluation and the models (the evaluation needs only this, never a
model class), so the models may use the evaluation for their validation curves.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Scorer(Protocol):
    """Anything that can rank all items for a batch of users."""

    n_users: int
    n_items: int

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Scores ``[len(users), n_items]`` (float, higher is better) on ``self.device``."""
        ...

    @property
    def device(self) -> torch.device: ...

    @property
    def known_users(self) -> torch.Tensor | None:
        """Bool ``[n_users]``: users with a learned representation; None means all."""
        ...

    @property
    def popularity(self) -> torch.Tensor:
        """Float ``[n_items]``: item counts in this model's training data."""
        ...
