"""The reference ensemble (core/references): retraining's own spread, the people moved or hurt
beyond it, caching and determinism, the run setting R, and results written before it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from core.cli import main as cli_main
from core.config import ExperimentConfig, MethodChoice
from core.errors import ConfigError
from core.evaluation.bootstrap import bootstrap_paired_difference
from core.evaluation.grouped import evaluate_model
from core.experiment import prepare_data, run_experiment
from core.models.base import model_config
from core.references import spread
from core.references.ensemble import choose_executor, reference_seeds, train_retrain
from core.references.results import PeopleBeyondSpread, ReferenceSummary
from core.references.settings import REFERENCES_PARAM, references_for
from core.result import RunResult
from core.sweeps.grid import grid_from_dict

K = 10


def _lists(common: list[int]) -> np.ndarray:
    """Top-10 lists sharing ``common[u]`` items with retrain's list ``0..9`` (user u)."""
    return np.array([list(range(c)) + [100 + u * 10 + j for j in range(K - c)] for u, c in enumerate(common)])


def test_people_beyond_spread_on_a_hand_made_case():
    retrain = np.tile(np.arange(K), (4, 1))
    floors = spread.floors(
        retrain,
        [_lists([10, 8, 5, 9]), _lists([9, 7, 6, 10])],  # floors per person: 9, 7, 5, 9 items in common
        {
            "retain": (
                np.arange(4),
                [0.5, 0.2, 0.0, 1.0],
                [np.array([0.4, 0.3, 0.0, 1.0]), np.array([0.5, 0.1, 0.0, 0.7])],
            )
        },
    )
    model = _lists([8, 7, 4, 10])  # below the floor for persons 0 and 2 only (ties do not count)
    found = spread.people_beyond(floors, "retain", np.arange(4), model, (np.arange(4), [0.3, 0.15, 0.0, 0.8]))
    # NDCG drops -0.2, -0.05, 0, -0.2 against floors -0.1, -0.1, 0, -0.3: only person 0 lost beyond
    assert found == PeopleBeyondSpread(4, moved=2, lost=1, moved_by_chance=2.0, lost_by_chance=1.5)
    sampled = spread.people_beyond(floors, "retain", np.array([1, 2]), model, (np.array([0, 3]), [0.45, 0.6]))
    assert (sampled.n_users, sampled.moved, sampled.lost) == (2, 1, 1)
    no_ndcg = spread.people_beyond(floors, "forget", np.arange(4), model, None)
    assert no_ndcg.lost is None and no_ndcg.moved == 2
    itself = spread.people_beyond(floors, "retain", np.arange(4), retrain, (np.arange(4), [0.5, 0.2, 0.0, 1.0]))
    assert (itself.moved, itself.lost) == (0, 0)


def test_band_is_the_differences_widened_to_zero():
    own = {"a": 0.5, "b": None, "c": 1.0, "d": 2.0}
    refs = [{"a": 0.6, "c": 1.1, "d": 2.0}, {"a": 0.45, "c": 1.2}]
    diffs = spread.differences(own, refs)
    assert set(diffs) == {"a", "c"}  # b not measured, d missing from one reference
    assert np.allclose(diffs["a"], [0.1, -0.05]) and np.allclose(diffs["c"], [0.1, 0.2])
    band = spread.band(diffs)
    assert np.allclose(band["a"], [-0.05, 0.1]) and np.allclose(band["c"], [0.0, 0.2])


def test_reference_seeds_never_the_runs_own_nor_a_controls():
    retrains, bases = reference_seeds(7, 4)
    assert retrains == [8, 9, 10, 11] and bases == [508, 509, 510, 511]
    top = 2**31 - 1
    retrains, bases = reference_seeds(top, 2)
    assert top not in retrains + bases and all(0 <= s <= top for s in retrains + bases)
    assert max(reference_seeds(0, REFERENCES_PARAM.high)[1]) < 1000  # controls use offsets from 1000 on


def test_setting_r_validated_and_resolved():
    assert references_for(None, demo=True) == REFERENCES_PARAM.demo
    assert references_for(None, demo=False) == REFERENCES_PARAM.default
    assert references_for(0, demo=True) == 0
    for bad in (-1, REFERENCES_PARAM.high + 1):
        with pytest.raises(ConfigError, match="references"):
            ExperimentConfig(references=bad).validate()
    config = ExperimentConfig(references=3)
    assert ExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict()))).references == 3
    assert ExperimentConfig.from_dict({}).references is None  # configurations written before it
    assert "references" not in ExperimentConfig().to_dict()  # unset: the same dict (and sweep cell IDs) as before


