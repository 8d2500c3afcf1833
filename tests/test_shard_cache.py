"""Sharded methods reuse the shards their preparation trained, never the per-request retraining."""

from __future__ import annotations

import pytest

from core.config import ExperimentConfig, MethodChoice
from core.events import LogEvent
from core.experiment import run_experiment
from core.models.base import ModelConfig


def _run(name: str, use_cache: bool = True):
    logs = []
    config = ExperimentConfig(
        model=ModelConfig(epochs=3, patience=1, dim=8), methods=(MethodChoice(name),), mia=False, use_cache=use_cache
    )
    result = run_experiment(config, lambda e: logs.append(e.text) if isinstance(e, LogEvent) else None)
    return result.models[name], logs


@pytest.mark.parametrize("name", ["sisa", "receraser"])
def test_prepared_shards_are_reused_with_the_same_result(name, isolated_home):
    first, logs = _run(name)
    assert not any("reused" in line for line in logs)
    second, logs = _run(name)
    assert any("shards trained earlier" in line for line in logs)
    same = lambda report: {k: v for k, v in report.flat().items() if not k.endswith("time_s")}  # noqa: E731
    assert same(second) == same(first)  # the same shards and the same (really retrained) request
    assert second.extras["shards_retrained"] == first.extras["shards_retrained"] > 0
    # the cost verdict judges the first-time set-up: the reused shards say what they took then
    assert "setup_cached_s" not in first.extras and second.extras["setup_first_s"] > 0
    assert second.extras["setup_cached_s"] < second.prep_time_s + 1e-9
    _, logs = _run(name, use_cache=False)
    assert not any("shards trained earlier" in line for line in logs)
