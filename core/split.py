"""One seeded split per experiment, shared by every method.

Outsider users are held out of every training set (the non-member side of the
membership-inference attack). Every other user's interactions are split train / valid /
test, per user: random 8:1:1 (RecBole's rounding), leave-one-out or chronological.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cancel import cancel_point
from core.data.dataset import Dataset
from core.errors import ConfigError, DatasetError
from core.params import MAX_SEED, ParamSpec, check_fields

SPLIT_MODES = ("random", "loo", "chrono")
SPLIT_MODE_LABELS = ("Random per user", "Leave one out (latest two held out)", "Chronological per user")


@dataclass(frozen=True)
class SplitConfig:
    mode: str = "random"
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    outsider_fraction: float = 0.1
    seed: int = 0

    def validate(self) -> None:
        check_fields(SPLIT_PARAMS, self, "split")
        if len(self.ratios) != 3 or any(r < 0 for r in self.ratios) or abs(sum(self.ratios) - 1) > 1e-6:
            raise ConfigError(f"split ratios must be three non-negative numbers summing to 1, got {self.ratios}")


_DEFAULT = SplitConfig()
# What the window and the CLI may set (the ratios stay a fixed triple, checked in validate()).
SPLIT_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "mode",
        str,
        _DEFAULT.mode,
        "How each user's interactions are divided into train, valid and test",
        choices=SPLIT_MODES,
        choice_labels=SPLIT_MODE_LABELS,
        label="Split",
    ),
    ParamSpec(
        "outsider_fraction",
        float,
        _DEFAULT.outsider_fraction,
        "Share of users held out of every training set: the 'never seen' side of the "
        "membership-inference attack (0.1 = 10 %)",
        low=0.0,
        high=0.9,
        high_open=True,
        label="Outsider share",
    ),
    ParamSpec(
        "seed",
        int,
        _DEFAULT.seed,
        "Seed of the train/valid/test split and of random selections: the "
        "same seed gives the same split, request and numbers",
        low=0,
        high=MAX_SEED,
        label="Seed",
    ),
)


@dataclass(frozen=True)
class Split:
    """Row indices into the dataset's interaction arrays (disjoint, sorted)."""

    config: SplitConfig
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    outsiders: np.ndarray  # user indices never trained on
    outsider_rows: np.ndarray  # all interactions of the outsiders

    def as_dict(self) -> dict:
        return {
            "mode": self.config.mode,
            "ratios": list(self.config.ratios),
            "outsider_fraction": self.config.outsider_fraction,
            "seed": self.config.seed,
            "n_train": int(len(self.train)),
            "n_valid": int(len(self.valid)),
            "n_test": int(len(self.test)),
            "n_outsiders": int(len(self.outsiders)),
        }


def make_split(dataset: Dataset, config: SplitConfig | None = None) -> Split:
    config = config or SplitConfig()
    config.validate()
    rng = np.random.default_rng(config.seed)
    n_users = dataset.n_users
    n_out = int(round(config.outsider_fraction * n_users))
    outsiders = np.sort(rng.choice(n_users, size=n_out, replace=False)) if n_out else np.zeros(0, np.int64)
    is_outsider = np.zeros(n_users, dtype=bool)
    is_outsider[outsiders] = True

    users = dataset.users
    counts = np.bincount(users, minlength=n_users)
    # Order rows within each user: random key, or time for chronological / leave-one-out.
    if config.mode == "random":
        key = rng.random(len(users))
    else:
        key = dataset.timestamps.astype(np.float64) + rng.random(len(users)) * 1e-3
    order = _order_by_user(key, users)
    cancel_point()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(len(users), dtype=np.int64)
    position[order] = np.arange(len(users)) - np.repeat(starts, counts)

    n_valid, n_test = holdout_sizes(counts, config)
    n_train = counts - n_valid - n_test
    pos_user = users  # position[i] is the rank of row i within its user
    in_train = position < n_train[pos_user]
    in_valid = (~in_train) & (position < (n_train + n_valid)[pos_user])
    in_test = ~(in_train | in_valid)
    inside = ~is_outsider[users]
    cancel_point()
    if not (in_test & inside).any():
        raise DatasetError(
            f"nothing can be evaluated: no user keeps a test interaction ({dataset.n_users} users, at most "
            f"{int(counts.max(initial=0))} interactions each; the {config.mode} split needs users with at least "
            f"{3 if config.mode == 'loo' else 2} and enough of them)",
            dataset.source or None,
        )
    all_rows = np.arange(len(users))
    return Split(
        config=config,
        train=all_rows[in_train & inside],
        valid=all_rows[in_valid & inside],
        test=all_rows[in_test & inside],
        outsiders=outsiders.astype(np.int64),
        outsider_rows=all_rows[~inside],
    )


ROWS_PER_SORT = 1_000_000  # rows sorted between two cancel points


def _order_by_user(key: np.ndarray, users: np.ndarray) -> np.ndarray:
    """``np.lexsort((key, users))``, in slices of whole users with a cancel point each.

    A dataset's rows are grouped by user (``Dataset``'s order), so sorting each slice of
    about :data:`ROWS_PER_SORT` rows on its own gives the very same order, and a stop
    request lands between slices instead of after a 10M-row sort."""
    if len(users) <= ROWS_PER_SORT or (np.diff(users) < 0).any():
        return np.lexsort((key, users))  # small, or not grouped: one sort
    order = np.empty(len(users), dtype=np.int64)
    start = 0
    while start < len(users):
        cancel_point()
        stop = min(len(users), start + ROWS_PER_SORT)
        stop = int(np.searchsorted(users, users[stop - 1], side="right"))  # end on a user boundary
        order[start:stop] = start + np.lexsort((key[start:stop], users[start:stop]))
        start = stop
    return order


def holdout_sizes(counts: np.ndarray, config: SplitConfig) -> tuple[np.ndarray, np.ndarray]:
    """Valid and test sizes per user.

    Random/chronological follow RecBole's rounding: int(ratio·n) each, bumped to 1 when
    0 < ratio·n < 1 while training keeps more than one row. Leave-one-out holds one each
    while a user has at least three interactions.
    """
    if config.mode == "loo":
        enough = counts >= 3
        return enough.astype(np.int64), enough.astype(np.int64)
    _, rv, rt = config.ratios
    n_valid = np.floor(rv * counts).astype(np.int64)
    n_test = np.floor(rt * counts).astype(np.int64)
    n_train = counts - n_valid - n_test
    for ratio, arr in ((rt, n_test), (rv, n_valid)):  # RecBole bumps from the last split back
        bump = (n_train > 1) & (ratio * counts > 0) & (ratio * counts < 1)
        arr += bump
        n_train -= bump
    return n_valid, n_test
