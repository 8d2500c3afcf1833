"""Fold-in (user-level) membership: does the model's item side still fit a forgotten
user's taste better than a stranger's?

The attacker holds a user's history: a forgotten user's removed train rows, or an
outsider's rows capped to the share the split would have put in train (so both sides
hold histories of the same size rule). Each history is split at random (seeded) into a
fold-in half A and a held-out half B, ``repeats`` times. For each split a fresh user
vector is fitted to A against the model's *frozen* item side ``V`` in closed form —
the implicit-ALS fold-in of Hu, Koren & Volinsky (2008), a weighted ridge regression::

    u = argmin Σ_i c_i (p_i − u·v_i)² + λ‖u‖²,  p_i = 1[i ∈ A],  c_i = 1 + α·p_i
      = (VᵀV + α V_AᵀV_A + λI)⁻¹ (1 + α) V_Aᵀ 1

with ``λ = ridge · trace(VᵀV)/d`` (scale-free, so the same setting means the same for
every model). The user's figure is the AUC of ranking B above every item outside the
history (A is excluded), averaged over the splits; the attack's AUC separates
forgotten users (label 1) from outsiders (label 0) by that figure. Nothing here looks
at ``known_users`` or popularity: every user is folded in the same way under every
model, so "the model knows this user" cannot leak in.

Why it detects memory: base item embeddings were trained so that some user vector
ranks each member's items high; a model that never saw the user offers no such
direction, and a forgotten user is then as hard to fit as an outsider.

Neutral point (measured on ML-100K BPR, seed 0):
``users`` requests (random users) — forgotten users and outsiders are exchangeable for
a model that never saw either: retrain ≈ 0.5 (0.51 [0.40, 0.62]; base 0.73).
``items`` requests — forgotten users' attacker histories hold only the forgotten
items, so the two sides differ by construction (base 0.01, retrain 0.86): the target
is retrain's value, not 0.5. Those items are not left untrained by retraining: negative
sampling trains them as negatives for everyone and pushes them together to the bottom of
every ranking (embedding norm 0.27 at initialisation → 2.10), so folding some of them in
predicts the others — the value follows where each model put them, not a random
initialisation. ``interactions`` requests — most users lose one row; the
few who lost at least ``min_rows`` hold far shorter histories than outsiders, so the
attack says little (base and retrain both ≈ 0.05); read the record-level attack there.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from core.arrays import unique
from core.attacks.common import Probe, check_sides
from core.cancel import cancel_point
from core.models.item_side import HasItemSide
from core.split import holdout_sizes

NAME = "fold-in"
NEUTRAL = {
    "users": "forgotten users and outsiders are exchangeable for a model that never saw either: ≈ 0.5",
    "items": "forgotten users' histories hold only the forgotten items, which a retrained model has trained "
    "as negatives only (pushed to the bottom together): the target is retrain's value, far from 0.5",
    "interactions": "only users who lost several rows are probed, with far shorter histories than outsiders: "
    "the target is retrain's value and the record-level attack is the informative one",
}
_CELLS_PER_BATCH = 1 << 20  # users × items scores per fold-in batch
_MAX_USERS_PER_BATCH = 256  # users per batch: a stop request lands within a fraction of a second


@dataclass(frozen=True)
class FoldInConfig:
    """The attacker's fixed procedure (the same for every user and every model)."""

    ridge: float = 0.1  # λ as a multiple of the mean eigenvalue of VᵀV
    alpha: float = 10.0  # extra confidence on the fold-in items (implicit ALS's α)
    repeats: int = 8  # seeded half-splits averaged per user
    min_rows: int = 4  # histories shorter than this are not probed
    max_users: int = 2000  # per side; a seeded sample above this keeps cost linear in the data

    def __post_init__(self) -> None:
        if self.min_rows < 2 or self.repeats < 1 or self.ridge <= 0 or self.alpha < 0 or self.max_users < 2:
            raise ValueError(
                "fold-in needs min_rows ≥ 2 (both halves non-empty), repeats ≥ 1, ridge > 0, alpha ≥ 0, max_users ≥ 2"
            )


@dataclass(frozen=True)
class FoldInProbe(Probe):
    """``history`` is a CSR ``[len(users), n_items]`` of the attacker-held items;
    ``fold_masks[r]`` marks, per stored entry of ``history``, the fold-in half of split r."""

    history: sp.csr_matrix | None = None
    fold_masks: np.ndarray | None = None


def outsider_history_rows(dataset, split, seed: int) -> np.ndarray:
    """A seeded share of each outsider's rows: as many as the split leaves a user in train."""
    rows = np.asarray(split.outsider_rows)
    if len(rows) == 0:
        return rows
    users = dataset.users[rows]
    counts = np.bincount(users, minlength=dataset.n_users)
    n_valid, n_test = holdout_sizes(counts, split.config)
    keep = np.maximum(1, counts - n_valid - n_test)
    rng = np.random.default_rng([int(seed), 0x4F5554])
    order = np.lexsort((rng.random(len(rows)), users))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - starts[users[order]]
    return np.sort(rows[rank < keep[users]])


