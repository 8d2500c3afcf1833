"""User attributes a breakdown splits people by: activity always, then any profile column.

An :class:`Attribute` is one code per user index (−1: unknown) and a label per code, so
every split downstream is an integer comparison over arrays, never a per-user loop.

* **activity**: how many training interactions a person has, cut into quartiles of the
  people measured (equal-sized bands, edges from the data, labelled with their ranges);
* **age**: the bands MovieLens' own coding uses (under 18, 18–24, 25–34, 35–49, 50+);
  ML-1M's coded ages (1, 18, 25, 35, 45, 50, 56) fall into the same bands;
* any other profile column with few distinct values (gender, occupation, a RecBole
  ``.user`` token column...) as it is; a numeric column with many values in quartiles.
Columns holding lists (the demo's favourite genres) are not attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.dataset import Dataset

ACTIVITY = "activity"
MAX_CATEGORIES = 30
"""A profile column with more distinct values than this is numeric (banded) or not an attribute."""
AGE_EDGES = (18, 25, 35, 50)
AGE_BANDS = ("under 18", "18–24", "25–34", "35–49", "50+")
N_ACTIVITY_BANDS = 4


@dataclass(frozen=True)
class Attribute:
    """One way of splitting users: ``codes[u]`` indexes ``groups`` (−1: unknown)."""

    name: str
    label: str
    codes: np.ndarray  # int64 per user index
    groups: tuple[str, ...]


def _bands(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index of each value given ascending inner ``edges`` (a value equal to an edge goes up)."""
    return np.searchsorted(edges, values, side="right").astype(np.int64)


def activity_attribute(dataset: Dataset, train_rows: np.ndarray, population: np.ndarray) -> Attribute:
    """Quartiles of training interactions among ``population`` (the users measured), so the
    bands hold about as many measured people each; ranges in the labels."""
    counts = dataset.user_counts(train_rows).astype(np.int64)
    pop = counts[np.asarray(population, dtype=np.int64)] if len(population) else counts
    qs = np.quantile(pop, np.arange(1, N_ACTIVITY_BANDS) / N_ACTIVITY_BANDS) if len(pop) else np.zeros(0)
    edges = np.unique(np.floor(qs).astype(np.int64))  # band b holds counts in (edges[b-1], edges[b]]
    if len(pop):
        edges = edges[edges < pop.max()]  # no empty top band when most people share the largest count
    codes = np.searchsorted(edges, counts, side="left").astype(np.int64)
    lows = np.concatenate([[int(pop.min()) if len(pop) else 0], edges + 1])
    highs = np.concatenate([edges, [int(pop.max()) if len(pop) else 0]])
    n = len(lows)
    names = []
    for b, (lo, hi) in enumerate(zip(lows, highs)):
        rank = (
            "everyone"
            if n == 1
            else "least active"
            if b == 0
            else "most active"
            if b == n - 1
            else f"band {b + 1} of {n}"
        )
        lo = min(int(lo), int(hi))
        names.append(f"{rank} ({lo}–{int(hi)} interactions)" if lo != hi else f"{rank} ({lo} interactions)")
    return Attribute(ACTIVITY, "activity (training interactions, quartiles)", codes, tuple(names))


def age_attribute(values: pd.Series) -> Attribute:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    codes = _bands(np.nan_to_num(numbers, nan=-1.0), np.asarray(AGE_EDGES, dtype=float))
    codes[np.isnan(numbers)] = -1
    return Attribute("age", "age band", codes, AGE_BANDS)


def _is_scalar_column(values: pd.Series) -> bool:
    sample = values.dropna().head(50)
    return len(sample) > 0 and all(np.isscalar(v) for v in sample)


def column_attribute(name: str, values: pd.Series) -> Attribute | None:
    """A profile column as an attribute: few distinct values as they are, many numeric ones
    in quartiles; None for list columns, free text and identifiers."""
    if name.lower() == "age":
        return age_attribute(values)
    if not _is_scalar_column(values):
        return None
    present = values.dropna()
    distinct = pd.unique(present)
    if len(distinct) <= MAX_CATEGORIES:
        labels = tuple(sorted(str(v) for v in distinct))
        known = values.notna().to_numpy()
        codes = np.full(len(values), -1, dtype=np.int64)
        codes[known] = pd.Categorical(values[known].astype(str), categories=list(labels)).codes
        return Attribute(name, name, codes, labels)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if np.isnan(numbers).mean() > 0.5:
        return None  # free text or identifiers
    finite = numbers[~np.isnan(numbers)]
    edges = np.unique(np.quantile(finite, [0.25, 0.5, 0.75]))
    codes = _bands(np.nan_to_num(numbers, nan=-np.inf), edges)
    codes[np.isnan(numbers)] = -1
    bounds = np.concatenate([[finite.min()], edges, [finite.max()]])
    labels = tuple(f"{bounds[i]:g} to {bounds[i + 1]:g}" for i in range(len(edges) + 1))
    return Attribute(name, f"{name} (quartiles)", codes, labels)


def available(dataset: Dataset) -> list[str]:
    """Names of the attributes this dataset can be split by (activity first)."""
    names = [ACTIVITY]
    if dataset.user_meta is not None:
        names += [str(c) for c in dataset.user_meta.columns if _is_scalar_column(dataset.user_meta[c])]
    return names


def user_attributes(
    dataset: Dataset, train_rows: np.ndarray, population: np.ndarray, names: list[str] | None = None
) -> list[Attribute]:
    """Activity, then every usable profile column (or just ``names``, in their order)."""
    wanted = names if names is not None else available(dataset)
    out = []
    for name in wanted:
        if name == ACTIVITY:
            out.append(activity_attribute(dataset, train_rows, population))
            continue
        meta = dataset.user_meta
        if meta is None or name not in meta.columns:
            continue
        found = column_attribute(name, meta[name].reset_index(drop=True))
        if found is not None:
            out.append(found)
    return out
