"""A trainable copy of the base model pointed at the retained rows."""

from __future__ import annotations

import copy

import numpy as np
import torch

from core.methods.registry import UnlearnContext
from core.models.base import EmbeddingModel, GraphModel, popularity_of


def require_embeddings(model, method: str) -> EmbeddingModel:
    """``model`` itself, or a ``TypeError`` naming ``method`` if it has no embedding tables."""
    if not isinstance(model, EmbeddingModel):
        raise TypeError(f"{method} needs a model with user/item embedding tables; {type(model).__name__} has none")
    return model


def know_only(model: torch.nn.Module, users: np.ndarray, items: np.ndarray) -> torch.nn.Module:
    """Point ``model`` at these training rows: its popularity counts them and (LightGCN) it
    propagates over them. ``known_users`` is left alone: which users a method keeps a
    representation of is that method's decision, shown by the memorisation figures."""
    with torch.no_grad():
        model.popularity.copy_(popularity_of(items, model.n_items, model.popularity.device))
    if isinstance(model, GraphModel):
        model.set_graph(users, items)
    return model


def copy_for_unlearning(ctx: UnlearnContext, method: str) -> torch.nn.Module:
    """A trainable copy of the base model that propagates over and counts only retained rows.

    ``known_users`` is left as the base model's: a method that keeps a forgotten user's
    vector keeps their representation. LightGCN's graph becomes the retained rows, so
    removed interactions are no longer propagated.
    """
    model = copy.deepcopy(require_embeddings(ctx.base_model, method)).to(ctx.device)
    ds, rows = ctx.dataset, ctx.retained_rows
    return know_only(model, ds.users[rows], ds.items[rows])
