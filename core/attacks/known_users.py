"""Does the model still hold a personal representation of the forgotten users?

A plain count from ``known_users`` — *not* a membership attack. A model that keeps a
forgotten user's vector ranks them with it, which is a real finding; but a model that
merely marks them unknown (and scores them by popularity) is not thereby shown to have
forgotten anything, so this check never stands in for the attacks.

For ``users`` requests retrain knows none of them. For ``items`` and ``interactions``
requests the forgotten users keep other training rows, so retrain knows (almost) all
of them too: the count says nothing about forgetting there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.models.base import Scorer


@dataclass(frozen=True)
class KnownUserCheck:
    """How many of ``n_users`` forgotten users the model still has its own vector for."""

    n_users: int
    n_known: int
    note: str = "a count of personal representations kept, not a membership attack"

    @property
    def share(self) -> float:
        return self.n_known / self.n_users if self.n_users else float("nan")

    def as_dict(self) -> dict:
        return {**asdict(self), "share": self.share}

    @classmethod
    def from_dict(cls, raw: dict) -> "KnownUserCheck":
        """A stored check (its ``share`` is worked out again, as it was when stored)."""
        return cls(n_users=raw["n_users"], n_known=raw["n_known"], note=raw.get("note", cls.note))


def known_user_check(model: Scorer, forget_users: np.ndarray) -> KnownUserCheck:
    """Count the forgotten users in ``model.known_users`` (None: the model knows everyone)."""
    users = np.unique(np.asarray(forget_users, dtype=np.int64))
    known = model.known_users
    if known is None:
        n_known = len(users)
    else:
        n_known = int(known.detach().cpu().numpy()[users].sum())
    return KnownUserCheck(n_users=len(users), n_known=n_known)
