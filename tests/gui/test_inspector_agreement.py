"""The inspector's top-10 overlap with the retrained model's list, for the selected user."""

from __future__ import annotations

import pytest

from core.evaluation.agreement import overlap_per_user


def test_overlap_with_retrain_on_hand_built_lists():
    from cragru_gui.inspector.user_inspector import overlap_with_retrain

    topk = {"base": [list(range(10))], "retrain": [list(range(5, 15))], "method": [list(range(5, 15))]}
    found = overlap_with_retrain(topk, 0, ("method", "base", "retrain"))
    assert list(found) == ["method", "base"]  # retrain with itself is not shown
    assert found["method"] == pytest.approx((1.0, 1.0))
    assert found["base"][0] == pytest.approx(5 / 15)  # 5 shared of 15 distinct
    assert 0 < found["base"][1] < 1
    assert overlap_with_retrain(topk, 3, ("method",)) == {}  # no such user
    assert overlap_with_retrain({"base": topk["base"]}, 0, ("base",)) == {}  # no retrain lists


def test_inspector_shows_the_selected_users_overlap(qtbot, tiny_result):
    from cragru_gui.inspector.user_inspector import UserInspector

    result, dataset, removed = tiny_result
    inspector = UserInspector()
    qtbot.addWidget(inspector)
    inspector.set_run(result, dataset, removed)
    user = result.groups["users"]["forget"][0]
    inspector.select_user(user, "forget")
    assert inspector.model_combo.currentData() == "retrain"  # the only method of this run
    text = inspector.info.text()
    jaccard, rbo = overlap_per_user([result.topk["base"][user]], [result.topk["retrain"][user]])
    assert "Top-10 overlap with the retrained model's list" in text
    assert f"{result.models['base'].label} (reference): Jaccard {jaccard[0]:.2f}, RBO {rbo[0]:.2f}" in text
