"""The three evaluation groups: retain, forget and similar users (computed, never labelled)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from core.arrays import consecutive_ranges, difference, intersection, union, unique
from core.cancel import cancel_point
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


_PRODUCTS_PER_BLOCK = 1 << 22  # similarity products (≥ non-zeros) of one block of sources
MAX_SOURCES = 5000  # forgotten users whose neighbours are searched (a seeded sample above this)


def similar_users(history: sp.csr_matrix, sources: np.ndarray, candidates: np.ndarray, top_n: int = 10) -> np.ndarray:
    """Union of each source user's ``top_n`` most cosine-similar candidates.

    Sparse products over blocks of sources sized by the products they cost (the sum,
    over a source's items, of how many candidates hold each item): memory follows the
    block's non-zero similarities, never sources × candidates (let alone N×N).
    Candidates with zero similarity are never picked; ties go to the lower candidate.
    """
    sources, candidates = np.asarray(sources, np.int64), np.asarray(candidates, np.int64)
    if len(sources) == 0 or len(candidates) == 0 or top_n <= 0:
        return np.zeros(0, np.int64)
    norms = np.sqrt(np.asarray(history.multiply(history).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    normed = (sp.diags(1.0 / norms) @ history).tocsr()
    cancel_point()
    by_item = normed[candidates].T.tocsr()  # items × candidates, built once
    chosen = [np.zeros(0, np.int64)]
    for start, stop in _blocks(normed[sources], np.diff(by_item.indptr), _PRODUCTS_PER_BLOCK):
        cancel_point()
        sims = (normed[sources[start:stop]] @ by_item).tocsr()
        chosen.append(candidates[_top_per_row(sims, top_n)])
    return unique(np.concatenate(chosen)).astype(np.int64)


def _blocks(rows: sp.csr_matrix, per_item: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` row ranges whose products ``Σ per_item[items of a row]``
    stay within ``budget`` (a row costing more gets a block of its own)."""
    owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    cost = np.bincount(owner, weights=per_item[rows.indices], minlength=rows.shape[0])
    return consecutive_ranges(cost, budget)


def _top_per_row(sims: sp.csr_matrix, top_n: int) -> np.ndarray:
    """Column indices of each row's ``top_n`` largest positive entries (ties: lower column).

    Linear in the non-zeros: each row's ``top_n``-th largest value comes from a partition
    of its own entries (rows padded only to the next power of two of their length); then
    everything above it is kept, and entries equal to it in column order up to ``top_n``."""
    rows = np.repeat(np.arange(sims.shape[0]), np.diff(sims.indptr))
    keep = sims.data > 0
    rows, cols, vals = rows[keep], sims.indices[keep].astype(np.int64), sims.data[keep]
    counts = np.bincount(rows, minlength=sims.shape[0])
    cut = _nth_largest(rows, vals, counts, top_n)[rows]
    above = vals > cut
    tied = np.flatnonzero(vals == cut)
    tied = tied[np.lexsort((cols[tied], rows[tied]))]
    room = top_n - np.bincount(rows[above], minlength=sims.shape[0])
    tie_rows = rows[tied]
    rank = np.arange(len(tied)) - np.searchsorted(tie_rows, tie_rows, side="left")
    return np.concatenate([cols[above], cols[tied[rank < room[tie_rows]]]])


def _nth_largest(rows: np.ndarray, vals: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Per row, its ``n``-th largest value (−inf for rows with at most ``n`` entries);
    ``rows`` grouped (ascending), ``vals`` the entries."""
    out = np.full(len(counts), -np.inf)
    starts = np.cumsum(counts) - counts
    full = np.flatnonzero(counts > n)
    width = 1 << np.ceil(np.log2(counts[full])).astype(np.int64)
    for size in np.unique(width):  # one padded [rows, size] partition per size class
        members = full[width == size]
        lengths = counts[members]
        local = np.repeat(np.arange(len(members)), lengths)
        offset = np.arange(len(local)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        padded = np.full((len(members), int(size)), np.inf)
        padded[local, offset] = -vals[np.repeat(starts[members], lengths) + offset]
        out[members] = -np.partition(padded, n - 1, axis=1)[:, n - 1]
    return out


def sample_sources(forget: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` forgotten users (a seeded sample): the neighbour search stays
    linear in the data however many users a request forgets."""
    if len(forget) <= limit:
        return forget
    return np.sort(np.random.default_rng([int(seed), 0x53494D]).choice(forget, limit, replace=False))


def make_groups(dataset: Dataset, split: Split, request: ResolvedRequest, top_n: int = 10) -> Groups:
    """Retain = neither forgotten nor outsider, with test items; forget = users who lost rows.

    Similar: for user- and item-level requests, the retained users most cosine-similar
    (on full train histories) to the forget group. For item-level requests every user who
    had trained on the items is in the forget group, so "users who interacted with the
    forgotten items" would be the forget group itself; neighbours are the faithful
    collateral-damage probe. For interaction-level requests: retained users outside the
    forget group who still have a retained training row with a forgotten item.
    """
    test_users = unique(dataset.users[split.test])
    forget = request.forget_users
    excluded = union(forget, split.outsiders)
    retain = difference(test_users, excluded)
    if request.request.kind == "interactions":
        retained_items = dataset.items[request.retained_rows]
        touched = np.isin(retained_items, request.forget_items)
        candidates = unique(dataset.users[request.retained_rows][touched])
        similar = difference(candidates, excluded)
        rule = "retained users sharing a forgotten item"
    else:
        history = dataset.matrix(split.train)
        cancel_point()
        pool = difference(dataset.users[split.train], excluded)
        sources = sample_sources(forget, MAX_SOURCES, split.config.seed)
        similar = similar_users(history, sources, pool, top_n)
        rule = f"top-{top_n} cosine neighbours of each forgotten user"
        if len(sources) < len(forget):
            rule = f"top-{top_n} cosine neighbours of {len(sources)} forgotten users (a seeded sample)"
    return Groups(
        retain=retain.astype(np.int64),
        forget=intersection(forget, test_users).astype(np.int64) if len(forget) else forget,
        similar=intersection(similar, test_users).astype(np.int64),
        similar_rule=rule,
    )
