"""Verdicts by interval on hand-built reports: forgot, did not, not enough users to tell."""

from __future__ import annotations

import pytest

from core.evaluation.estimates import Estimate
from core.reporting import judgement
from core.reporting.catalogue import entry_for
from core.reporting.intervals import difference_text, value_text


@pytest.fixture
def reports(evidence_result):
    return evidence_result.models


def test_close_to_retrain_figures_are_judged_on_their_difference_interval(reports):
    for key in ("forget/ndcg@10", "attack/fold_in_auc"):
        assert judgement.judge_report(key, reports, "forgot").verdict == judgement.GOOD, key
        assert judgement.judge_report(key, reports, "kept").verdict == judgement.BAD, key
        assert judgement.judge_report(key, reports, "base").verdict == judgement.BAD, key
        unsure = judgement.judge_report(key, reports, "few")
        assert unsure.verdict == judgement.UNSURE and unsure.rule == judgement.INTERVAL, key
        assert "not enough users to tell" in unsure.reason
        assert judgement.judge_report(key, reports, "retrain") == judgement.NOT_JUDGED


def test_the_point_rule_would_have_said_otherwise(reports):
    """0.11 against retrain's 0.10 is "close" by the point rule; its interval cannot tell."""
    assert judgement.judge("forget/ndcg@10", 0.11, 0.30, 0.10, "few") == judgement.GOOD
    assert judgement.judge_report("forget/ndcg@10", reports, "few").verdict == judgement.UNSURE


def test_the_reason_names_the_evidence_and_the_tolerance(reports):
    found = judgement.judge_report("forget/ndcg@10", reports, "kept")
    assert found.rule == judgement.INTERVAL
    assert "+0.1800" in found.reason and "+0.1500" in found.reason and "±0.0100" in found.reason
    assert "clearly different" in found.reason
    assert "the same as retraining" in judgement.judge_report("attack/fold_in_auc", reports, "forgot").reason


def test_agreement_is_judged_against_the_original_models_by_interval(reports):
    key = "agreement/similar/rbo@10"
    assert judgement.judge_report(key, reports, "forgot").verdict == judgement.GOOD
    assert judgement.judge_report(key, reports, "kept").verdict == judgement.BAD
    assert judgement.judge_report(key, reports, "few").verdict == judgement.UNSURE
    assert judgement.judge_report(key, reports, "base") == judgement.NOT_JUDGED


def test_figures_without_an_interval_fall_back_to_the_point_rule(reports):
    found = judgement.judge_report("forgotten_recall@10", reports, "kept")
    assert found.rule == judgement.POINT and found.verdict == judgement.GOOD  # same point value as retrain
    known = judgement.judge_report("known_forgotten_users", reports, "kept")
    assert known.rule == judgement.POINT and known.verdict == judgement.BAD
    assert judgement.judge_report("time_s", reports, "kept") == judgement.NOT_JUDGED


def test_catalogue_tolerances():
    assert entry_for("forget/ndcg@10").family.tolerance_for(0.3) == pytest.approx(0.03)
    assert entry_for("forget/ndcg@10").family.tolerance_for(0.01) == pytest.approx(0.005)
    assert entry_for("attack/record_auc").family.tolerance_for(0.0005) == pytest.approx(0.05)
    assert entry_for("agreement/retain/jaccard@10").family.tolerance_for(0.9) == pytest.approx(0.05)


def test_texts_carry_the_intervals(reports):
    kept = reports["kept"]
    assert value_text(entry_for("forget/ndcg@10"), kept, 0.28) == "0.2800 [0.2700, 0.2900]"
    assert value_text(entry_for("attack/fold_in_auc"), kept, 0.9) == "0.900 [0.870, 0.930]"
    assert value_text(entry_for("known_forgotten_users"), kept, 42) == "42 of 42"
    assert value_text(entry_for("forgotten_recall@10"), kept, 0.1) == "0.1000"  # no interval stored
    assert kept.figure("attack/fold_in_auc").versus("retrain") == Estimate(0.40, 0.35, 0.45)
    assert kept.figure("attack/fold_in_auc").versus("base") is None
    found = kept.figure("forget/ndcg@10").versus("retrain")
    assert difference_text(entry_for("forget/ndcg@10"), found) == "+0.1800 [+0.1500, +0.2100]"
    assert difference_text(entry_for("forget/ndcg@10"), None, -0.01) == "-0.0100"
