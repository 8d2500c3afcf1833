"""Settings described once: the specs give the defaults' ranges that validate() checks and the window shows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.config import RUN_PARAMS, ExperimentConfig
from core.errors import ConfigError
from core.models.base import MODEL_NAMES, MODEL_PARAMS, ModelConfig
from core.models.factory import MODEL_CLASSES
from core.params import ParamSpec, spec_named
from core.split import SPLIT_MODES, SPLIT_PARAMS, SplitConfig


@pytest.mark.parametrize(
    "specs, config", [(MODEL_PARAMS, ModelConfig()), (SPLIT_PARAMS, SplitConfig()), (RUN_PARAMS, ExperimentConfig())]
)
def test_spec_defaults_are_the_config_defaults(specs, config):
    for spec in specs:
        assert spec.default == getattr(config, spec.name), spec.name
        assert spec.help


@pytest.mark.parametrize(
    "specs, make",
    [
        (MODEL_PARAMS, lambda **kw: replace(ModelConfig(), **kw)),
        (SPLIT_PARAMS, lambda **kw: replace(SplitConfig(), **kw)),
        (RUN_PARAMS, lambda **kw: replace(ExperimentConfig(), **kw)),
    ],
)
def test_validate_refuses_just_outside_every_spec_bound(specs, make):
    for spec in specs:
        outside = []
        if spec.low is not None:
            outside.append(spec.low if spec.low_open else spec.low - (1 if spec.type is int else 1e-9))
        if spec.high is not None:
            outside.append(spec.high if spec.high_open else spec.high + (1 if spec.type is int else 1e-9))
        if spec.choices:
            outside.append("nope")
        for value in outside:
            with pytest.raises(ConfigError, match=spec.name):
                make(**{spec.name: value}).validate()
        make(**{spec.name: spec.default}).validate()


def test_one_list_of_base_models_and_split_modes():
    assert spec_named(MODEL_PARAMS, "name").choices == MODEL_NAMES == tuple(MODEL_CLASSES)
    assert spec_named(SPLIT_PARAMS, "mode").choices == SPLIT_MODES
    assert len(spec_named(MODEL_PARAMS, "name").choice_labels) == len(MODEL_NAMES)


def test_open_bounds_and_labels():
    rate = ParamSpec("lr", float, 0.1, "rate", low=0.0, high=1.0, low_open=True)
    assert rate.coerce(1.0) == 1.0 and rate.range_text() == "(0.0, 1.0]"
    with pytest.raises(ConfigError, match=r"\(0.0, 1.0\]"):
        rate.coerce(0.0)
    mode = ParamSpec("mode", str, "a", "mode", choices=("a", "b"), choice_labels=("Alpha", "Beta"))
    assert mode.choice_label("b") == "Beta" and mode.choice_label("z") == "z"
