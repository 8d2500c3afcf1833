"""The breakdown of one run as plain data: what JSON, the history, the window and the report read.

Figures are ``[value, low, high]`` triples (95 % user-bootstrap) stored per kind — the
model's own ``value``, its paired difference ``vs_retrain`` and ``vs_base`` — per model,
per metric, as a list over the attribute's groups (in ``groups`` order): one list is one
small multiple's bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

KINDS = ("value", "vs_retrain", "vs_base")
Triple = list[float]


@dataclass
class AttributeBreakdown:
    """One attribute: its groups, who is in each, and every figure per group."""

    name: str
    label: str
    groups: list[str]
    codes: list[int]  # group index of each population user (−1: unknown)
    sizes: dict[str, list[int]] = field(default_factory=dict)  # model -> users measured per group
    cells: dict[str, dict[str, dict[str, list[Triple]]]] = field(default_factory=dict)  # kind -> model -> metric
    gaps: dict[str, dict[str, Triple]] = field(default_factory=dict)  # model -> metric -> gap vs retrain
    gap_groups: list[int] = field(default_factory=list)  # groups large enough to enter the gap

    def cell(self, kind: str, model: str, metric: str, group: int) -> Triple | None:
        found = self.cells.get(kind, {}).get(model, {}).get(metric)
        if found is None or group >= len(found) or any(_missing(v) for v in found[group]):
            return None
        return found[group]

    def members(self, population: np.ndarray, group: int) -> np.ndarray:
        """The population users in ``group``."""
        return np.asarray(population, dtype=np.int64)[np.asarray(self.codes, dtype=np.int64) == group]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "groups": list(self.groups),
            "codes": [int(c) for c in self.codes],
            "sizes": {m: [int(n) for n in v] for m, v in self.sizes.items()},
            "cells": _rounded(self.cells),
            "gaps": _rounded(self.gaps),
            "gap_groups": [int(g) for g in self.gap_groups],
        }

    @classmethod
    def from_dict(cls, raw: dict) -> "AttributeBreakdown":
        return cls(
            name=str(raw["name"]),
            label=str(raw.get("label", raw["name"])),
            groups=[str(g) for g in raw.get("groups", [])],
            codes=[int(c) for c in raw.get("codes", [])],
            sizes={m: [int(n) for n in v] for m, v in raw.get("sizes", {}).items()},
            cells=_floats(raw.get("cells", {})),
            gaps=_floats(raw.get("gaps", {})),
            gap_groups=[int(g) for g in raw.get("gap_groups", [])],
        )


@dataclass
class MapLayout:
    """One map: ``x``, ``y`` per user (or item) index, and where the positions come from."""

    kind: str  # "users" | "items"
    x: np.ndarray
    y: np.ndarray
    source: str
    method: str = "pca"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            # rounded as float64: a map read back (float32) is written as it was stored
            "x": np.round(np.asarray(self.x, dtype=np.float64), 4).tolist(),
            "y": np.round(np.asarray(self.y, dtype=np.float64), 4).tolist(),
            "source": self.source,
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, raw: dict) -> "MapLayout":
        return cls(
            kind=str(raw.get("kind", "users")),
            x=np.asarray(raw.get("x", []), dtype=np.float32),
            y=np.asarray(raw.get("y", []), dtype=np.float32),
            source=str(raw.get("source", "")),
            method=str(raw.get("method", "pca")),
        )


@dataclass
class Breakdown:
    """Every attribute's breakdown over one population (the retained users) of one run."""

    population: str
    users: list[int]
    metrics: list[str]
    seed: int
    min_group: int
    attributes: dict[str, AttributeBreakdown] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    maps: dict[str, MapLayout] = field(default_factory=dict)  # "users" / "items": the 2-D maps

    def to_dict(self) -> dict:
        return {
            "maps": {kind: layout.to_dict() for kind, layout in self.maps.items()},
            "population": self.population,
            "users": [int(u) for u in self.users],
            "metrics": list(self.metrics),
            "seed": int(self.seed),
            "min_group": int(self.min_group),
            "attributes": {name: a.to_dict() for name, a in self.attributes.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, raw: dict | None) -> "Breakdown | None":
        """None for runs stored before the breakdown (or without one)."""
        if not isinstance(raw, dict) or "attributes" not in raw:
            return None
        return cls(
            population=str(raw.get("population", "")),
            users=[int(u) for u in raw.get("users", [])],
            metrics=[str(m) for m in raw.get("metrics", [])],
            seed=int(raw.get("seed", 0)),
            min_group=int(raw.get("min_group", 0)),
            attributes={n: AttributeBreakdown.from_dict(a) for n, a in raw["attributes"].items()},
            notes=[str(n) for n in raw.get("notes", [])],
            maps={kind: MapLayout.from_dict(v) for kind, v in (raw.get("maps") or {}).items()},
        )


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rounded(value):
    """Six decimals (a breakdown holds tens of thousands of figures); NaN becomes None."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    return value


def _floats(value):
    """JSON back to floats (None → NaN)."""
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float("nan") if value is None else float(value)
