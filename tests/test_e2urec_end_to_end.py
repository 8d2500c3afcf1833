"""E2URec end to end with the real bundled SmolLM2 (GGUF → transformers → peft), tiny sizes."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import ExperimentConfig, MethodChoice
from core.experiment import run_experiment
from core.forget_request import ForgetRequest
from core.models.base import ModelConfig


@pytest.mark.slow
def test_e2urec_runs_with_the_bundled_llm(isolated_home, bundled_llm):
    params = {
        "rec_samples": 8,
        "forget_samples": 4,
        "retain_samples": 4,
        "test_samples": 4,
        "batch_size": 4,
        "eval_users_per_group": 1,
        "candidates": 12,
        "reference_retrain": True,
        "n_history": 2,
        "title_words": 3,
        "check_frozen": True,
    }
    config = ExperimentConfig(
        model=ModelConfig(epochs=6, patience=3, batch_size=1024, lr=5e-3),
        request=ForgetRequest("users", "random", 0.05, seed=0),
        methods=(MethodChoice("e2urec", params),),
        mia=False,
    )
    result = run_experiment(config)
    extras = result.models["e2urec"].extras
    assert extras["frozen_weights_unchanged"] == 1.0  # the real LLM's weights, after peft and training
    assert extras["student_parameters"] > 0
    for key in ("test_auc/student", "jsd_forget/student_vs_retrained", "student_loss/forget"):
        assert np.isfinite(extras[key]), key
    assert 0.0 <= extras["jsd_forget/student_vs_retrained"] <= 1.0
    assert np.isfinite(result.models["e2urec"].flat()["retain/ndcg@10"])
