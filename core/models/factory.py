"""Model name → class, through an explicit dict (no importlib strings, survives packaging)."""

from __future__ import annotations

import numpy as np
import torch

from core.errors import ConfigError
from core.models.base import ModelConfig
from core.models.bpr import BPRMF
from core.models.lightgcn import LightGCN
from core.models.recommender import Recommender

MODEL_CLASSES: dict[str, type[Recommender]] = {"bpr": BPRMF, "lightgcn": LightGCN}


def create_model(
    config: ModelConfig,
    n_users: int,
    n_items: int,
    train_users: np.ndarray,
    train_items: np.ndarray,
    device: torch.device | str = "cpu",
) -> Recommender:
    """A freshly initialised model (init seeded by ``config.seed``) on ``device``."""
    try:
        cls = MODEL_CLASSES[config.name]
    except KeyError:
        raise ConfigError(f"model must be one of {', '.join(MODEL_CLASSES)}, got {config.name!r}") from None
    model = cls(config, n_users, n_items, train_users, train_items)
    return model.to(torch.device(device))
