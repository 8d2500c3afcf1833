"""Membership inference: can an attacker tell that a forgotten user was trained on?

One attack per experiment (PROTOCOL.md). It is trained on the *base* model: members are
a sample of retained training users with their train items, non-members the outsider
users (never trained on by any model) with their items — a random train-sized share of
them, so that every probed user holds as many items as a train history would. The same fitted attack
then scores, under every model, the forgotten users (with their *removed* items: the
rows the retrained model never saw) against the outsiders; the AUC of that separation
is the model's figure. Base ≫ 0.5, retrain ≈ 0.5.

Leakage is avoided on both sides: forgotten users are never attack-training members
(for item-level requests they would otherwise qualify), and no outsider is scored by an
attack that was fitted on it. Outsiders are few (10 % of users), so instead of halving
them the attack is cross-fitted: outsiders and forgotten users are dealt into F folds,
attack f is fitted on the outsiders outside fold f, and scores the users of fold f.
Every user is scored by exactly one attack it never saw, every outsider is used, and
the folds, fits and labels are the same for every model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.errors import CragruError
from core.mia_features import FEATURE_NAMES, membership_features
from core.models.base import Scorer
from core.split import holdout_sizes  # the split's own per-user train size rule

ATTACKS = ("logistic", "boosting")
MIN_USERS_PER_SIDE = 2
MAX_MEMBERS = 2000


class MembershipInferenceError(CragruError):
    """The attack cannot be set up on this experiment (no outsiders, too few users...)."""


def fit_classifier(x: np.ndarray, y: np.ndarray, kind: str = "logistic", seed: int = 0):
    """A classifier of P(member) on feature rows ``x`` (labels ``y``), classes weighted equally."""
    if kind not in ATTACKS:
        raise MembershipInferenceError(f"attack must be one of {', '.join(ATTACKS)}, got {kind!r}")
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    for what, count in (("member", n_pos), ("non-member", n_neg)):
        if count < MIN_USERS_PER_SIDE:
            raise MembershipInferenceError(
                f"membership inference needs at least {MIN_USERS_PER_SIDE} {what} users to train "
                f"the attack, got {count}"
            )
    weights = np.where(y == 1, 0.5 / n_pos, 0.5 / n_neg) * len(y)
    if kind == "logistic":
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
        clf.fit(x, y, logisticregression__sample_weight=weights)
    else:
        clf = HistGradientBoostingClassifier(
            max_iter=200, max_depth=3, learning_rate=0.05, random_state=seed,
            min_samples_leaf=max(2, min(20, len(y) // 10)),  # small experiments still get splits
        )
        clf.fit(x, y, sample_weight=weights)
    return clf


@dataclass
class MembershipAttack:
    """One fitted attack on :mod:`core.mia_features` features; ``predict`` gives P(member)."""

    classifier: object

    @classmethod
    def fit(
        cls,
        model: Scorer,
        members: np.ndarray,
        member_items: sp.csr_matrix,
        non_members: np.ndarray,
        non_member_items: sp.csr_matrix,
        *,
        kind: str = "logistic",
        seed: int = 0,
    ) -> "MembershipAttack":
        """Fit on ``model``'s features: members labelled 1, non-members 0."""
        x = np.vstack([membership_features(model, members, member_items),
                       membership_features(model, non_members, non_member_items)])
        y = np.concatenate([np.ones(len(members)), np.zeros(len(non_members))])
        return cls(fit_classifier(x, y, kind, seed))

    def predict(self, model: Scorer, users: np.ndarray, items: sp.csr_matrix) -> np.ndarray:
        """P(member) for each user, from ``model``'s ranking of their ``items``."""
        return self.classifier.predict_proba(membership_features(model, users, items))[:, 1]

    def auc(
        self,
        model: Scorer,
        positives: np.ndarray,
        positive_items: sp.csr_matrix,
        negatives: np.ndarray,
        negative_items: sp.csr_matrix,
    ) -> float:
        """ROC AUC of separating ``positives`` (label 1) from ``negatives`` under ``model``."""
        p = self.predict(model, positives, positive_items)
        n = self.predict(model, negatives, negative_items)
        y = np.concatenate([np.ones(len(p)), np.zeros(len(n))])
        return float(roc_auc_score(y, np.concatenate([p, n])))


def _users_with_rows(users_of_rows: np.ndarray) -> np.ndarray:
    return np.unique(users_of_rows).astype(np.int64)


