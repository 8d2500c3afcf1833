"""What every model (base, retrained, unlearned, LLM-based) offers to evaluation.

Evaluation only needs ``score(users)`` (:class:`core.scorer.Scorer`, re-exported here);
``known_users`` and ``popularity`` implement the protocol's rule for users a model knows
nothing about (ranked by the popularity of items in that model's own training data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from core.arrays import unique
from core.params import MAX_SEED, ParamSpec, check_fields
from core.scorer import Scorer  # noqa: F401 - re-exported: models and methods name it from here

MODEL_NAMES = ("bpr", "lightgcn")  # the one list of base models (factory.MODEL_CLASSES builds them)
MODEL_LABELS = ("BPR-MF (matrix factorisation)", "LightGCN (graph convolution)")


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
    # BPR-MF's defaults, tuned on ML-100K (bench/bench_base_models.py): at RecBole's
    # published HR@10 and NDCG@10, trained in seconds. Other models register their own
    # in MODEL_DEFAULTS; build configs with model_config() so a name brings its defaults.
    lr: float = 5e-3
    reg: float = 5e-3  # L2 on the batch's embeddings (RecBole's reg_weight style)
    batch_size: int = 4096
    epochs: int = 300
    patience: int = 10  # evaluations without valid NDCG@10 improvement before stopping
    eval_every: int = 1
    seed: int = 0

    def validate(self) -> None:
        check_fields(MODEL_PARAMS, self, "base model")

    def as_dict(self) -> dict:
        return asdict(self)


# Each model's own defaults where they differ from ModelConfig's (BPR-MF's), measured on
# ML-100K with bench/bench_base_models.py (bench/results/base_models_cpu.txt).
MODEL_DEFAULTS: dict[str, dict[str, object]] = {
    "bpr": {},
    # RecBole's batch (2048); lr 2e-3 (RecBole's 1e-3 needs ~250 epochs for the same
    # accuracy); no embedding penalty (RecBole's reg_weight 1e-5 acts on unsquared norms:
    # negligible). Patience 20: valid NDCG@10 stalls for 10-15 epochs on its way up, so
    # patience 10 stopped at epoch 72 with test NDCG@10 0.2858. Model seeds 0/1/2 give
    # 0.3086/0.3105/0.3060 (mask=train+valid) in ~145 epochs.
    "lightgcn": {"lr": 2e-3, "reg": 0.0, "batch_size": 2048, "patience": 20},
}


def model_config(name: str = "bpr", **fields) -> ModelConfig:
    """Model ``name`` with its registered defaults (:data:`MODEL_DEFAULTS`), then ``fields``.

    The way every edge (CLI, GUI, config files, sweep grids) turns a model name into a
    config, so choosing LightGCN brings LightGCN's learning rate, not BPR-MF's.
    """
    return replace(ModelConfig(name=name), **{**MODEL_DEFAULTS.get(name, {}), **fields})


_DEFAULT = ModelConfig()
# Ranges of every ModelConfig field: validate() checks them, the window builds its inputs from them.
MODEL_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "name",
        str,
        _DEFAULT.name,
        "Architecture of the base model; retraining uses the same one",
        choices=MODEL_NAMES,
        choice_labels=MODEL_LABELS,
        label="Model",
    ),
    ParamSpec(
        "epochs",
        int,
        _DEFAULT.epochs,
        "Maximum training epochs of the base model (and of retraining). "
        f"Training stops earlier when validation NDCG@10 has not improved for {_DEFAULT.patience} "
        "evaluations",
        low=1,
        high=100_000,
        label="Max epochs",
    ),
    ParamSpec("dim", int, _DEFAULT.dim, "Embedding size of users and items", low=1, high=4096, label="Embedding size"),
    ParamSpec("layers", int, _DEFAULT.layers, "LightGCN propagation layers", low=0, high=8),
    ParamSpec(
        "lr", float, _DEFAULT.lr, "Learning rate (Adam)", low=0.0, high=1.0, low_open=True, label="Learning rate"
    ),
    ParamSpec(
        "reg", float, _DEFAULT.reg, "L2 regularisation on the batch's embeddings", low=0.0, label="Regularisation"
    ),
    ParamSpec("batch_size", int, _DEFAULT.batch_size, "Training pairs per batch", low=1, high=10_000_000),
    ParamSpec(
        "patience",
        int,
        _DEFAULT.patience,
        "Evaluations without validation NDCG@10 improvement before training stops",
        low=1,
        high=100_000,
    ),
    ParamSpec("eval_every", int, _DEFAULT.eval_every, "Epochs between validation evaluations", low=1, high=100_000),
    ParamSpec("seed", int, _DEFAULT.seed, "Seed of the model's initialisation and batches", low=0, high=MAX_SEED),
)


def popularity_of(items: np.ndarray, n_items: int, device: torch.device | str = "cpu") -> torch.Tensor:
    return torch.as_tensor(np.bincount(items, minlength=n_items), dtype=torch.float32, device=device)


def known_mask(users: np.ndarray, n_users: int, device: torch.device | str = "cpu") -> torch.Tensor:
    mask = torch.zeros(n_users, dtype=torch.bool, device=device)
    if len(users):
        mask[torch.as_tensor(unique(users), device=device)] = True
    return mask
