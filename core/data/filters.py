"""Filters applied to the raw interaction frame before it becomes a :class:`Dataset`.

They work on raw IDs so the dataset's contiguous indices are built once, after filtering.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DatasetError


def drop_duplicate_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the latest row of a repeated (user, item) pair, as :meth:`Dataset.from_frame` does.

    Filters run first, so without this a pair rated twice would count twice in k-core.
    """
    dup = frame.duplicated(["user", "item"], keep=False)
    if not dup.any():
        return frame
    if "timestamp" in frame:
        frame = frame.sort_values("timestamp", kind="stable")
    return frame.drop_duplicates(["user", "item"], keep="last")


def apply_implicit_threshold(frame: pd.DataFrame, threshold: float | None, source: str | None = None) -> pd.DataFrame:
    """Keep interactions rated ``>= threshold``.

    None keeps all: every rating counts as an interaction, as in the CRAGRU paper.
    """
    if threshold is None:
        return frame
    if "rating" not in frame:
        return frame  # implicit data: every row is already a positive interaction
    kept = frame[frame["rating"].to_numpy() >= threshold]
    if kept.empty:
        raise DatasetError(f"no interaction has a rating >= {threshold:g}", source)
    return kept


def apply_k_core(frame: pd.DataFrame, k: int, source: str | None = None) -> pd.DataFrame:
    """Drop users and items with fewer than ``k`` interactions, repeatedly, until none is left.

    Each round can push others below ``k``, hence the loop; counts use bincount on
    factorized codes so a round over a million rows takes milliseconds.
    """
    if k <= 1:
        return frame
    users, _ = pd.factorize(frame["user"])
    items, _ = pd.factorize(frame["item"])
    keep = np.ones(len(frame), dtype=bool)
    while True:
        u_count = np.bincount(users[keep], minlength=users.max() + 1)
        i_count = np.bincount(items[keep], minlength=items.max() + 1)
        ok = keep & (u_count[users] >= k) & (i_count[items] >= k)
        if ok.sum() == keep.sum():
            break
        keep = ok
        if not keep.any():
            raise DatasetError(f"the {k}-core filter removed every interaction", source)
    return frame[keep]
