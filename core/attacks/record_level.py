"""Record-level membership: does the model score a user's forgotten rows above the same
user's held-out rows?

Members are the removed (forgotten) train rows; non-members are the *same users'*
held-out (valid + test) rows. Both sides are scored by the one mechanism the model
uses for that user — its own ``score(user)``, or its popularity vector where it has no
representation of the user (the protocol's fallback applies to both sides alike, so it
cannot separate them). Higher score = "member". The AUC is taken inside each user
(their forgotten rows against their own held-out rows) and averaged over users, with
a user-bootstrap interval: pooling rows of different users would mix score scales
and row counts (a light user who lost one row) and drift from 0.5 even where, inside
every user, the two sides are exchangeable (0.56 for retrain on ML-100K
``interactions:random:0.01`` before this choice).

Neutral point (the retrained model's value is always the target; figures measured on
ML-100K BPR, seed 0, with 95 % user-bootstrap intervals):

* ``users`` (random users): removed and held-out rows are a random split of the same
  histories, never seen by retrain → exchangeable, retrain ≈ 0.5 (0.515 [0.491,
  0.539]; base 0.589). A model that only marks the users unknown scores them by the
  same popularity as retrain and is *not* separated here — the fold-in attack is.
* ``interactions`` (random rows): removed rows are a random share of train, held-out
  rows a random share of the rest → exchangeable for retrain, ≈ 0.5 (0.496 [0.470,
  0.522]; base 0.595).
* ``items``: members are all rows of the forgotten items, non-members mostly rows of
  other items. Retrain never sees a positive row of those items, yet their embeddings
  *are* trained: negative sampling draws them as negatives for every user, which pushes
  them to the bottom of every ranking (norm 0.27 at initialisation → 2.10 after
  retraining; mean rank percentile over users 0.14, 0 = bottom; on the demo 0.50 → 2.25
  and 0.02). Its AUC therefore sits far *below* 0.5 (0.011; base 0.604) — read a method
  against retrain's value, not against 0.5.

The calibration line (retained users' train rows vs their held-out rows, under the
same model) is the generalisation gap every model has on data it legitimately keeps:
the scale against which a forgotten-row AUC is read.
"""

from __future__ import annotations

import numpy as np
import torch

from core.arrays import difference, unique
from core.attacks.common import Probe, check_sides
from core.cancel import cancel_point
from core.evaluation.full_sort import score_with_fallback
from core.models.base import Scorer

NAME = "record-level"
CALIBRATION = "record-level calibration (retained users)"
MAX_CALIBRATION_USERS = 1000

NEUTRAL = {
    "users": "forgotten rows and held-out rows are a random split of the same histories: "
    "a model that never saw them scores ≈ 0.5",
    "interactions": "forgotten rows are a random share of train, exchangeable with held-out rows "
    "for a model that never saw them: ≈ 0.5",
    "items": "forgotten rows all hold the forgotten items, held-out rows mostly other items: a model "
    "that never trained those items scores far below 0.5; the target is retrain's value",
}
CALIBRATION_NOTE = (
    "retained users' train rows vs their held-out rows: the generalisation gap on "
    "data every model keeps (well above 0.5 for any trained model)"
)


def _probe(name: str, note: str, users, items, labels) -> Probe:
    return check_sides(Probe(name=name, users=users, labels=labels, neutral_note=note, items=items, within_user=True))


def record_probe(dataset, split, request) -> Probe:
    """Forgotten rows (label 1) vs the same users' held-out valid + test rows (label 0)."""
    removed = np.asarray(request.removed_rows)
    users = unique(dataset.users[removed])
    held = np.concatenate([split.valid, split.test])
    held = held[np.isin(dataset.users[held], users)]
    rows = np.concatenate([removed, held])
    labels = np.concatenate([np.ones(len(removed), np.int64), np.zeros(len(held), np.int64)])
    kind = request.request.kind
    return _probe(NAME, NEUTRAL.get(kind, ""), dataset.users[rows], dataset.items[rows], labels)


def calibration_probe(dataset, split, request, *, max_users: int = MAX_CALIBRATION_USERS, seed: int = 0) -> Probe:
    """Retained users' (neither forgotten nor outsiders) retained train rows vs their
    held-out rows; at most ``max_users`` users, a seeded sample."""
    retained = np.asarray(request.retained_rows)
    pool = difference(difference(dataset.users[retained], request.forget_users), split.outsiders)
    if len(pool) > max_users:
        pool = np.sort(np.random.default_rng([int(seed), 0x43414C]).choice(pool, max_users, replace=False))
    train = retained[np.isin(dataset.users[retained], pool)]
    held = np.concatenate([split.valid, split.test])
    held = held[np.isin(dataset.users[held], pool)]
    rows = np.concatenate([train, held])
    labels = np.concatenate([np.ones(len(train), np.int64), np.zeros(len(held), np.int64)])
    return _probe(CALIBRATION, CALIBRATION_NOTE, dataset.users[rows], dataset.items[rows], labels)


@torch.no_grad()
def record_scores(model: Scorer, probe: Probe, batch_size: int = 1024) -> np.ndarray:
    """The model's score of every probe row (popularity for users it does not know)."""
    users = np.asarray(probe.users, dtype=np.int64)
    out = np.empty(len(users), dtype=np.float64)
    distinct, inverse = np.unique(users, return_inverse=True)
    by_user = np.argsort(inverse, kind="stable")  # rows grouped by user: each batch's rows are one slice
    bounds = np.searchsorted(inverse[by_user], np.arange(0, len(distinct) + batch_size, batch_size))
    for b, start in enumerate(range(0, len(distinct), batch_size)):  # one score matrix per user batch
        cancel_point()
        batch = distinct[start : start + batch_size]
        scores = score_with_fallback(model, torch.as_tensor(batch, device=model.device))
        rows = by_user[bounds[b] : bounds[b + 1]]
        picked = scores[torch.as_tensor(inverse[rows] - start), torch.as_tensor(probe.items[rows])]
        out[rows] = picked.cpu().numpy()
    return out
