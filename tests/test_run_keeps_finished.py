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
