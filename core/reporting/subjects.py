"""Who and what was forgotten, by the dataset's own (raw) IDs, and a hash of the request.

A :class:`core.result.RunResult` keeps internal indices; a reviewer needs the IDs of the
source files ("user 104", not row 6). The request is re-resolved on the loaded dataset
with the run's own configuration (same split seed, same request seed), which yields the
removed interactions exactly; their sorted raw ``user<TAB>item`` pairs are hashed so a
receipt can later prove the same data still resolves to the same request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from core.config import ExperimentConfig
from core.data.dataset import Dataset
from core.forget_request import ResolvedRequest, resolve_request
from core.split import make_split


@dataclass(frozen=True)
class ForgottenSubjects:
    """The request's subjects by raw ID, and who counts as a forgotten user and why."""

    kind: str  # users | items | interactions
    description: str
    forgotten_users: tuple[str, ...]  # everyone who lost training interactions
    items: tuple[tuple[str, str], ...]  # (raw ID, title) of the items asked to forget (item requests)
    pairs: tuple[tuple[str, str], ...]  # (user, item) raw IDs of removed interactions (interaction requests)
    n_removed_rows: int
    n_users_total: int
    who_counts: str
    request_sha256: str

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "description": self.description,
            "forgotten_users": list(self.forgotten_users),
            "items": [{"id": i, "title": t} for i, t in self.items],
            "interactions": [list(p) for p in self.pairs],
            "n_removed_rows": self.n_removed_rows,
            "who_counts": self.who_counts,
            "request_sha256": self.request_sha256,
        }


def resolve(dataset: Dataset, config: ExperimentConfig) -> ResolvedRequest:
    """The run's request applied to ``dataset`` again, through the run's split."""
    return resolve_request(dataset, make_split(dataset, config.split), config.request)


def request_sha256(dataset: Dataset, resolved: ResolvedRequest) -> str:
    """SHA-256 of the removed interactions as sorted ``user<TAB>item`` lines of raw IDs."""
    rows = resolved.removed_rows
    users = dataset.user_ids[dataset.users[rows]].astype(str)
    items = dataset.item_ids[dataset.items[rows]].astype(str)
    lines = sorted(f"{u}\t{i}\n" for u, i in zip(users.tolist(), items.tolist()))
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _who_counts(kind: str, n_forgotten: int, n_users: int, n_items: int) -> str:
    if kind == "users":
        return (
            f"The forgotten users are the {n_forgotten:,} people named by the request; all their training "
            "interactions were removed."
        )
    what = (
        f"an interaction with the {n_items:,} forgotten items"
        if kind == "items"
        else "at least one of the removed interactions"
    )
    return (
        f"A forgotten user is anyone whose training data held {what}: {n_forgotten:,} of {n_users:,} users. "
        "They keep their other interactions; forgotten-item recall and the attacks measure only the removed "
        "ones, and their recommendation quality is measured like everyone else's."
    )


def forgotten_subjects(
    dataset: Dataset, config: ExperimentConfig, resolved: ResolvedRequest | None = None
) -> ForgottenSubjects:
    """The subjects of the run's request on ``dataset`` (re-resolved unless ``resolved`` is given)."""
    resolved = resolved if resolved is not None else resolve(dataset, config)
    kind = config.request.kind
    users = tuple(str(u) for u in dataset.user_ids[resolved.forget_users])
    items: tuple[tuple[str, str], ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    if kind == "items":
        targets = resolved.target_items if len(resolved.target_items) else resolved.forget_items
        items = tuple((str(dataset.item_ids[i]), dataset.item_title(int(i))) for i in np.asarray(targets))
    elif kind == "interactions":
        rows = resolved.removed_rows
        pairs = tuple(
            zip(
                dataset.user_ids[dataset.users[rows]].astype(str).tolist(),
                dataset.item_ids[dataset.items[rows]].astype(str).tolist(),
            )
        )
    return ForgottenSubjects(
        kind=kind,
        description=config.request.describe(),
        forgotten_users=users,
        items=items,
        pairs=pairs,
        n_removed_rows=int(len(resolved.removed_rows)),
        n_users_total=dataset.n_users,
        who_counts=_who_counts(kind, len(users), dataset.n_users, len(items)),
        request_sha256=request_sha256(dataset, resolved),
    )


def removed_items_of(dataset: Dataset, resolved: ResolvedRequest, user: int) -> set[int]:
    """Item indices of ``user``'s removed interactions (to mark them in the before/after examples)."""
    rows = resolved.removed_rows[dataset.users[resolved.removed_rows] == user]
    return set(dataset.items[rows].tolist())
