"""A run keeps what finished: each model is stored in the history as it finishes, and a
method failing mid-run ends the run with the finished models attached (shown and saved)."""

from __future__ import annotations

import pytest

from core.config import ExperimentConfig, MethodChoice
from core.errors import MethodFailed
from core.experiment import run_experiment
from core.history import RunStore
from core.methods.registry import METHODS, MethodSpec
from core.models.base import ModelConfig


def _broken(ctx, params, prepared):
    raise RuntimeError("out of luck")


@pytest.fixture
def broken_method(monkeypatch):
    monkeypatch.setitem(METHODS, "broken", MethodSpec("broken", "Broken", "fails", (), _broken))


def test_a_failing_method_keeps_the_models_that_finished(broken_method, isolated_home, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    config = ExperimentConfig(
        model=ModelConfig(epochs=2, patience=1),
        methods=(MethodChoice("retrain"), MethodChoice("broken")),
        mia=False,
        references=0,
    )
    with pytest.raises(MethodFailed) as failed:
        run_experiment(config, store=store)
    assert failed.value.method == "broken" and "out of luck" in str(failed.value)
    assert set(failed.value.partial.models) == {"base", "retrain"}
    (row,) = store.list()
    assert row.status == "failed"
    stored = store.load(row.run_id)  # the history opens what finished before the failure
    assert stored.partial and set(stored.models) == {"base", "retrain"}
    assert stored.models["retrain"].groups == failed.value.partial.models["retrain"].groups


def test_each_model_is_stored_alone_as_it_finishes(isolated_home, tmp_path):
    """Storing model k writes that model's row and the run's frame, not the k models again;
    the history assembles them, and a finished run keeps only its whole result."""
    import json
    import sqlite3

    config = ExperimentConfig(
        model=ModelConfig(epochs=2, patience=1), methods=(MethodChoice("retrain"),), mia=False, references=0
    )
    result = run_experiment(config)
    store = RunStore(tmp_path / "runs.sqlite")
    store.begin(result.run_id, result.config, result.started_at)

    def stored():
        with sqlite3.connect(tmp_path / "runs.sqlite") as db:
            frame = db.execute("SELECT result FROM runs WHERE run_id=?", (result.run_id,)).fetchone()[0]
            names = [r[0] for r in db.execute("SELECT name FROM partial_models WHERE run_id=?", (result.run_id,))]
        return json.loads(frame), names

    store.save_partial(result, ["base"])
    frame, names = stored()
    assert frame["models"] == {} and frame["partial"] and names == ["base"]
    store.save_partial(result, ["retrain"])
    assert stored()[1] == ["base", "retrain"]
    store.finish_failed(result.run_id, "killed")
    again = store.load(result.run_id)
    assert again.partial and list(again.models) == ["base", "retrain"]
    assert again.models["retrain"].groups == result.models["retrain"].groups
    assert (again.topk["retrain"] == result.topk["retrain"]).all()
    store.finish_done(result)
    frame, names = stored()
    assert names == [] and set(frame["models"]) == {"base", "retrain"}
    assert not store.load(result.run_id).partial