def outsider_train_like_rows(dataset, split, rng: np.random.Generator) -> np.ndarray:
    """A random subset of each outsider's rows, as many as the split leaves a user in train.

    Members and forgotten users are probed on their train rows (80 % of their rows under
    the default split); probing outsiders on all their rows would make them differ in
    size, and even count-free per-item means then differ in spread, which a classifier
    picks up (AUC ≈ 0.53 between two never-trained groups in our checks).
    """
    rows = np.asarray(split.outsider_rows)
    if len(rows) == 0:
        return rows
    users = dataset.users[rows]
    counts = np.bincount(users, minlength=dataset.n_users)
    n_valid, n_test = holdout_sizes(counts, split.config)
    keep_n = np.maximum(1, counts - n_valid - n_test)
    order = np.lexsort((rng.random(len(rows)), users))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - starts[users[order]]
    return np.sort(rows[rank < keep_n[users]])


def membership_auc_for_models(
    prepared, scorers: dict[str, Scorer], seed: int, *, attack: str = "logistic", folds: int = 5
) -> dict[str, float]:
    """AUC of the base-trained attack at separating forgotten users from outsiders, per model.

    ``prepared`` is a :class:`core.runner.Prepared`; ``scorers`` must hold ``"base"``.
    Raises :class:`MembershipInferenceError` when the experiment has no outsiders or
    too few users on a side.
    """
    if "base" not in scorers:
        raise MembershipInferenceError("membership inference needs the base model to train its attack")
    ds, split, request = prepared.dataset, prepared.split, prepared.request
    rng = np.random.default_rng([int(seed), 0x4D4941])  # "MIA": independent of other seeded draws

    outsiders = _users_with_rows(ds.users[split.outsider_rows])
    if len(outsiders) < 2 * MIN_USERS_PER_SIDE:
        raise MembershipInferenceError(
            f"membership inference needs outsider users (never trained on) as non-members; this split has "
            f"{len(outsiders)} — raise the outsider fraction above 0"
        )
    forgotten = _users_with_rows(ds.users[request.removed_rows])
    if len(forgotten) < MIN_USERS_PER_SIDE:
        raise MembershipInferenceError(
            f"membership inference needs at least {MIN_USERS_PER_SIDE} forgotten users, "
            f"the request has {len(forgotten)}"
        )
    pool = np.setdiff1d(_users_with_rows(ds.users[request.retained_rows]), request.forget_users)
    pool = np.setdiff1d(pool, outsiders)
    if len(pool) < MIN_USERS_PER_SIDE:
        raise MembershipInferenceError("membership inference needs retained users to train the attack on")
    members = np.sort(rng.choice(pool, size=min(len(pool), MAX_MEMBERS), replace=False))
    n_folds = max(2, min(int(folds), len(outsiders) // MIN_USERS_PER_SIDE))
    outsider_fold = rng.permutation(len(outsiders)) % n_folds
    forgotten_fold = rng.permutation(len(forgotten)) % n_folds

    # One "own items" matrix: train rows for members, removed rows for the forgotten,
    # for outsiders the rows the split would have made their train rows (the three user
    # sets are disjoint).
    member_rows = split.train[np.isin(ds.users[split.train], members)]
    outsider_rows = outsider_train_like_rows(ds, split, rng)
    own = sp.csr_matrix(ds.matrix(np.concatenate([member_rows, request.removed_rows, outsider_rows])))

    base = scorers["base"]
    x_members = membership_features(base, members, own)
    x_outsiders_base = membership_features(base, outsiders, own)
    attacks = []
    for fold in range(n_folds):  # a handful of fits, not a per-user loop
        train_out = x_outsiders_base[outsider_fold != fold]
        x = np.vstack([x_members, train_out])
        y = np.concatenate([np.ones(len(x_members)), np.zeros(len(train_out))])
        attacks.append(fit_classifier(x, y, attack, seed))

    labels = np.concatenate([np.ones(len(forgotten)), np.zeros(len(outsiders))])
    folds_of = np.concatenate([forgotten_fold, outsider_fold])
    out: dict[str, float] = {}
    for name, model in scorers.items():
        x = np.vstack([membership_features(model, forgotten, own),
                       x_outsiders_base if model is base else membership_features(model, outsiders, own)])
        p = np.zeros(len(x))
        for fold, clf in enumerate(attacks):
            chosen = folds_of == fold
            if chosen.any():
                p[chosen] = clf.predict_proba(x[chosen])[:, 1]
        out[name] = float(roc_auc_score(labels, p))
    return out


__all__ = [
    "ATTACKS",
    "FEATURE_NAMES",
    "MembershipAttack",
    "MembershipInferenceError",
    "fit_classifier",
    "membership_auc_for_models",
]
