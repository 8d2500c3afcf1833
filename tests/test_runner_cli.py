"""End-to-end: the runner and the CLI on the built-in demo dataset, with retraining."""

import json
from dataclasses import replace

import pytest

from core.cli import main
from core.config import ExperimentConfig, MethodChoice
from core.errors import Cancelled
from core.events import LogEvent, MetricEvent, ModelResultEvent, ProgressEvent, StageEvent
from core.experiment import run_experiment
from core.forget_request import ForgetRequest
from core.history import RunStore
from core.models.base import ModelConfig

FAST = ModelConfig(epochs=8, patience=3, batch_size=1024, lr=5e-3)


def small_config(**changes) -> ExperimentConfig:
    base = ExperimentConfig(
        model=FAST,
        request=ForgetRequest("users", "random", 0.05, seed=0),
        methods=(MethodChoice("retrain"),),
        mia=False,
    )
    return replace(base, **changes)


def test_run_experiment_on_demo_produces_grouped_metrics(isolated_home):
    events = []
    store = RunStore()
    result = run_experiment(small_config(), events.append, store=store)
    assert set(result.models) == {"base", "retrain"}
    for name, report in result.models.items():
        assert set(report.groups) == {"retain", "forget", "similar"}
        for group in ("retain", "forget", "similar"):
            for key in ("hit@10", "ndcg@10", "recall@10", "precision@10", "mrr@10", "hit@5", "ndcg@20"):
                value = report.groups[group][key]
                assert 0.0 <= value <= 1.0, (name, group, key, value)
    base, retrain = result.models["base"], result.models["retrain"]
    # memorisation: the base model saw the forgotten rows, the retrained one did not
    assert base.forgotten_recall["forgotten_recall@10"] > retrain.forgotten_recall["forgotten_recall@10"]
    assert retrain.time_s > 0 and retrain.speedup_vs_retrain == 1.0
    # a learned model beats popularity on the retain set: base must be clearly above chance
    assert base.groups["retain"]["hit@10"] > 0.3
    kinds = {type(e) for e in events}
    assert {StageEvent, ProgressEvent, MetricEvent, ModelResultEvent, LogEvent} <= kinds
    assert any(isinstance(e, MetricEvent) and e.series == "retrain/train" for e in events)
    stored = store.load(result.run_id)
    assert stored.models["retrain"].groups["retain"]["ndcg@10"] == pytest.approx(retrain.groups["retain"]["ndcg@10"])
    assert len(result.topk["base"]) == result.dataset["n_users"]


def test_same_seed_same_numbers(isolated_home):
    a = run_experiment(small_config(use_cache=False))
    b = run_experiment(small_config(use_cache=False))
    for name in ("base", "retrain"):
        assert a.models[name].groups == b.models[name].groups
    assert a.groups["users"] == b.groups["users"]


def test_cancel_is_prompt_and_store_consistent(isolated_home):
    store = RunStore()
    seen = []

    def stop():
        return len(seen) > 3

    with pytest.raises(Cancelled):
        run_experiment(small_config(use_cache=False), seen.append, stop, store=store)
    runs = store.list()
    assert [r.status for r in runs] == ["cancelled"]


def test_cli_writes_json_and_history(isolated_home, tmp_path, capsys):
    out = tmp_path / "result.json"
    code = main(
        [
            "--data",
            "demo",
            "--forget",
            "users:random:0.05",
            "--methods",
            "retrain",
            "--epochs",
            "6",
            "--no-mia",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    data = json.loads(out.read_text())
    for key in ("dataset", "split", "request", "models"):
        assert key in data
    for model in ("base", "retrain"):
        entry = data["models"][model]
        assert set(entry["groups"]) == {"retain", "forget", "similar"}
        assert "hit@10" in entry["groups"]["retain"]
        assert "forgotten_recall@10" in entry
        assert "time_s" in entry
    assert data["models"]["retrain"]["speedup_vs_retrain"] == 1.0
    assert main(["history"]) == 0
    assert data["run_id"] in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--forget", "users:random:2"], "between 0 and 1"),
        (["--methods", "magic"], "unknown method 'magic'"),
        (["--data", "/no/such/folder"], "no/such/folder"),
        (["--forget", "items:genre:Nonexistent"], "no item has genre"),
        (["--param", "retrain.epochs=3"], "has no parameter 'epochs'"),
    ],
)
def test_cli_bad_input_gives_one_line_and_nonzero_exit(isolated_home, capsys, argv, message):
    code = main(argv + ["--epochs", "2", "--quiet", "--no-history"])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
