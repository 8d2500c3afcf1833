"""Request streams: disjoint steps, incremental methods start from their own last model,
the others from the base with every request so far, retraining the reference."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from core.config import ExperimentConfig, MethodChoice
from core.forget_request import ForgetRequest
from core.methods.registry import CAPABILITIES, METHODS, MethodSpec, UnlearnOutcome
from core.models.base import ModelConfig
from core.sweeps.stream import run_stream, step_requests


def _spy(name: str, capabilities: frozenset, seen: list) -> MethodSpec:
    """A method that records what each call was given and returns a fresh copy of its start model."""

    def prepare(ctx, params):
        seen.append(("prepare", None, None))
        return "state"

    def unlearn(ctx, params, prepared):
        assert prepared == "state"
        seen.append(("unlearn", ctx.base_model, np.array(ctx.removed_rows)))
        return UnlearnOutcome(model=copy.deepcopy(ctx.base_model))

    return MethodSpec(name, name, "records its calls", (), unlearn, prepare, capabilities=capabilities)


@pytest.fixture
def spies(monkeypatch):
    calls = {"inc": [], "redo": []}
    monkeypatch.setitem(METHODS, "spy_inc", _spy("spy_inc", frozenset({"sequential_requests"}), calls["inc"]))
    monkeypatch.setitem(METHODS, "spy_redo", _spy("spy_redo", frozenset(), calls["redo"]))
    return calls


def _config(methods) -> ExperimentConfig:
    return ExperimentConfig(
        model=ModelConfig(epochs=2),
        request=ForgetRequest.parse("users:random:0.05"),
        methods=tuple(MethodChoice(m) for m in methods),
        device="cpu",
        mia=False,
    )


def test_steps_are_disjoint_and_leave_what_remains():
    from core.experiment import load_data, prepare_data

    config = _config(["retrain"])
    start = prepare_data(config, load_data(config))
    steps = step_requests(start.dataset, start.split, config, 3)
    removed = [set(s.removed_rows.tolist()) for s in steps]
    assert all(removed) and not (removed[0] & removed[1]) and not (removed[1] & removed[2])
    assert not (set(steps[0].forget_users) & set(steps[1].forget_users))  # users never drawn twice
    assert set(steps[2].retained_rows) == set(start.split.train) - removed[0] - removed[1] - removed[2]


def test_incremental_starts_from_its_own_model_the_others_from_base(spies, isolated_home):
    assert "sequential_requests" in CAPABILITIES
    events = []
    result = run_stream(_config(["retrain", "spy_inc", "spy_redo"]), 2, on_event=events.append)
    assert result.modes == {"retrain": "from base", "spy_inc": "incremental", "spy_redo": "from base"}
    inc = [c for c in spies["inc"] if c[0] == "unlearn"]
    redo = [c for c in spies["redo"] if c[0] == "unlearn"]
    assert [c[0] for c in spies["inc"]].count("prepare") == 1  # set-up once
    base = inc[0][1]
    assert redo[0][1] is base and redo[1][1] is base  # always the base model
    assert inc[1][1] is not base  # the second request starts from the first request's model
    assert not set(inc[0][2]) & set(inc[1][2])  # only each step's own rows
    assert set(redo[1][2]) == set(inc[0][2]) | set(inc[1][2])  # every request so far, again
    retrain = result.of("retrain")
    assert [s.drift_top10 for s in retrain] == [0.0, 0.0] and [s.drift_ndcg for s in retrain] == [0.0, 0.0]
    assert retrain[1].removed_rows == len(redo[1][2])
    for method in result.modes:
        steps = result.of(method)
        assert steps[1].cumulative_s == pytest.approx(result.setup_s.get(method, 0.0) + sum(s.latency_s for s in steps))
    assert result.of("spy_redo")[1].drift_top10 > 0.0  # the unchanged base model is not retraining
    assert [e for e in events if hasattr(e, "drift_top10")] == result.steps


def test_cli_stream_writes_json_and_plot(isolated_home, tmp_path, capsys):
    from core.cli import main

    code = main(
        [
            "stream",
            "--data",
            "demo",
            "--epochs",
            "2",
            "--forget",
            "users:random:0.05",
            "--steps",
            "2",
            "--methods",
            "retrain,finetune",
            "--device",
            "cpu",
            "--no-mia",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    raw = json.loads((tmp_path / "stream.json").read_text())
    assert raw["modes"] == {"retrain": "from base", "finetune": "incremental"}
    assert [s["step"] for s in raw["steps"]] == [1, 1, 2, 2]
    assert (tmp_path / "stream.svg").read_text().startswith("<svg")
    assert "finetune" in capsys.readouterr().out


def _count_shard_training(monkeypatch) -> list[int]:
    import core.methods.common.shard_cache as shard_cache

    calls = []
    real = shard_cache.train_shards_from_params

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(shard_cache, "train_shards_from_params", counting)
    shard_cache._MEMORY.clear()
    return calls


@pytest.mark.parametrize("no_cache", [True, False])
def test_stream_no_cache_trains_the_shards_again(no_cache, isolated_home, monkeypatch, tmp_path):
    """``cragru-run stream --no-cache`` reaches the methods: SISA's set-up shards are trained
    in every stream, not reused from the previous one (with the cache they are reused)."""
    from core.sweeps.stream_command import main

    calls = _count_shard_training(monkeypatch)
    argv = ["--data", "demo", "--methods", "sisa", "--forget", "users:random:0.05", "--epochs", "2", "--steps", "1"]
    argv += ["--no-mia", "--quiet"] + (["--no-cache"] if no_cache else [])
    for run in range(2):
        assert main(argv + ["--out", str(tmp_path / f"out{run}")]) == 0
    assert len(calls) == (2 if no_cache else 1)
