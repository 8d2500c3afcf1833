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


class _Click:
    """A left click at a scene position, as the plots' scenes emit it."""

    def __init__(self, pos) -> None:
        self.pos = pos

    def scenePos(self):  # noqa: N802 (Qt's name)
        return self.pos

    def button(self):
        from PySide6.QtCore import Qt

        return Qt.MouseButton.LeftButton


def _shown_tab(qtbot, result, ds, page: int):
    from cragru_gui.inspector.affected_view import AffectedTab

    inspector = FakeInspector(result, ds)
    tab = AffectedTab(inspector, lambda: None)
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.pages.setCurrentIndex(page)
    tab.show()
    qtbot.waitExposed(tab)
    tab.refresh()
    qtbot.wait(50)  # the plots' view boxes take their size
    return tab, inspector


def test_a_mouse_click_on_a_bar_lists_that_group(qtbot, planted_run):
    """The real click path: the scene position of group A's bar maps back to group A."""
    from PySide6.QtCore import QPointF

    result, ds, in_a = planted_run
    tab, inspector = _shown_tab(qtbot, result, ds, 0)
    plot = tab.by_group.plots.plots["group"]
    a = result.breakdown.attributes["group"].groups.index("A")
    box = plot.getPlotItem().getViewBox()
    plot.scene().sigMouseClicked.emit(_Click(box.mapViewToScene(QPointF(a + 0.1, 0.05))))
    assert sorted(tab.people.users) == np.flatnonzero(in_a).tolist()
    assert inspector.listed and sorted(inspector.listed[-1][1]) == np.flatnonzero(in_a).tolist()
    plot.scene().sigMouseClicked.emit(_Click(box.mapViewToScene(QPointF(1 - a, 0.05))))
    assert sorted(tab.people.users) == np.flatnonzero(~in_a).tolist()


def test_a_mouse_click_on_the_map_picks_the_point_and_items_mark_the_forgotten(qtbot, planted_run):
    from PySide6.QtCore import QPointF

    from cragru_gui.inspector.map_view import PICK_PIXELS

    result, ds, _ = planted_run
    tab, inspector = _shown_tab(qtbot, result, ds, 1)
    view = tab.map
    user = 7
    view.plot.scene().sigMouseClicked.emit(_Click(view.box.mapViewToScene(QPointF(view.x[user], view.y[user]))))
    assert len(tab.people.users) == 1
    picked = tab.people.users[0]
    px, py = view.box.viewPixelSize()
    assert np.hypot((view.x[picked] - view.x[user]) / px, (view.y[picked] - view.y[user]) / py) <= PICK_PIXELS
    assert inspector.listed[-1][1] == [picked]  # listed in the Inspector too
    far = QPointF(view.x.max() + 50 * px, view.y.max() + 50 * py)  # nowhere near a point: nothing picked
    view.plot.scene().sigMouseClicked.emit(_Click(view.box.mapViewToScene(far)))
    assert tab.people.users == [picked]
    view.kind_combo.setCurrentIndex(1)  # items: the forgotten items (3 and 4) are the crosses
    crosses = sorted(zip(view.marks["forgotten"].data["x"], view.marks["forgotten"].data["y"]))
    assert crosses == sorted(zip(view.x[[3, 4]], view.y[[3, 4]]))
    assert len(view.marks["similar"].data) == 0


