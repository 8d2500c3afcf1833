"""The *Who was affected* tab on a run with a planted effect: the sentence names the hurt
group, a bar click lists exactly that group, a person opens in the Inspector, and the map
draws every user and item and selects by lasso."""

from __future__ import annotations

import numpy as np
import pytest

from core.breakdown.map_layout import run_maps
from core.breakdown.measure import run_breakdown
from core.evaluation.grouped import top_lists
from core.result import ModelReport, RunResult
from tests.test_breakdown import BlockScorer, _planted, _prepared


class FakeInspector:
    def __init__(self, result, dataset) -> None:
        self.result, self.dataset = result, dataset
        self.selected: list[int] = []
        self.listed: list[tuple[str, list[int]]] = []

    def select_user(self, user: int, group=None) -> None:
        self.selected.append(user)

    def show_users(self, title: str, users) -> None:
        self.listed.append((title, list(users)))


@pytest.fixture(scope="module")
def planted_run():
    ds, in_a = _planted()
    prepared = _prepared(ds)
    scorers = {"base": BlockScorer(in_a), "retrain": BlockScorer(in_a), "dropper": BlockScorer(in_a, drop_a=True)}
    topk = {name: top_lists(s, ds.n_users, prepared.targets.mask) for name, s in scorers.items()}
    breakdown = run_breakdown(prepared, scorers, topk, {}, seed=0)
    breakdown.maps, _ = run_maps(prepared, object(), seed=0)
    models = {n: ModelReport(name=n, label=n.title(), groups={}, forgotten_recall={}) for n in scorers}
    result = RunResult(
        run_id="planted",
        config={},
        dataset={},
        split={},
        request={},
        groups={"users": {"similar": [0, 1]}, "forget_users_all": [5], "forget_items": [3, 4]},
        models=models,
        environment={},
        timings={},
        topk=topk,
        breakdown=breakdown,
    )
    return result, ds, in_a


def test_tab_shows_the_planted_group_and_lists_its_people(qtbot, planted_run):
    from cragru_gui.inspector.affected_view import AffectedTab

    result, ds, in_a = planted_run
    inspector = FakeInspector(result, ds)
    shown = []
    tab = AffectedTab(inspector, lambda: shown.append(True))
    qtbot.addWidget(tab)
    tab.refresh()
    view = tab.by_group
    assert view.model_combo.currentData() == "dropper"
    assert "group A" in view.sentence.text() and "lost NDCG@10" in view.sentence.text()
    assert set(view.plots.plots) == {"activity", "group", "age"}
    group = result.breakdown.attributes["group"]
    view._group_clicked("group", group.groups.index("A"))
    assert tab.people.list.count() == int(in_a.sum())
    listed = tab.people.users
    assert in_a[listed].all()
    assert inspector.listed == [(inspector.listed[0][0], listed)]  # the same people listed in the Inspector
    tab.people.list.itemActivated.emit(tab.people.list.item(0))
    assert inspector.selected == [listed[0]] and shown == [True]
    view.show_combo.setCurrentIndex(1)  # change against retraining: redraws without error
    assert set(view.plots.plots) == {"activity", "group", "age"}


def test_map_draws_everyone_and_selects_by_lasso(qtbot, planted_run):
    from cragru_gui.inspector.affected_view import AffectedTab

    result, ds, in_a = planted_run
    tab = AffectedTab(FakeInspector(result, ds), lambda: None)
    qtbot.addWidget(tab)
    tab.refresh()
    view = tab.map
    drawn = sum(len(item.data) for item in view.bands)
    assert drawn == ds.n_users
    assert len(view.marks["forgotten"].data) == 1 and len(view.marks["similar"].data) == 2
    moved = view.values
    assert moved[in_a].min() > 0.5 and moved[~in_a].max() == 0.0  # group A's lists moved, B's did not
    view._lasso(np.array([[-2, -2], [2, -2], [2, 2], [-2, 2]]))
    assert tab.people.list.count() == ds.n_users
    view.kind_combo.setCurrentIndex(1)
    assert sum(len(item.data) for item in view.bands) == ds.n_items
    view.select(np.array([3]))
    assert tab.people.kind == "items" and tab.people.list.count() == 1


def test_tab_without_a_run_or_breakdown(qtbot, planted_run):
    from dataclasses import replace

    from cragru_gui.inspector.affected_view import AffectedTab

    result, ds, _ = planted_run
    tab = AffectedTab(FakeInspector(None, None), lambda: None)
    qtbot.addWidget(tab)
    tab.refresh()
    assert "Run an experiment" in tab.by_group.sentence.text()
    tab.inspector.result = replace(result, breakdown=None)
    tab.refresh()
    assert "no breakdown" in tab.by_group.sentence.text()
    assert "No map" in tab.map.caption.text()


def test_the_inspector_lists_people_chosen_elsewhere(qtbot, planted_run):
    """A bar's people become the Inspector's "Show:" choice; a new run drops it."""
    from cragru_gui.inspector.user_inspector import CHOSEN, UserInspector

    result, ds, in_a = planted_run
    inspector = UserInspector()
    qtbot.addWidget(inspector)
    inspector.set_run(result, ds)
    people = [int(u) for u in np.flatnonzero(in_a)]
    inspector.show_users("group: A", people)
    assert inspector.group_combo.currentData() == CHOSEN and "group: A" in inspector.group_combo.currentText()
    assert [inspector.user_combo.itemData(i) for i in range(inspector.user_combo.count())] == people
    inspector.set_run(result, ds)
    assert inspector.group_combo.findData(CHOSEN) < 0
