"""One source per list: the command line's choices and defaults come from the specs the
window's forms, config files and sweep grids are built from."""

from __future__ import annotations

from core.cli import build_parser
from core.config import ExperimentConfig
from core.device import DEVICE_CHOICES
from core.forget_request import SELECTORS
from core.models.base import MODEL_NAMES, ModelConfig
from core.split import SPLIT_MODES, SplitConfig


def _action(dest: str):
    return next(a for a in build_parser()._actions if a.dest == dest)


def test_cli_choices_are_the_specs_lists():
    assert tuple(_action("model").choices) == MODEL_NAMES
    assert tuple(_action("split").choices) == SPLIT_MODES
    assert tuple(_action("device").choices) == DEVICE_CHOICES


def test_cli_defaults_are_the_config_defaults():
    assert _action("model").default == ModelConfig().name
    assert _action("split").default == SplitConfig().mode
    assert _action("device").default == ExperimentConfig().device


def test_the_forget_help_names_every_selector():
    text = _action("forget").help
    assert all(name in text for names in SELECTORS.values() for name in names)


def test_a_config_file_reads_every_field_with_the_class_defaults():
    import dataclasses

    from core.config import _PLAIN_FIELDS

    nested = {"data", "split", "model", "request", "methods", "ks"}
    assert {f.name for f in dataclasses.fields(ExperimentConfig)} == nested | set(_PLAIN_FIELDS)
    changed = ExperimentConfig(mia=False, label="x", references=3, device="cpu", similar_top_n=4, ks=(5,))
    assert ExperimentConfig.from_dict(changed.to_dict()) == changed
    missing = ExperimentConfig.from_dict({"methods": [{"name": "retrain"}]})
    assert missing == ExperimentConfig()  # absent keys: the dataclass's own defaults, no second copy