def _fold_masks(history: sp.csr_matrix, repeats: int, seed: int) -> np.ndarray:
    """Per split, a random half (floor) of each user's entries marked as fold-in."""
    sizes = np.diff(history.indptr)
    row_of = np.repeat(np.arange(len(sizes)), sizes)
    rng = np.random.default_rng([int(seed), 0x464F4C44])
    keys = rng.random((repeats, len(row_of)))
    masks = np.empty((repeats, len(row_of)), dtype=bool)
    for r in range(repeats):  # a handful of sorts, not a loop over users
        order = np.lexsort((keys[r], row_of))
        rank = np.empty(len(row_of), dtype=np.int64)
        rank[order] = np.arange(len(row_of)) - history.indptr[row_of[order]]
        masks[r] = rank < sizes[row_of] // 2
    return masks


def fold_in_probe(dataset, split, request, config: FoldInConfig = FoldInConfig(), seed: int = 0) -> FoldInProbe:
    """Forgotten users (their removed rows) vs outsiders (a train-sized share of theirs)."""
    removed = np.asarray(request.removed_rows)
    outsider_rows = outsider_history_rows(dataset, split, seed)
    rows = np.concatenate([removed, outsider_rows])
    matrix = dataset.matrix(rows).tocsr()
    matrix.data[:] = 1.0
    sizes = np.diff(matrix.indptr)
    members = unique(dataset.users[removed])
    outsiders = unique(dataset.users[outsider_rows])
    members, outsiders = members[sizes[members] >= config.min_rows], outsiders[sizes[outsiders] >= config.min_rows]
    rng = np.random.default_rng([int(seed), 0x4D4158])
    members, outsiders = (
        side if len(side) <= config.max_users else np.sort(rng.choice(side, config.max_users, replace=False))
        for side in (members, outsiders)
    )
    users = np.concatenate([members, outsiders])
    labels = np.concatenate([np.ones(len(members), np.int64), np.zeros(len(outsiders), np.int64)])
    history = matrix[users].tocsr()
    history.sort_indices()
    probe = FoldInProbe(
        name=NAME,
        users=users,
        labels=labels,
        neutral_note=NEUTRAL.get(request.request.kind, ""),
        history=history,
        fold_masks=_fold_masks(history, config.repeats, seed),
    )
    return check_sides(probe)


def _held_out_auc(scores: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, fold: torch.Tensor) -> torch.Tensor:
    """Per row of ``scores``: the share of items outside the history ranked below each of
    the row's held-out items (ties ½). Entry ``e`` puts item ``cols[e]`` in row ``rows[e]``'s
    history, in the fold-in half where ``fold[e]``.

    No row is sorted and no dense mask built: each row's few held-out scores are sorted
    and every item is placed among them. With ``m`` held-out items and ``lt``/``le`` the
    number of them below / at most an item's score, ``Σ_items (2m − lt − le) / 2`` is the
    sum over held-out items of (items below + ½ items tied): it counts the row's fold-in
    items (ranked last), the held-out pairs and half of each item's own tie, plus what we want."""
    n, n_items = scores.shape
    scores.index_put_((rows[fold], cols[fold]), torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device))
    held_rows, held_cols = rows[~fold], cols[~fold]
    n_fold = torch.bincount(rows[fold], minlength=n).double()
    n_pos = torch.bincount(held_rows, minlength=n).double()
    slot = torch.arange(len(held_rows), device=scores.device) - (torch.cumsum(n_pos, 0) - n_pos).long()[held_rows]
    width = int(n_pos.max().item()) if n else 0
    held = torch.full((n, max(1, width)), float("inf"), dtype=scores.dtype, device=scores.device)  # +inf: no item
    held[held_rows, slot] = scores[held_rows, held_cols]
    held = held.sort(dim=1).values
    placed = (
        (
            torch.searchsorted(held, scores, out_int32=True)
            + torch.searchsorted(held, scores, right=True, out_int32=True)
        )
        .sum(1)
        .double()
    )
    below = (2 * n_pos * n_items - placed) / 2 - n_pos * n_fold - n_pos * (n_pos - 1) / 2 - n_pos / 2
    return below / (n_pos * (n_items - n_fold - n_pos))


