"""The three evaluation groups: retain, forget and similar users (computed, never labelled)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from core.data.dataset import Dataset
from core.forget_request import ResolvedRequest
from core.split import Split

GROUPS = ("retain", "forget", "similar")


@dataclass(frozen=True)
class Groups:
    retain: np.ndarray
    forget: np.ndarray
    similar: np.ndarray
    similar_rule: str

    def get(self, name: str) -> np.ndarray:
        return getattr(self, name)

    def as_dict(self) -> dict:
        return {
            "n_retain": int(len(self.retain)),
            "n_forget": int(len(self.forget)),
            "n_similar": int(len(self.similar)),
            "similar_rule": self.similar_rule,
        }


def similar_users(
    history: sp.csr_matrix, sources: np.ndarray, candidates: np.ndarray, top_n: int = 10
) -> np.ndarray:
    """Union of each source user's ``top_n`` most cosine-similar candidates.

    Sparse products only: the similarity block is |sources|×|candidates|, never N×N.
    Candidates with zero similarity are never picked.
    """
    if len(sources) == 0 or len(candidates) == 0 or top_n <= 0:
        return np.zeros(0, np.int64)
    norms = np.sqrt(np.asarray(history.multiply(history).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    normed = sp.diags(1.0 / norms) @ history
    sims = (normed[sources] @ normed[candidates].T).toarray()
    n = min(top_n, len(candidates))
    top = np.argpartition(-sims, n - 1, axis=1)[:, :n]
    picked_sims = np.take_along_axis(sims, top, axis=1)
    chosen = candidates[top[picked_sims > 0]]
    return np.unique(chosen).astype(np.int64)


def make_groups(dataset: Dataset, split: Split, request: ResolvedRequest, top_n: int = 10) -> Groups:
    """Retain = neither forgotten nor outsider, with test items; forget = users who lost rows.

    Similar: for user- and item-level requests, the retained users most cosine-similar
    (on full train histories) to the forget group. For item-level requests every user who
    had trained on the items is in the forget group, so "users who interacted with the
    forgotten items" would be the forget group itself; neighbours are the faithful
    collateral-damage probe. For interaction-level requests: retained users outside the
    forget group who still have a retained training row with a forgotten item.
    """
    test_users = np.unique(dataset.users[split.test])
    forget = request.forget_users
    excluded = np.union1d(forget, split.outsiders)
    retain = np.setdiff1d(test_users, excluded)
    if request.request.kind == "interactions":
        retained_items = dataset.items[request.retained_rows]
        touched = np.isin(retained_items, request.forget_items)
        candidates = np.unique(dataset.users[request.retained_rows][touched])
        similar = np.setdiff1d(candidates, excluded)
        rule = "retained users sharing a forgotten item"
    else:
        history = dataset.matrix(split.train)
        pool = np.setdiff1d(np.unique(dataset.users[split.train]), excluded)
        similar = similar_users(history, forget, pool, top_n)
        rule = f"top-{top_n} cosine neighbours of each forgotten user"
    return Groups(
        retain=retain.astype(np.int64),
        forget=np.intersect1d(forget, test_users).astype(np.int64) if len(forget) else forget,
        similar=np.intersect1d(similar, test_users).astype(np.int64),
        similar_rule=rule,
    )
