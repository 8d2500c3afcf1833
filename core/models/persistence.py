"""Saving and loading trained recommenders.

A file holds the model's config, sizes and state dict (for LightGCN this includes the
graph rows, so the loaded model propagates over the same graph) and, optionally, the
training curves, so a model taken from the cache can still show how it was trained.
Loading uses ``weights_only=True``: only tensors and plain values are read back, never
code.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from core.model_cache import atomic_save
from core.models.base import ModelConfig
from core.models.factory import create_model
from core.models.recommender import Recommender

FORMAT_VERSION = 1


Curves = dict[str, list[dict[str, float]]]


def save_model(model: Recommender, path: str | Path, curves: Curves | None = None) -> None:
    atomic_save(model_payload(model, curves), Path(path))  # a crash or a second app never sees a half-written file


def model_payload(model: Recommender, curves: Curves | None = None) -> dict:
    """What a model file holds (tensors and plain values only)."""
    return {
        "format": FORMAT_VERSION,
        "kind": model.kind,
        "config": model.config.as_dict(),
        "n_users": model.n_users,
        "n_items": model.n_items,
        "state": {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()},
        "curves": {series: [dict(point) for point in points] for series, points in (curves or {}).items()},
    }


def load_model(path: str | Path, device: torch.device | str = "cpu") -> Recommender:
    return load_model_and_curves(path, device)[0]


def load_model_and_curves(path: str | Path, device: torch.device | str = "cpu") -> tuple[Recommender, Curves]:
    """The model and its stored training curves (empty for files saved without them)."""
    return model_from_payload(torch.load(str(path), map_location="cpu", weights_only=True), device)


def model_from_payload(payload: dict, device: torch.device | str = "cpu") -> tuple[Recommender, Curves]:
    """The model and curves of a :func:`model_payload`; ValueError/RuntimeError when it is not one."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ValueError(f"unsupported model file format {payload.get('format')!r}")
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    config = ModelConfig(**{k: v for k, v in payload["config"].items() if k in fields})
    empty = np.zeros(0, dtype=np.int64)
    model = create_model(config, payload["n_users"], payload["n_items"], empty, empty, "cpu")
    model.load_state_dict(payload["state"])
    curves = {
        str(series): [{str(k): float(v) for k, v in point.items()} for point in points]
        for series, points in payload.get("curves", {}).items()
    }
    return model.to(torch.device(device)).eval(), curves
