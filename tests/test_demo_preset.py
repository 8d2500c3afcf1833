"""The demo preset: each method's own registered defaults for the built-in demo data."""

from __future__ import annotations

import pytest

from core.config import DataConfig, ExperimentConfig, MethodChoice
from core.errors import ConfigError
from core.methods.registry import MethodSpec, ParamSpec, get_method, list_methods, register


def test_demo_values_apply_only_on_the_demo_data():
    spec = get_method("e2urec")
    assert spec.validate({}, demo=True)["forget_samples"] == 3
    assert spec.validate({}, demo=False)["forget_samples"] == 16
    assert spec.validate({"forget_samples": 9}, demo=True)["forget_samples"] == 9  # what the user set wins
    assert DataConfig("demo").is_demo and DataConfig(" Demo ").is_demo and not DataConfig("ml-100k").is_demo


def test_the_preset_sizes_down_the_slow_methods_and_says_what_it_changed():
    changed = {spec.name: spec.demo_changes() for spec in list_methods()}
    assert changed["e2urec"]["lora_last_layers"] == (0, 4)
    assert changed["dual_memory"]["side_epochs"] == (10, 3)
    for name, changes in changed.items():
        spec = get_method(name)
        for param, (standard, demo) in changes.items():
            assert standard != demo
            assert spec.validate({}, demo=True)[param] == demo  # every demo value within its own range


def test_a_demo_value_outside_its_range_is_refused_at_registration():
    spec = MethodSpec(
        name="bad_demo_preset",
        label="x",
        description="x",
        unlearn=lambda *a: None,
        params=(ParamSpec("n", int, 3, "n", low=1, high=5, demo=9),),
    )
    with pytest.raises(ConfigError, match="'n'"):
        register(spec)


def test_runner_takes_the_preset_on_the_demo(monkeypatch):
    import core.experiment.run as runner

    seen = {}

    class Stop(Exception):
        pass

    def spy(self, specs, params, *_rest):  # stop the run once the parameters are settled
        seen.update(params[0])
        raise Stop

    monkeypatch.setattr(runner._Experiment, "run", spy)
    with pytest.raises(Stop):
        runner.run_experiment(ExperimentConfig(methods=(MethodChoice("dual_memory"),)))
    assert seen["side_epochs"] == 3


def test_the_result_records_every_value_used(isolated_home):
    from core.experiment import run_experiment
    from core.models.base import ModelConfig

    config = ExperimentConfig(model=ModelConfig(epochs=2, patience=1), methods=(MethodChoice("finetune"),), mia=False)
    result = run_experiment(config)
    recorded = result.config["methods"][0]["params"]
    assert recorded == get_method("finetune").validate({}, demo=True)  # defaults written out, not left implicit
