"""What every model (base, retrained, unlearned, LLM-based) offers to evaluation.

Evaluation only needs ``score(users)``; ``known_users`` and ``popularity`` implement the
protocol's rule for users a model knows nothing about (ranked by the popularity of
items in that model's own training data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from core.errors import ConfigError

MODEL_NAMES = ("bpr", "lightgcn")


@runtime_checkable
class Scorer(Protocol):
    """Anything that can rank all items for a batch of users."""

    n_users: int
    n_items: int

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Scores ``[len(users), n_items]`` (float, higher is better) on ``self.device``."""
        ...

    @property
    def device(self) -> torch.device: ...

    @property
    def known_users(self) -> torch.Tensor | None:
        """Bool ``[n_users]``: users with a learned representation; None means all."""
        ...

    @property
    def popularity(self) -> torch.Tensor:
        """Float ``[n_items]``: item counts in this model's training data."""
        ...


@runtime_checkable
class EmbeddingModel(Protocol):
    """A recommender with learned layer-0 user/item embeddings (BPR-MF, LightGCN): what
    fine-tuning, NegGrad, UnlearnRec and CRAGRU's attention strategy need."""

    def layer0(self) -> tuple[torch.Tensor, torch.Tensor]: ...

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]: ...


@runtime_checkable
class GraphModel(Protocol):
    """A recommender that propagates over the interaction graph (LightGCN): after its
    training rows change, ``set_graph`` must be given the new rows."""

    def set_graph(self, users, items) -> None: ...


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of a base recommender; retraining reuses them unchanged."""

    name: str = "bpr"
    dim: int = 64
    layers: int = 2  # LightGCN propagation layers
    # lr / reg / batch tuned on ML-100K (bench/bench_base_models.py): within 3 % of
    # RecBole's published HR@10 and NDCG@10 for both models, BPR trains in seconds.
    lr: float = 5e-3
    reg: float = 5e-3  # L2 on the batch's embeddings (RecBole's reg_weight style)
    batch_size: int = 4096
    epochs: int = 300
    patience: int = 10  # evaluations without valid NDCG@10 improvement before stopping
    eval_every: int = 1
    seed: int = 0

    def validate(self) -> None:
        if self.name not in MODEL_NAMES:
            raise ConfigError(f"model must be one of {', '.join(MODEL_NAMES)}, got {self.name!r}")
        checks = [
            ("dim", self.dim, 1, 4096),
            ("layers", self.layers, 0, 8),
            ("batch_size", self.batch_size, 1, 10_000_000),
            ("epochs", self.epochs, 1, 100_000),
            ("patience", self.patience, 1, 100_000),
            ("eval_every", self.eval_every, 1, 100_000),
        ]
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise ConfigError(f"model {name} must be in [{low}, {high}], got {value}")
        if not 0 < self.lr <= 1:
            raise ConfigError(f"learning rate must be in (0, 1], got {self.lr}")
        if self.reg < 0:
            raise ConfigError(f"regularisation must be non-negative, got {self.reg}")

    def as_dict(self) -> dict:
        return asdict(self)


def popularity_of(items: np.ndarray, n_items: int, device: torch.device | str = "cpu") -> torch.Tensor:
    return torch.as_tensor(np.bincount(items, minlength=n_items), dtype=torch.float32, device=device)


def known_mask(users: np.ndarray, n_users: int, device: torch.device | str = "cpu") -> torch.Tensor:
    mask = torch.zeros(n_users, dtype=torch.bool, device=device)
    if len(users):
        mask[torch.as_tensor(np.unique(users), device=device)] = True
    return mask