@pytest.mark.parametrize("value", ["40", "-1"])
def test_cli_refuses_references_out_of_range(value, capsys, isolated_home):
    code = cli_main(["--data", "demo", "--references", value, "--no-history", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "references" in err


def test_sweep_grid_takes_references():
    raw = {"requests": ["users:random:0.05"], "methods": [{"name": "retrain"}], "references": 2}
    assert grid_from_dict(raw).cells[0].config.references == 2
    with pytest.raises(ConfigError, match="references"):
        grid_from_dict({**raw, "references": 99})


def test_executor_choice(monkeypatch):
    monkeypatch.delenv("CRAGRU_REFERENCES_EXECUTOR", raising=False)
    assert choose_executor(None, 0, 1000.0) == "serial"
    assert choose_executor("serial", 8, 1000.0) == "serial"
    assert choose_executor(None, 8, 1.0) == "serial"  # too little work to pay for Ray's start-up
    monkeypatch.setenv("CRAGRU_REFERENCES_EXECUTOR", "serial")
    assert choose_executor(None, 8, 1e6) == "serial"
    monkeypatch.setenv("CRAGRU_REFERENCES_EXECUTOR", "threads")
    with pytest.raises(ConfigError, match="CRAGRU_REFERENCES_EXECUTOR"):
        choose_executor(None, 8, 1.0)


def _config(references: int | None) -> ExperimentConfig:
    return ExperimentConfig(
        model=model_config("bpr"),  # the demo's own settings: a model cut short varies far more with its seed
        methods=(MethodChoice("retrain"), MethodChoice("ids_only")),
        references=references,
    )


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """One fresh model cache for this module's runs (in-process references)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CRAGRU_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    mp.setenv("CRAGRU_REFERENCES_EXECUTOR", "serial")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def two_runs(module_cache):
    """The same demo run twice with R = 2 on a fresh cache: trained, then loaded."""
    return [run_experiment(_config(2)) for _ in range(2)]


def test_ensemble_is_deterministic_and_cached(two_runs):
    first, second = two_runs
    a, b = first.references, second.references
    assert a is not None and (a.r, a.from_cache, b.from_cache) == (2, False, True)
    assert a.retrain_seeds == [1, 2] and a.base_seeds == [501, 502] and a.executor == "serial"
    assert b.retrain_times_s == a.retrain_times_s and all(t > 0 for t in a.retrain_times_s)  # first-time cost kept
    assert b.base_times_s == a.base_times_s and len(a.base_times_s) == 2 and all(t > 0 for t in a.base_times_s)
    assert b.band == a.band and b.differences == a.differences
    assert first.config["references"] == 2
    for name in first.models:
        assert second.models[name].beyond_spread == first.models[name].beyond_spread
        assert second.models[name].person_tests == first.models[name].person_tests
    # the run's retrain is never beyond its own spread; every key the contract names is banded
    assert all(p.moved == 0 and p.lost == 0 for p in first.models["retrain"].beyond_spread.values())
    assert {"retain/ndcg@10", "forgotten_recall@10", "attack/fold_in_auc", "attack/record_auc"} <= set(a.band)
    assert all(low <= 0.0 <= high for low, high in a.band.values())
    groups = first.models["ids_only"].beyond_spread
    assert groups["retain"].n_users == len(first.groups["users"]["retain"])


def test_a_second_retrain_falls_in_the_band(two_runs):
    """Another retraining (a control's seed, not a reference) differs from the run's retrain by
    what the band allows: its paired interval meets the band on every utility figure."""
    result = two_runs[0]
    config = _config(2)
    prepared = prepare_data(config)
    import torch

    from core.events import Reporter

    second, _, _ = train_retrain(replace(config, use_cache=False), prepared, torch.device("cpu"), 1000, Reporter())
    measured = evaluate_model(second, prepared.targets)
    band, retrain = result.references.band, result.models["retrain"]
    checked = 0
    for group in ("retain", "similar"):
        for metric in ("hit@10", "ndcg@10"):
            mine = np.asarray(measured.per_user[group][metric])
            theirs = np.asarray(retrain.per_user[group][metric])
            diff = bootstrap_paired_difference(mine, theirs, seed=0)
            low, high = band[f"{group}/{metric}"]
            assert diff.low <= high and diff.high >= low, (group, metric, diff, band[f"{group}/{metric}"])
            checked += 1
    assert checked == 4


def test_r_zero_leaves_the_result_as_before(module_cache):
    result = run_experiment(_config(0))
    assert result.references is None and result.config["references"] == 0
    assert all(not r.beyond_spread and r.person_tests is None for r in result.models.values())
    raw = json.loads(result.to_json())
    assert raw["references"] is None and RunResult.from_dict(raw).references is None


def test_results_round_trip_and_old_files_open(two_runs):
    result = two_runs[0]
    raw = json.loads(result.to_json())
    back = RunResult.from_dict(raw)
    assert isinstance(back.references, ReferenceSummary) and back.references == result.references
    for name, report in result.models.items():
        assert back.models[name].beyond_spread == report.beyond_spread
        assert back.models[name].person_tests == report.person_tests
    raw.pop("references")  # a file written before the ensemble
    for entry in raw["models"].values():
        entry.pop("beyond_spread")
        entry.pop("person_tests")
    old = RunResult.from_dict(raw)
    assert old.references is None and all(not r.beyond_spread and r.person_tests is None for r in old.models.values())


def test_a_stop_during_the_ensemble_cancels_the_run(module_cache):
    from core.errors import Cancelled
    from core.events import ProgressEvent

    stop = []

    def on_event(event):
        if isinstance(event, ProgressEvent) and event.text.startswith("reference "):
            stop.append(event.text)

    with pytest.raises(Cancelled):
        run_experiment(_config(3), on_event, lambda: bool(stop))
    assert stop and stop[0].startswith("reference ")


def test_a_failing_ensemble_leaves_the_run_its_results(module_cache, monkeypatch):
    import core.references.evidence
    from core.events import LogEvent

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(core.references.evidence, "reference_evidence", broken)
    logs = []
    result = run_experiment(_config(2), lambda e: logs.append(e) if isinstance(e, LogEvent) else None)
    assert result.references is None and {"base", "retrain", "ids_only"} <= set(result.models)
    assert any(e.level == "warning" and "reference ensemble failed (RuntimeError: disk full)" in e.text for e in logs)
