"""Sweeps: the grid, Ray's local cluster running the cells, skipping on rerun, the series."""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace

import pytest

from core.errors import ConfigError
from core.forget_request import ForgetRequest
from core.history import RunStore
from core.sweeps.grid import expand_braces, grid_from_dict, load_grid

GRID = {
    "requests": ["users:random:{0.05,0.1}"],
    "seeds": [0, 1],
    "mia": False,
    "device": "cpu",
    "data": {"path": "demo"},
    "models": [{"name": "bpr", "epochs": 2}],
    "methods": [{"name": "retrain"}, {"name": "finetune", "params": {"epochs": 1}}],
}


@pytest.fixture(scope="module")
def ray_cluster():
    """One small local cluster for the module (Ray's start-up paid once), shut down after."""
    from core.cluster.connect import NO_PHONE_HOME

    for name, value in NO_PHONE_HOME.items():  # nothing leaves the machine, in tests too
        os.environ.setdefault(name, value)
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _figures(result, method):
    flat = result.models[method].flat()
    return {k: v for k, v in flat.items() if not (k.endswith("_s") or "speedup" in k)}  # wall times differ


def test_grid_expands_sizes_variants_and_seeds(tmp_path):
    assert expand_braces("users:random:{0.01, 0.02}") == ["users:random:0.01", "users:random:0.02"]
    raw = {
        **GRID,
        "methods": [{"name": "retrain"}, {"name": "finetune", "params": {"epochs": [1, 3], "lr_scale": 0.5}}],
    }
    cells = grid_from_dict(raw).cells
    assert len(cells) == 2 * 2 * 3
    assert {c.variant for c in cells} == {"retrain", "finetune(epochs=1)", "finetune(epochs=3)"}
    cell = next(c for c in cells if c.variant == "finetune(epochs=3)" and c.seed == 1 and c.size == 0.1)
    config = cell.config
    assert config.methods[0].params == {"epochs": 3, "lr_scale": 0.5}
    assert (config.split.seed, config.model.seed, config.model.epochs) == (1, 1, 2)
    assert config.request == ForgetRequest.parse("users:random:0.1", seed=1)  # as cragru-run --seed 1 builds it
    assert len({c.cell_id for c in cells}) == len(cells)
    assert [c.cell_id for c in grid_from_dict(raw).cells] == [c.cell_id for c in cells]  # stable on a rerun
    with pytest.raises(ConfigError, match="unknown keys"):
        grid_from_dict({**GRID, "request": ["users:random:0.1"]})
    with pytest.raises(ConfigError, match="has no field"):
        grid_from_dict({**GRID, "models": [{"name": "bpr", "epoch": 2}]})
    assert len(load_grid("examples/sweep_demo.toml").cells) == 16


def _bad_cell(cells):
    """A cell that validates but raises when it runs: the request would remove every user."""
    first = cells[0]
    config = replace(first.config, request=replace(first.config.request, fraction=0.999))
    return replace(first, cell_id="bad_cell", config=config, size=0.999)


@pytest.fixture(scope="module")
def swept(ray_cluster, tmp_path_factory):
    """The 2×2×2 grid plus a cell that raises, run once on the local cluster."""
    from core.sweeps.engine import run_sweep

    cells = list(grid_from_dict(GRID).cells)
    out = tmp_path_factory.mktemp("sweep")
    store, events = RunStore(out / "runs.sqlite"), []
    report = run_sweep(cells + [_bad_cell(cells)], out / "out", store=store, on_event=events.append)
    return cells, report, store, events, out


def test_sweep_on_ray_equals_runs_alone_reports_failure_and_skips_on_rerun(swept):
    from core.experiment import run_experiment
    from core.sweeps.engine import run_sweep

    cells, report, store, events, out = swept
    assert len(cells) == 8  # 2 sizes × 2 methods × 2 seeds
    statuses = {o.cell_id: o.status for o in report.outcomes}
    assert statuses.pop("bad_cell") == "failed" and "would remove every" in report.outcomes[-1].error
    assert set(statuses.values()) == {"done"}
    assert len(events) == 9 and events[-1].index == 9
    for cell, outcome in zip(cells, report.outcomes):
        alone = run_experiment(cell.config)
        assert _figures(outcome.result, cell.method) == _figures(alone, cell.method), cell.cell_id
        assert (out / "out" / "cells" / f"{cell.cell_id}.json").exists()
    assert sorted(r.status for r in store.list()) == ["done"] * 8 + ["failed"]

    again = run_sweep(cells + [_bad_cell(cells)], out / "out", store=store)
    assert [o.status for o in again.outcomes] == ["skipped"] * 8 + ["failed"]
    assert [_figures(o.result, c.method) for c, o in zip(cells, again.outcomes)] == [
        _figures(o.result, c.method) for c, o in zip(cells, report.outcomes)
    ]
    assert len(store.list()) == 10  # skipped cells are not stored twice


def test_series_mean_interval_and_paired_speedup(swept):
    from scipy import stats

    from core.sweeps.aggregate import sweep_series

    cells, report = swept[0], swept[1]
    series = {(s.variant, s.key): s for s in sweep_series(cells, report.outcomes)}
    results = {c.cell_id: o.result for c, o in zip(cells, report.outcomes)}
    tuned = [c for c in cells if c.method == "finetune" and c.size == 0.05]
    values = [results[c.cell_id].models["finetune"].groups["retain"]["ndcg@10"] for c in tuned]
    point = series[("finetune", "retain/ndcg@10")].points[0]
    mean, std = sum(values) / 2, abs(values[0] - values[1]) / math.sqrt(2)
    half = stats.t.ppf(0.975, 1) * std / math.sqrt(2)
    assert (point.size, point.n) == (0.05, 2)
    assert (point.mean, point.low, point.high) == pytest.approx((mean, mean - half, mean + half))
    speedups = []
    for c in tuned:
        twin = next(r for r in cells if r.method == "retrain" and (r.seed, r.size) == (c.seed, c.size))
        speedups.append(results[twin.cell_id].models["retrain"].time_s / results[c.cell_id].models["finetune"].time_s)
    assert series[("finetune", "speedup_vs_retrain")].points[0].mean == pytest.approx(sum(speedups) / 2)
    assert [p.size for p in series[("retrain", "forgotten_recall@10")].points] == [0.05, 0.1]


def test_cli_sweep_writes_cells_summary_and_plot(ray_cluster, tmp_path, isolated_home, capsys):
    from core.cli import main

    grid = tmp_path / "grid.toml"
    grid.write_text(
        'requests = ["users:random:{0.05,0.1}"]\nseeds = 1\nmia = false\ndevice = "cpu"\n'
        '[data]\npath = "demo"\n[[models]]\nname = "bpr"\nepochs = 2\n[[methods]]\nname = "retrain"\n'
    )
    assert main(["sweep", str(grid), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "2 done, 0 skipped, 0 failed" in printed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [c["status"] for c in summary["cells"]] == ["done", "done"]
    assert (tmp_path / "out" / "sweep.svg").read_text().startswith("<svg")
    assert main(["sweep", str(grid), "--out", str(tmp_path / "out")]) == 0
    assert "0 done, 2 skipped" in capsys.readouterr().out
    assert len(RunStore().list()) == 2
