"""Several split seeds: the summary on hand-built results, and ``cragru-run --seeds``."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from core.config import ExperimentConfig
from core.errors import ConfigError
from core.reporting.catalogue import entry_for
from core.seeds import (
    SEEDS_PARAM,
    SeedStarted,
    run_seeds,
    seed_configs,
    spread_table,
    spread_text,
    summarise,
    summary_dict,
)


def _results(hand_built_result, values):
    out = []
    for i, value in enumerate(values):
        result = replace(hand_built_result, run_id=f"r{i}", models=dict(hand_built_result.models))
        result.models["close"] = replace(result.models["close"], forgotten_recall={"forgotten_recall@10": value})
        out.append(result)
    return out


def test_summary_mean_and_spread_on_hand_built_results(hand_built_result):
    summary = summarise(_results(hand_built_result, [0.10, 0.12, 0.14]))
    spread = summary["close"]["forgotten_recall@10"]
    assert (spread.mean, spread.low, spread.high, spread.n) == pytest.approx((0.12, 0.10, 0.14, 3))
    assert spread.std == pytest.approx(0.02)
    assert spread_text("forgotten_recall@10", spread) == "0.1200 ± 0.0200"
    text = spread_table(summary)
    assert entry_for("forgotten_recall@10").short in text.splitlines()[0]
    assert "0.1200 ± 0.0200" in text
    one = summarise(_results(hand_built_result, [0.1]))
    assert math.isnan(one["close"]["forgotten_recall@10"].std)
    assert summary_dict(one)["close"]["forgotten_recall@10"]["std"] is None  # JSON-safe
    assert spread_text("forgotten_recall@10", one["close"]["forgotten_recall@10"]) == "0.1000"


def test_seed_configs_and_the_spec_share_one_range():
    config = ExperimentConfig()
    seeds = [c.split.seed for c in seed_configs(replace(config, split=replace(config.split, seed=5)), 3)]
    assert seeds == [5, 6, 7]
    assert SEEDS_PARAM.coerce(SEEDS_PARAM.high) == SEEDS_PARAM.high
    with pytest.raises(ConfigError):
        seed_configs(config, int(SEEDS_PARAM.high) + 1)
    with pytest.raises(ConfigError):
        SEEDS_PARAM.coerce(0)


def test_run_seeds_runs_in_order_and_announces_each():
    config = ExperimentConfig()
    events, ran = [], []
    results = run_seeds(seed_configs(config, 3), lambda c: ran.append(c.split.seed) or c.split.seed, events.append)
    assert ran == results == [0, 1, 2]
    assert events == [SeedStarted(1, 3, 0), SeedStarted(2, 3, 1), SeedStarted(3, 3, 2)]


def test_cli_seeds_writes_every_run_and_the_summary(isolated_home, tmp_path, capsys):
    from core.cli import main
    from core.history import RunStore

    out, page = tmp_path / "seeds.json", tmp_path / "report.html"
    code = main(
        [
            "--data",
            "demo",
            "--forget",
            "users:random:0.05",
            "--methods",
            "retrain",
            "--epochs",
            "2",
            "--no-mia",
            "--quiet",
            "--seed",
            "3",
            "--seeds",
            "2",
            "--out",
            str(out),
            "--report",
            str(page),
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    raw = json.loads(out.read_text())
    assert raw["seeds"] == [3, 4] and [r["config"]["split"]["seed"] for r in raw["runs"]] == [3, 4]
    assert raw["runs"][0]["models"]["retrain"]["groups"] != raw["runs"][1]["models"]["retrain"]["groups"]
    spread = raw["summary"]["retrain"]["retain/ndcg@10"]
    values = [r["models"]["retrain"]["groups"]["retain"]["ndcg@10"] for r in raw["runs"]]
    assert spread["n"] == 2 and spread["mean"] == pytest.approx(sum(values) / 2)
    assert "mean ± std over 2 seeds" in printed.out and " ± " in printed.out
    assert (tmp_path / "report-seed3.html").exists() and (tmp_path / "report-seed4.html").exists()
    assert [r.status for r in RunStore().list()] == ["done", "done"]  # each seed stored as usual


def test_cli_refuses_a_seed_count_out_of_range(isolated_home, capsys):
    from core.cli import main

    assert main(["--data", "demo", "--seeds", "0", "--quiet", "--no-history"]) == 2
    assert "seeds must be in" in capsys.readouterr().err


def test_a_later_seed_failing_keeps_the_seeds_that_finished():
    from core.errors import CragruError, DatasetError
    from core.seeds import SeedFailed

    def one(config):
        if config.split.seed == 2:
            raise DatasetError("disk went away")
        return config.split.seed

    with pytest.raises(SeedFailed) as caught:
        run_seeds(seed_configs(ExperimentConfig(), 3), one)
    assert caught.value.finished == [0, 1] and caught.value.seed == 2 and "disk went away" in str(caught.value)
    with pytest.raises(DatasetError):  # the first seed failing is that seed's own error, nothing to keep
        run_seeds(seed_configs(ExperimentConfig(), 3), lambda c: one(c.__class__(split=replace(c.split, seed=2))))
    assert issubclass(SeedFailed, CragruError)


def test_cli_writes_the_finished_seeds_when_a_later_one_fails(isolated_home, tmp_path, capsys, monkeypatch):
    import core.experiment
    from core.cli import main
    from core.errors import DatasetError

    real = core.experiment.run_experiment

    def failing_second(config, *args, **kwargs):
        if config.split.seed == 4:
            raise DatasetError("the data folder was unmounted")
        return real(config, *args, **kwargs)

    monkeypatch.setattr(core.experiment, "run_experiment", failing_second)
    out = tmp_path / "seeds.json"
    argv = ["--data", "demo", "--methods", "retrain", "--epochs", "2", "--no-mia", "--quiet"]
    code = main([*argv, "--seed", "3", "--seeds", "3", "--out", str(out)])
    printed = capsys.readouterr()
    assert code != 0 and "seed 4 failed" in printed.err and "the data folder was unmounted" in printed.err
    assert "(3)" in printed.err and "Traceback" not in printed.err
    assert json.loads(out.read_text())["config"]["split"]["seed"] == 3  # the one finished seed, written