def _fold_in_batch(sides, history: sp.csr_matrix, masks: np.ndarray, config: FoldInConfig, device) -> np.ndarray:
    """Mean held-out AUC over the splits, for one batch of users."""
    n, n_items = history.shape
    rows = torch.as_tensor(np.repeat(np.arange(n), np.diff(history.indptr)), device=device)
    cols = torch.as_tensor(history.indices, device=device, dtype=torch.long)
    total = torch.zeros(n, dtype=torch.float64, device=device)
    for r in range(masks.shape[0]):
        cancel_point()
        in_fold = torch.as_tensor(masks[r], device=device)
        scores = torch.zeros(n, n_items, dtype=torch.float64, device=device)
        for side in sides:  # ensembles: fold into each member, average the scores
            scores += _fold_in_scores(side, rows[in_fold], cols[in_fold], n, config) / len(sides)
        total += _held_out_auc(scores, rows, cols, in_fold)
    return (total / masks.shape[0]).cpu().numpy()


@dataclass(frozen=True)
class _Side:
    """One frozen item side with what every fold-in into it shares (computed once)."""

    v: torch.Tensor  # [n_items, d], double
    gram: torch.Tensor  # VᵀV
    ridge: torch.Tensor  # λI

    @classmethod
    def of(cls, v: torch.Tensor, config: FoldInConfig) -> "_Side":
        d = v.shape[1]
        gram = v.T @ v
        lam = config.ridge * torch.trace(gram) / d
        return cls(v, gram, lam * torch.eye(d, dtype=v.dtype, device=v.device))


def _fold_in_scores(side: _Side, rows: torch.Tensor, cols: torch.Tensor, n: int, config: FoldInConfig) -> torch.Tensor:
    """Closed-form implicit-ALS user vectors for a batch of fold-in sets (entry ``e`` puts
    item ``cols[e]`` in user ``rows[e]``'s set), then their scores. Sums over the stored
    entries only: the cost follows the fold-in items, not users × items × dim²."""
    v = side.v
    d = v.shape[1]
    picked = v[cols]
    counts = torch.bincount(rows, minlength=n)
    slot = torch.arange(len(rows), device=v.device) - (torch.cumsum(counts, 0) - counts)[rows]  # rows ascend
    padded = torch.zeros(n, int(counts.max().item()) if len(rows) else 1, d, dtype=v.dtype, device=v.device)
    padded[rows, slot] = picked
    local = padded.transpose(1, 2) @ padded  # V_Aᵀ V_A per user, one batched product
    lhs = side.gram + config.alpha * local + side.ridge
    rhs = padded.sum(1) * (1 + config.alpha)  # V_Aᵀ1, summed in entry order like an index_add
    u = torch.linalg.solve(lhs, rhs.unsqueeze(-1)).squeeze(-1)
    return u @ v.T


@torch.no_grad()
def fold_in_scores(model: HasItemSide, probe: FoldInProbe, config: FoldInConfig = FoldInConfig()) -> np.ndarray:
    """Per probed user, the mean held-out AUC after folding them into ``model``'s item side
    (higher = the model fits this user better = "member").

    Memoised by a digest of every input (the item sides' values, the probe's histories and
    splits, ``config``): a run asks for the same figures twice, once for the attack and once
    for the per-person test (core/attacks/per_person.py), under every model and reference."""
    vectors = [s.detach().double() for s in model.item_sides()]
    if not vectors:
        raise ValueError("the model offers no item side to fold users into")
    key = _digest(vectors, probe, config)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key].copy()
    out = _fold_in_all(vectors, probe, config)
    _MEMO[key] = out.copy()
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return out


_MEMO: OrderedDict[str, np.ndarray] = OrderedDict()
_MEMO_SIZE = 256  # entries of one float per probed user: a few MB at most


def _digest(vectors: list[torch.Tensor], probe: FoldInProbe, config: FoldInConfig) -> str:
    """SHA-256 of everything :func:`fold_in_scores` reads."""
    h = hashlib.sha256(repr((config, len(probe.users), probe.history.shape, probe.fold_masks.shape)).encode())
    for v in vectors:
        h.update(repr((tuple(v.shape), str(v.device))).encode())
        h.update(v.contiguous().cpu().numpy().tobytes())
    for array in (probe.history.indptr, probe.history.indices, probe.fold_masks):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _fold_in_all(vectors: list[torch.Tensor], probe: FoldInProbe, config: FoldInConfig) -> np.ndarray:
    """The figures themselves, in batches of users (a stop request lands between batches)."""
    sides = [_Side.of(v, config) for v in vectors]
    device = sides[0].v.device
    n_items = sides[0].v.shape[0]
    batch = max(1, min(_MAX_USERS_PER_BATCH, _CELLS_PER_BATCH // n_items))
    history, masks = probe.history, probe.fold_masks
    out = np.empty(len(probe.users))
    for start in range(0, len(probe.users), batch):
        cancel_point()
        stop = min(start + batch, len(probe.users))
        lo, hi = history.indptr[start], history.indptr[stop]
        out[start:stop] = _fold_in_batch(sides, history[start:stop], masks[:, lo:hi], config, device)
    return out
