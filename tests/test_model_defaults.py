"""Each base model's registered defaults reach every edge that turns a model name into a config.

LightGCN's measured defaults (lr, batch, regularisation, patience) differ from BPR-MF's;
choosing "lightgcn" on the command line, in a config file or in a sweep grid must bring
LightGCN's, not BPR-MF's with only the name changed.
"""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from core.cli import build_parser, config_from_args
from core.config import ExperimentConfig
from core.models.base import MODEL_DEFAULTS, MODEL_NAMES, ModelConfig, model_config
from core.sweeps.grid import grid_from_dict


def test_every_model_has_valid_registered_defaults():
    assert set(MODEL_DEFAULTS) == set(MODEL_NAMES)
    known = {f.name for f in fields(ModelConfig)}
    for name in MODEL_NAMES:
        assert set(MODEL_DEFAULTS[name]) <= known - {"name"}
        model_config(name).validate()
    assert model_config("bpr") == ModelConfig()


def test_lightgcn_defaults_differ_from_bprs_and_yield_to_given_fields():
    lightgcn = model_config("lightgcn")
    assert lightgcn.name == "lightgcn"
    for key, value in MODEL_DEFAULTS["lightgcn"].items():
        assert getattr(lightgcn, key) == value
    assert lightgcn.lr != ModelConfig().lr
    assert model_config("lightgcn", lr=0.1, seed=3).lr == 0.1
    assert model_config("lightgcn", lr=0.1, seed=3).seed == 3


def test_cli_brings_the_models_defaults():
    args = build_parser().parse_args(["--model", "lightgcn", "--seed", "2", "--epochs", "5"])
    assert config_from_args(args).model == model_config("lightgcn", seed=2, epochs=5)


def test_a_config_file_naming_only_the_model_gets_its_defaults():
    assert ExperimentConfig.from_dict({"model": {"name": "lightgcn"}}).model == model_config("lightgcn")
    explicit = replace(model_config("lightgcn"), lr=0.05)
    config = ExperimentConfig(model=explicit)
    assert ExperimentConfig.from_dict(config.to_dict()).model == explicit  # saved fields win


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_sweep_grid_gets_each_models_defaults(name):
    raw = {"requests": ["users:random:0.05"], "methods": [{"name": "retrain"}], "models": [{"name": name, "epochs": 2}]}
    (cell,) = grid_from_dict(raw).cells
    assert cell.config.model == model_config(name, epochs=2, seed=cell.config.model.seed)
