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


@pytest.mark.parametrize("in_memory", [True, False])
def test_receraser_reuses_its_prepared_aggregator_with_the_same_result(in_memory, isolated_home):
    from core.methods.common import shard_cache

    shard_cache._MEMORY.clear()  # nothing from an earlier test in this process
    first, logs = _run("receraser")
    assert not any("aggregator fitted earlier" in line for line in logs)
    if not in_memory:
        shard_cache._MEMORY.clear()  # a second launch: from the cache entry on disk
    second, logs = _run("receraser")
    assert any("aggregator fitted earlier" in line for line in logs)
    same = lambda report: {k: v for k, v in report.flat().items() if not k.endswith("time_s")}  # noqa: E731
    assert same(second) == same(first)
    assert second.extras["aggregator_epochs"] == first.extras["aggregator_epochs"]  # the request's own, refitted


def test_a_prepared_part_is_reused_as_computed_and_keyed_by_the_form(isolated_home):
    from types import SimpleNamespace

    import numpy as np
    import torch

    from core.events import Reporter
    from core.methods.common import shard_cache

    shard_cache._MEMORY.clear()
    data = SimpleNamespace(fingerprint=lambda: "data")
    split = SimpleNamespace(as_dict=lambda: {"split": 1})
    ctx = SimpleNamespace(
        dataset=data, split=split, model_config=ModelConfig(), device=torch.device("cpu"), seed=0, use_cache=True
    )
    params = {"n_shards": 2, "epochs": 0, "scale_batch": True, "agg_lr": 0.02}
    user_shard = np.array([0, 1, 0, 1])
    calls = []

    def compute():
        calls.append(1)
        return {"w": torch.randn(3, 4, generator=torch.Generator().manual_seed(len(calls)))}

    part = lambda p: shard_cache.prepared_part(ctx, p, user_shard, "m", "agg", compute, Reporter())  # noqa: E731
    made, cached, _, _ = part(params)
    assert not cached and len(calls) == 1
    again, cached, first, _ = part(params)  # in memory
    assert cached and first > 0 and torch.equal(again["w"], made["w"]) and len(calls) == 1
    shard_cache._MEMORY.clear()
    loaded, cached, _, _ = part(params)  # from disk
    assert cached and torch.equal(loaded["w"], made["w"]) and len(calls) == 1
    other, cached, _, _ = part({**params, "agg_lr": 0.01})  # another form value: computed again
    assert not cached and len(calls) == 2 and not torch.equal(other["w"], made["w"])
