"""End to end with the real bundled SmolLM2 through the runner, on a handful of demo users."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import ExperimentConfig, MethodChoice
from core.experiment import run_experiment
from core.forget_request import ForgetRequest
from core.models.base import ModelConfig


@pytest.mark.slow
@pytest.mark.parametrize("mode, strategy", [("scoring", "attention"), ("generate", "recent")])
def test_cragru_runs_with_the_bundled_llm(isolated_home, bundled_llm, mode, strategy):
    params = {
        "strategy": strategy,
        "mode": mode,
        "eval_users_per_group": 1,
        "candidates": 6,
        "history_budget": 4,
        "max_prompt_tokens": 256,
        "title_words": 4,
        "fusion_weight": 0.5,
        "w2v_epochs": 2,
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
    assert 0.0 <= report.same_sample["base"]["retain/hit@10"] <= 1.0  # base on the LLM's own users
    assert "same_sample/base/retain/hit@10" in report.to_dict()["extras"]  # where a stored run keeps them
    assert len(result.topk["cragru"]) == result.dataset["n_users"]
    ranked = extras["llm_users_ranked"]
    assert ranked >= 1
    paths = {k.split("/", 1)[1]: v for k, v in extras.items() if k.startswith("paths/") and v}
    assert sum(v for k, v in paths.items() if k != "base_order_outside_sample") == ranked
    if mode == "scoring":
        assert paths["scoring"] == ranked
    else:  # every list says how it was obtained: parsed JSON, repaired, salvaged, or the base order
        assert "scoring" not in paths
    assert np.isfinite(report.time_s) and report.prep_time_s > report.time_s
