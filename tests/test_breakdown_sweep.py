"""A sweep plots each attribute's fairness gap against request size (mean over seeds)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.breakdown.model import AttributeBreakdown, Breakdown
from core.sweeps.aggregate import sweep_series
from core.sweeps.cells import CellOutcome
from core.sweeps.fairness import gap_spreads
from core.sweeps.grid import Cell


def _result(hand_built_result, gap: float):
    ab = AttributeBreakdown("age", "age band", ["under 18", "50+"], [0, 1], gaps={"far": {"ndcg@10": [gap, 0, 1]}})
    return replace(hand_built_result, breakdown=Breakdown("retained users", [0, 1], ["ndcg@10"], 0, 20, {"age": ab}))


def test_gap_spreads_over_seeds(hand_built_result):
    found = gap_spreads([_result(hand_built_result, 0.02), _result(hand_built_result, 0.04), hand_built_result], "far")
    spread = found["fairness_gap/age/ndcg@10"]
    assert spread.n == 2 and spread.mean == pytest.approx(0.03)
    assert gap_spreads([hand_built_result], "far") == {}


def test_sweep_series_carry_the_gap_against_request_size(hand_built_result):
    cells, outcomes = [], []
    for size, gaps in ((0.01, (0.01, 0.03)), (0.05, (0.05, 0.07))):
        for seed, gap in enumerate(gaps):
            cell = Cell(f"c{size}-{seed}", None, "far", "far", "users:random", size, seed, "bpr")
            cells.append(cell)
            outcomes.append(CellOutcome(cell.cell_id, "done", _result(hand_built_result, gap)))
    series = [s for s in sweep_series(cells, outcomes) if s.key == "fairness_gap/age/ndcg@10"]
    assert len(series) == 1
    points = series[0].points
    assert [p.size for p in points] == [0.01, 0.05]
    assert [p.mean for p in points] == pytest.approx([0.02, 0.06])
    assert points[0].low < 0.02 < points[0].high and points[0].n == 2


def test_the_gap_charts_say_what_they_show(hand_built_result):
    """A sweep's gap chart is titled and explained as a fairness gap, not as an unknown key."""
    from core.reporting.catalogue import entry_for
    from core.sweeps.fairness import GAP_KEYS
    from core.sweeps.sweep_command import sweep_panels

    for key, groups in zip(GAP_KEYS, ("activity bands", "age bands", "genders", "occupations")):
        entry = entry_for(key)
        assert entry.label == f"fairness gap across {groups} (NDCG@10 against retraining)"
        assert "largest minus the smallest group" in entry.explanation and "diagnostic" not in entry.explanation
    cells = [Cell(f"c{s}", None, "far", "far", "users:random", s, 0, "bpr") for s in (0.01, 0.05)]
    outcomes = [CellOutcome(c.cell_id, "done", _result(hand_built_result, 0.03)) for c in cells]
    titles = [panel.title for panel in sweep_panels(sweep_series(cells, outcomes))]
    assert "fairness gap across age bands (NDCG@10 against retraining)" in titles


def test_a_method_cell_takes_its_gap_from_the_paired_retrain_cell(hand_built_result):
    """In a sweep each method runs in its own cell, without retraining: its gap comes from the
    paired retrain cell and equals what one run with both gives (same people, same groups)."""
    from core.breakdown.measure import run_breakdown
    from core.sweeps.fairness import with_paired_gaps
    from tests.test_breakdown import BlockScorer, _planted, _prepared, _topk

    ds, in_a = _planted()
    prepared = _prepared(ds)
    scorers = {"base": BlockScorer(in_a), "retrain": BlockScorer(in_a), "far": BlockScorer(in_a, drop_a=True)}
    topk = {name: _topk(s, prepared) for name, s in scorers.items()}

    def breakdown(names):
        return run_breakdown(prepared, {n: scorers[n] for n in names}, {n: topk[n] for n in names}, {}, seed=3)

    together = breakdown(("base", "retrain", "far"))
    alone = replace(hand_built_result, breakdown=breakdown(("base", "far")))
    retrain = replace(hand_built_result, breakdown=breakdown(("base", "retrain")))
    assert "far" not in alone.breakdown.attributes["group"].gaps  # no retraining in its own run
    paired = with_paired_gaps(alone, "far", retrain)
    for name, ab in together.attributes.items():
        found = paired.breakdown.attributes[name].gaps.get("far", {}).get("ndcg@10")
        expected = ab.gaps.get("far", {}).get("ndcg@10")
        assert (found is None) == (expected is None), name
        if expected is not None:
            assert found[0] == pytest.approx(expected[0], abs=1e-9), name
    assert paired.breakdown.attributes["group"].gaps["far"]["ndcg@10"][0] > 0.1  # the planted group
    assert with_paired_gaps(alone, "far", None) is alone
    cells, outcomes = [], []
    for method, result in (("retrain", retrain), ("far", alone)):
        cell = Cell(f"{method}-0.05", None, method, method, "users:random", 0.05, 0, "bpr")
        cells.append(cell)
        outcomes.append(CellOutcome(cell.cell_id, "done", result))
    gaps = {s.variant: s for s in sweep_series(cells, outcomes) if s.key == "fairness_gap/group/ndcg@10"}
    assert gaps["far"].points[0].mean > 0.1
