"""End to end with the real bundled SmolLM2 through the runner, on a handful of demo users."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import ExperimentConfig, MethodChoice
from core.forget_request import ForgetRequest
from core.models.base import ModelConfig
from core.runner import run_experiment


@pytest.mark.slow
def test_cragru_runs_with_the_bundled_llm(isolated_home, bundled_llm):
    params = {
        "strategy": "attention", "eval_users_per_group": 1, "candidates": 6, "history_budget": 4,
        "max_prompt_tokens": 256, "title_words": 4, "fusion_weight": 0.5, "w2v_epochs": 2,
    }
    config = ExperimentConfig(
        model=ModelConfig(epochs=6, patience=3, batch_size=1024, lr=5e-3),
        request=ForgetRequest("users", "random", 0.05, seed=0),
        methods=(MethodChoice("cragru", params),),
        mia=False,
    )
    result = run_experiment(config)
    report = result.models["cragru"]
    extras = report.extras
    assert extras["audit_findings"] == 0 and extras["deletion_ms"] < 1000
    assert extras["rows_deleted"] == result.request["n_removed_rows"]
    assert extras["fusion_weight"] == 0.5
    assert any("measured on a user sample" in n for n in report.notes)
    for group in ("retain", "forget", "similar"):
        assert 0.0 <= report.groups[group]["hit@10"] <= 1.0
        assert len(report.per_user[group]["hit@10"]) <= 1
    assert "same_sample/base/retain/hit@10" in extras
    assert len(result.topk["cragru"]) == result.dataset["n_users"]
    ranked = report.extras.get("llm_users_ranked")  # present once the runner merges late_extras()
    assert ranked is None or ranked >= 1
    assert np.isfinite(report.time_s) and report.prep_time_s > report.time_s
