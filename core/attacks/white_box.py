"""White-box record-level membership: read the user vectors a model keeps for users it
marks unknown.

The record-level attack scores a user the way the model ranks them, so a model that
only *marks* the forgotten users unknown (the ``ids_only`` control) scores them by the
same popularity as retrain and is not separated there. Yet it still holds their
trained vectors. This attack reads them: same probe and labels as the record-level
attack (a forgotten user's removed rows = 1 against their own held-out rows = 0, AUC
inside each user, averaged, seeded user bootstrap), but every row is scored by the
model's own ``score(user)`` — its user vector against its item side — whatever
``known_users`` says.

Neutral point (``users`` requests): retrain never trained the forgotten users' vectors
(they keep their random initialisation, or a re-draw), so their scores carry no
information about which of a user's rows were in training: ≈ 0.5, and the target is
retrain's value. A model that kept the trained vectors scores the forgotten rows
higher (ML-100K BPR ``users:random:0.05``: ``ids_only`` − retrain +0.067 [0.024,
0.108]; a re-draw of the forgotten vectors −0.023 [−0.061, 0.017]).

Measured for ``users`` requests only: for ``items`` and ``interactions`` requests the
forgotten users keep other training rows, every model (retrain too) keeps their
vectors, and this attack is the record-level attack itself.

Not applicable to models without a user table of their own: shard ensembles (each
shard holds its own vectors; a forgotten user's shard is retrained without them) and
LLM re-rankers (no per-user parameters). :func:`white_box_reason` says why.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.attacks.common import AttackError, Probe, within_user_auc
from core.attacks.record_level import record_probe, record_scores
from core.models.base import EmbeddingModel

NAME = "white-box"
NEUTRAL = (
    "forgotten rows vs the same users' held-out rows, scored with the user vector the model keeps "
    "(even for users it marks unknown): a model that never trained that vector scores ≈ 0.5; "
    "the target is retrain's value"
)
KINDS = ("users",)


def white_box_reason(model) -> str | None:
    """None when the attack applies to ``model``; otherwise one line saying why not."""
    if hasattr(model, "n_shards") or hasattr(model, "shards"):  # SISA's ShardedEmbeddings, RecEraser
        return (
            "a shard ensemble: each shard keeps its own user vectors and a forgotten user's shard is "
            "retrained without them, so there is no single user vector to read"
        )
    if not isinstance(model, EmbeddingModel):
        return "it keeps no user vectors of its own (it re-ranks or wraps another model): nothing to read"
    return None


def white_box_probe(dataset, split, request) -> Probe:
    """The record-level probe (forgotten rows = 1, the same users' held-out rows = 0) under this
    attack's name. Raises :class:`~core.attacks.common.AttackError` for requests other than
    ``users`` (there it would repeat the record-level attack) or too few rows."""
    kind = request.request.kind
    if kind not in KINDS:
        raise AttackError(
            f"the {NAME} attack is measured for users requests only ({kind} requests keep the forgotten "
            "users' vectors in every model: it is the record-level attack there)"
        )
    return replace(record_probe(dataset, split, request), name=NAME, neutral_note=NEUTRAL)


class _EveryUserKnown:
    """A view of a scorer that says it knows every user: scores come from its own vectors,
    never the popularity fallback (what a white-box reader of the parameters sees)."""

    known_users = None

    def __init__(self, model) -> None:
        self._model = model
        self.n_users, self.n_items = model.n_users, model.n_items

    @property
    def device(self):
        return self._model.device

    @property
    def popularity(self):
        return self._model.popularity

    def score(self, users):
        return self._model.score(users)


def white_box_scores(model, probe: Probe, batch_size: int = 1024) -> np.ndarray:
    """Every probe row scored by the model's own user vector (no popularity fallback).
    Check :func:`white_box_reason` first: a model without user vectors raises ValueError."""
    reason = white_box_reason(model)
    if reason is not None:
        raise ValueError(f"the {NAME} attack does not apply: {reason}")
    return record_scores(_EveryUserKnown(model), probe, batch_size)


def white_box_person_scores(probe: Probe, scores: np.ndarray, users: np.ndarray) -> np.ndarray:
    """Per user of ``users`` (in that order): the AUC of their forgotten rows against their own
    held-out rows under ``scores`` (NaN for a user the probe holds no rows of, or one side of)."""
    ids, auc = within_user_auc(scores, probe.labels, probe.users)
    out = np.full(len(users), np.nan)
    where = np.searchsorted(ids, users)
    found = (where < len(ids)) & (ids[np.minimum(where, len(ids) - 1)] == users)
    out[found] = auc[where[found]]
    return out
