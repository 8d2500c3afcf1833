"""Per-dataset base-model settings the benchmarks share.

ML-1M: with lr 5e-3 BPR stops early (epoch 22) at valid NDCG@10 0.2471 (-3.3 %);
lr 2e-3 reaches 0.2650 (``bench/bench_base_models.py``).
"""

from __future__ import annotations

from core.models.base import ModelConfig, model_config

DATASET_OVERRIDES: dict[tuple[str, str], dict] = {
    ("ml-1m", "bpr"): {"lr": 2e-3},
}


def tuned_model(dataset: str, model: str, **overrides) -> ModelConfig:
    """``model``'s registered defaults (what the app uses), the dataset's tuned fields, then ``overrides``."""
    tuned = DATASET_OVERRIDES.get((dataset, model), {})
    return model_config(model, **{**tuned, **overrides})
