"""Training curves are kept in the result: run → JSON → history, and older runs still load."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import replace

import numpy as np
import torch

from core.config import ExperimentConfig, MethodChoice
from core.events import LogEvent, MetricEvent
from core.experiment import run_experiment
from core.forget_request import ForgetRequest
from core.history import RunStore
from core.models.base import ModelConfig
from core.models.factory import create_model
from core.models.persistence import load_model_and_curves, save_model
from core.result import CurveRecorder, RunResult, thin_points

TINY = ModelConfig(epochs=3, patience=3, batch_size=1024, lr=5e-3)


def _config() -> ExperimentConfig:
    return ExperimentConfig(
        model=TINY,
        request=ForgetRequest("users", "random", 0.05, seed=0),
        methods=(MethodChoice("retrain"),),
        mia=False,
        use_cache=False,  # a cached base model is not trained, so it would have no curve
    )


def test_run_keeps_its_curves_through_json_and_history(isolated_home):
    events: list[MetricEvent] = []
    store = RunStore()
    result = run_experiment(_config(), lambda e: events.append(e) if isinstance(e, MetricEvent) else None, store=store)
    for series in ("base/train", "retrain/train"):
        points = result.curves[series]
        assert 1 <= len(points) <= TINY.epochs
        assert all(p["loss"] > 0 for p in points)
        assert [p["step"] for p in points] == sorted(p["step"] for p in points)
        assert "valid_ndcg10" in points[-1]
    # exactly what the sink saw (under the cap nothing is thinned)
    seen = {}
    for e in events:
        seen.setdefault(e.series, []).append({"step": e.step, **e.values})
    assert result.curves == seen
    again = RunResult.from_dict(json.loads(result.to_json()))
    assert again.curves == result.curves
    assert store.load(result.run_id).curves == result.curves


def test_a_cached_base_model_replays_its_training_curve(isolated_home):
    config = replace(_config(), use_cache=True)
    first = run_experiment(config)
    logs: list[str] = []
    events: list[MetricEvent] = []

    def sink(event) -> None:
        if isinstance(event, LogEvent):
            logs.append(event.text)
        elif isinstance(event, MetricEvent) and event.series == "base/train":
            events.append(event)

    second = run_experiment(config, sink)
    assert any("loaded from cache" in line for line in logs)
    assert second.timings["base_train_s"] == 0.0
    assert len(first.curves["base/train"]) >= 1
    assert second.curves["base/train"] == first.curves["base/train"]
    assert [e.step for e in events] == [p["step"] for p in first.curves["base/train"]]  # the live charts see it too


def test_model_files_without_curves_still_load(tmp_path):
    model = create_model(TINY, 5, 7, np.array([0, 1]), np.array([2, 3]), "cpu")
    save_model(model, tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload.pop("curves")  # as written before curves were stored
    torch.save(payload, tmp_path / "old.pt")
    loaded, curves = load_model_and_curves(tmp_path / "old.pt")
    assert curves == {} and torch.equal(
        loaded.state_dict()["user_embedding.weight"], model.state_dict()["user_embedding.weight"]
    )


def test_runs_stored_without_curves_still_load(isolated_home):
    store = RunStore()
    store.begin("old", {"data": {"path": "demo"}, "methods": [{"name": "retrain"}], "request": {}})
    raw = RunResult("old", {}, {}, {}, {}, {}, {}, {}, {}).to_dict()
    raw.pop("curves")
    db = sqlite3.connect(store.path)
    with db:
        db.execute("UPDATE runs SET status='done', result=? WHERE run_id='old'", (json.dumps(raw),))
    db.close()
    assert store.load("old").curves == {}


def test_nan_values_survive_json():
    result = RunResult(
        "r",
        {},
        {},
        {},
        {},
        {},
        {},
        {},
        {},
        curves={"x/train": [{"step": 1, "loss": math.nan}, {"step": 2, "loss": 0.5}]},
    )
    again = RunResult.from_dict(json.loads(result.to_json()))
    assert math.isnan(again.curves["x/train"][0]["loss"]) and again.curves["x/train"][1] == {"step": 2, "loss": 0.5}


def test_runs_stored_with_stage_first_names_are_read_as_model_and_stage():
    old = {
        "run_id": "r",
        "curves": {
            "train/base": [{"step": 1, "loss": 0.5}],
            "train/sisa-shards": [{"step": 1, "loss": 0.4}],
            "unlearn/neggrad": [{"step": 1, "forget_bpr": 0.3}],
        },
    }
    curves = RunResult.from_dict(old).curves
    assert set(curves) == {"base/train", "sisa/shards", "neggrad/unlearn"}


def test_recorder_caps_points_evenly_and_keeps_the_last():
    recorder = CurveRecorder(cap=100)
    for step in range(5003):
        recorder.add("unlearn/x", step, {"loss": float(step)})
    points = recorder.curves()["unlearn/x"]
    steps = [p["step"] for p in points]
    assert len(points) <= 100 and steps[0] == 0 and steps[-1] == 5002
    gaps = [b - a for a, b in zip(steps, steps[1:])]
    assert max(gaps) <= 3 * (5002 / 100)  # evenly spread, no hole
    assert thin_points([{"step": i} for i in range(10)], 3) == [{"step": 0}, {"step": 4}, {"step": 9}]
