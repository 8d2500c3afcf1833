"""Method registry parameter validation, run history consistency, config round trip."""

import json

import pytest

from core.config import ExperimentConfig, MethodChoice
from core.errors import ConfigError, CragruError
from core.forget_request import ForgetRequest
from core.history import RunStore
from core.methods.registry import MethodSpec, ParamSpec, get_method, list_methods
from core.result import ModelReport, RunResult


def spec():
    return MethodSpec(
        name="x",
        label="X",
        description="",
        params=(
            ParamSpec("epochs", int, 3, "epochs", low=1, high=10),
            ParamSpec("weight", float, 0.5, "weight", low=0.0, high=1.0),
            ParamSpec("mode", str, "a", "mode", choices=("a", "b")),
            ParamSpec("flag", bool, False, "flag"),
        ),
        unlearn=lambda ctx, p, s: None,
    )


def test_params_are_coerced_and_defaults_filled():
    values = spec().validate({"epochs": "4", "flag": "yes"})
    assert values == {"epochs": 4, "weight": 0.5, "mode": "a", "flag": True}


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": 11}, "'epochs' must be in"),
        ({"epochs": "many"}, "'epochs' must be int"),
        ({"weight": -1}, "'weight' must be in"),
        ({"mode": "c"}, "must be one of"),
        ({"speed": 1}, "has no parameter 'speed'"),
        ({"flag": "perhaps"}, "'flag' must be bool"),
    ],
)
def test_bad_params_name_the_parameter(values, message):
    with pytest.raises(ConfigError, match=message):
        spec().validate(values)


def test_registry_lists_retrain_first_and_rejects_unknown():
    assert list_methods()[0].name == "retrain"
    with pytest.raises(ConfigError, match="unknown method 'nope'"):
        get_method("nope")


def test_every_registered_method_has_help_and_valid_defaults():
    for method in list_methods():
        assert method.description
        method.validate({})
        for p in method.params:
            assert p.help, f"{method.name}.{p.name} has no help text"


def test_config_round_trip():
    config = ExperimentConfig(request=ForgetRequest.parse("items:ids:1,2"), methods=(MethodChoice("retrain"),))
    again = ExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


def _result(run_id):
    report = ModelReport("base", "Base", {"retain": {"hit@10": 0.5}}, {"forgotten_recall@10": 0.2})
    return RunResult(run_id, {"methods": [{"name": "retrain"}]}, {}, {}, {}, {}, {"base": report}, {}, {})


def test_history_states(isolated_home):
    store = RunStore()
    store.begin("a", {"data": {"path": "demo"}, "methods": [{"name": "retrain"}], "request": {}})
    assert store.list()[0].status == "running"
    with pytest.raises(CragruError, match="no results"):
        store.load("a")
    store.finish_done(_result("a"))
    assert store.load("a").models["base"].groups["retain"]["hit@10"] == 0.5
    store.begin("b", {"data": {"path": "demo"}, "methods": [], "request": {}})
    store.finish_cancelled("b")
    statuses = {r.run_id: r.status for r in store.list()}
    assert statuses == {"a": "done", "b": "cancelled"}
    store.delete("a")
    assert [r.run_id for r in store.list()] == ["b"]
    with pytest.raises(CragruError, match="no stored run"):
        store.load("a")


def test_result_json_has_no_nan():
    result = _result("r")
    result.models["base"].groups["forget"] = {"hit@10": float("nan")}
    data = json.loads(result.to_json())
    assert data["models"]["base"]["groups"]["forget"]["hit@10"] is None
    assert data["models"]["base"]["forgotten_recall@10"] == 0.2


def test_top_lists_are_compact_arrays_and_lists_only_in_json():
    import json

    import numpy as np

    from core.result import RunResult

    lists = [[3, 1, 2], [0, 4, 5]]
    result = RunResult(
        run_id="r",
        config={},
        dataset={},
        split={},
        request={},
        groups={},
        models={},
        environment={},
        timings={},
        topk={"base": lists, "empty": []},
    )
    assert result.topk["base"].dtype == np.int32 and result.topk["base"].shape == (2, 3)
    assert result.topk["empty"].shape == (0, 0)
    raw = json.loads(result.to_json())
    assert raw["topk"]["base"] == lists and raw["topk"]["empty"] == []
    again = RunResult.from_dict(raw)
    assert np.array_equal(again.topk["base"], result.topk["base"]) and again.topk["base"].dtype == np.int32
    assert "topk" not in result.to_dict(include_topk=False)
