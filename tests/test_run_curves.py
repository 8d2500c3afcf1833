"""Training curves are kept in the result: run → JSON → history, and older runs still load."""

from __future__ import annotations

import json
import math
import sqlite3

from core.config import ExperimentConfig, MethodChoice
from core.events import MetricEvent
from core.forget_request import ForgetRequest
from core.history import RunStore
from core.models.base import ModelConfig
from core.result import CurveRecorder, RunResult, thin_points
from core.runner import run_experiment

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
    result = run_experiment(_config(), lambda e: events.append(e) if isinstance(e, MetricEvent) else None,
                            store=store)
    for series in ("train/base", "train/retrain"):
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
    result = RunResult("r", {}, {}, {}, {}, {}, {}, {}, {},
                       curves={"train/x": [{"step": 1, "loss": math.nan}, {"step": 2, "loss": 0.5}]})
    again = RunResult.from_dict(json.loads(result.to_json()))
    assert math.isnan(again.curves["train/x"][0]["loss"]) and again.curves["train/x"][1] == {"step": 2, "loss": 0.5}


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