def test_a_redraw_leaves_no_old_plot_showing(qtbot, planted_run):
    """Choosing another method redraws the plots; the old ones must not stay drawn under them
    until the event loop deletes them (overprinted titles in a grab taken straight after)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    result, ds, _ = planted_run
    tab, _ = _shown_tab(qtbot, result, ds, 0)
    view = tab.by_group
    view.model_combo.setCurrentIndex(view.model_combo.findData("base"))
    view.show_combo.setCurrentIndex(1)
    for _ in range(5):  # new widgets show on the next pass; processEvents runs no deferred delete
        QApplication.processEvents()
    shown = [w for w in view.plots.findChildren(pg.PlotWidget) if w.isVisible()]
    assert len(shown) == len(result.breakdown.attributes) == 3


def test_age_ticks_are_short_enough_to_sit_side_by_side():
    from core.breakdown.attributes import AGE_BANDS
    from cragru_gui.inspector.affected_view import _short

    assert [_short(g) for g in AGE_BANDS] == ["<18", "18–24", "25–34", "35–49", "50+"]


def test_change_against_the_original_with_retraining_as_the_dash(qtbot, planted_run):
    """The paired difference against the original model is drawn too: the bars are the
    method's, the green dash retraining's own change against the original."""
    import pyqtgraph as pg

    from cragru_gui.inspector.affected_view import FROM_ORIGINAL

    result, ds, in_a = planted_run
    tab, _ = _shown_tab(qtbot, result, ds, 0)
    view = tab.by_group
    view.show_combo.setCurrentIndex(view.show_combo.findData(FROM_ORIGINAL))
    ab = result.breakdown.attributes["group"]
    items = view.plots.plots["group"].getPlotItem().items
    bars = next(i for i in items if isinstance(i, pg.BarGraphItem))
    expected = [ab.cell(FROM_ORIGINAL, "dropper", "ndcg@10", g)[0] for g in range(len(ab.groups))]
    assert list(bars.opts["height"]) == pytest.approx(expected)
    assert expected[ab.groups.index("A")] < -0.1 and expected[ab.groups.index("B")] == 0.0
    dash = next(i for i in items if isinstance(i, pg.PlotDataItem))
    assert list(dash.getData()[1]) == [0.0] * 2 * len(ab.groups)  # retraining ranks as the original here
    bars_95 = next(i for i in items if isinstance(i, pg.ErrorBarItem))  # the 95 % intervals as error bars
    cells = [ab.cell(FROM_ORIGINAL, "dropper", "ndcg@10", g) for g in range(len(ab.groups))]
    assert list(bars_95.opts["top"]) == pytest.approx([c[2] - c[0] for c in cells])
    assert list(bars_95.opts["bottom"]) == pytest.approx([c[0] - c[1] for c in cells])


def test_the_windows_tab_draws_the_run_the_inspector_shows(make_window, method_result, qtbot):
    """In the real window: the *Who was affected* tab draws the Inspector's run (a demo run with
    fine-tuning beside retraining) when it comes to the front, bars and map alike."""
    window = make_window(tiny=False)
    result, dataset = method_result
    window.inspector.set_run(result, dataset)
    window.output_tabs.setCurrentWidget(window.affected_view)
    tab = window.affected_view
    qtbot.waitUntil(lambda: bool(tab.by_group.plots.plots), timeout=10_000)
    assert set(tab.by_group.plots.plots) == set(result.breakdown.attributes) >= {"activity", "age", "gender"}
    assert tab.by_group.model_combo.currentData() == "finetune"
    assert sum(len(item.data) for item in tab.map.bands) == dataset.n_users


def test_a_map_without_top10_lists_claims_no_colour(qtbot, planted_run):
    """A run kept without its top-10 lists (a CLI --out file, a sweep cell) still shows the map,
    but says it is not coloured, and lists people without a '0 % away' it never measured."""
    from dataclasses import replace

    from cragru_gui.inspector.affected_view import AffectedTab

    result, ds, _ = planted_run
    tab = AffectedTab(FakeInspector(replace(result, topk={}), ds), lambda: None)
    qtbot.addWidget(tab)
    tab.refresh()
    view = tab.map
    assert sum(len(item.data) for item in view.bands) == ds.n_users
    assert "not coloured" in view.caption.text() and "how far" not in view.caption.text()
    view.select(np.array([0, 1]))
    assert tab.people.list.count() == 2 and "away" not in tab.people.list.item(0).text()
