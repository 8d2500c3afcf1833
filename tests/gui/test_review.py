"""Issue 13 in the window: the Verdict view, the glossary's "?" buttons, honest cost in the
chart, readable bar charts, the inspector's markers, sample and forgotten-user notes."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import Qt

from core.reporting import catalogue
from core.reporting.verdicts import GREY, LIGHT_WORDS, MethodVerdict, Verdict, verdicts


# -- verdict ---------------------------------------------------------------------------------------
def test_verdict_view_shows_the_cores_verdicts_word_for_word(qtbot, method_result):
    from cragru_gui.results.verdict_view import VerdictView

    result, _dataset = method_result
    view = VerdictView()
    qtbot.addWidget(view)
    view.show_result(result)
    expected = {mv.model: [(v.question, v.light, v.sentence) for v in mv.answers] for mv in verdicts(result)}
    assert list(expected) == ["finetune"]
    assert view.answers() == expected
    card = view.cards[0]
    assert [light.light for light in card.lights] == [v.light for v in verdicts(result)[0].answers]
    assert all(LIGHT_WORDS[light.light] in light.text() for light in card.lights)  # never colour alone
    assert not card.evidence[0].isVisibleTo(card)
    card.evidence_button.setChecked(True)
    assert card.evidence[0].isVisibleTo(card)
    assert verdicts(result)[0].forgotten.evidence[0].split(":")[0] in card.evidence[0].text()
    assert "forgot" in view.heading.text() and result.request["description"] in view.heading.text()


def test_verdict_card_says_not_enough_users_to_tell(qtbot):
    from cragru_gui.results.verdict_view import VerdictCard

    unsure = Verdict(
        "Is the data forgotten?", GREY, "Not enough users to tell: the 95 % interval is wide.", ("recall: …",)
    )
    other = Verdict("Who else was affected?", GREY, "Not enough users to tell whether quality held.")
    cost = Verdict("What did it cost?", GREY, "Cannot compare: no retraining in this run.")
    card = VerdictCard(MethodVerdict("m", "Method", unsure, other, cost, sampled=True), "measured on a user sample")
    qtbot.addWidget(card)
    assert all("can't tell" in light.text() for light in card.lights)
    assert card.sentences[0].text().startswith("Not enough users to tell")
    assert card.findChild(type(card.sentences[0]), "sampleBadge") is not None


def test_verdict_view_without_a_method_says_so(qtbot, tiny_result):
    from cragru_gui.results.verdict_view import NO_METHOD, VerdictView

    view = VerdictView()
    qtbot.addWidget(view)
    view.show_result(tiny_result[0])
    assert not view.cards and NO_METHOD in view.heading.text()


# -- glossary -----------------------------------------------------------------------------------------
def test_glossary_lists_every_measure_of_the_catalogue():
    from cragru_gui.common.glossary import glossary_html

    text = glossary_html()
    for family in catalogue.FAMILIES:
        assert family.explanation.split("{")[0][:40].replace("'", "&#x27;") in text, family.name
    for info in catalogue.GROUP_INFO.values():
        assert info.label.capitalize() in text


def test_every_chart_and_the_results_table_have_a_visible_explanation(qtbot, method_result):
    from cragru_gui.charts import MetricsChart
    from cragru_gui.common.glossary import explanation_window
    from cragru_gui.results.results_view import ResultsView

    result, _dataset = method_result
    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.show_result(result)
    assert set(chart.frames) == set(chart.plots())
    for frame in chart.frames.values():
        assert frame.help.text() == "?"
    window = chart.frames["forgotten_recall"].help.open()
    assert catalogue.entry_for("forgotten_recall@10").family.describe(10)[:60] in window.text()
    utility = chart.frames["hit_by_group"].help.open()
    assert "Retained users" in utility.text()  # who the groups are, without hovering
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_result(result)
    view.explain_row(0)
    key = view.model.metric_keys()[view.proxy.mapToSource(view.proxy.index(0, 0)).row()]
    assert catalogue.entry_for(key).family.describe(10)[:30] in explanation_window(view.window()).text()
    view.explain_column(2)  # base, retrain, retrain Δ base, finetune, …
    assert "minus the original model" in explanation_window(view.window()).text()
    view.help_button.click()
    assert "Every kind of figure" in explanation_window(view.window()).text()


# -- charts: cost and labels ---------------------------------------------------------------------------
def test_cost_chart_shows_set_up_plus_request_against_retraining(qtbot, method_result):
    from cragru_gui.charts import MetricsChart
    from cragru_gui.charts.result_bars import cost_text

    assert cost_text("finetune", 1.5, 0.0) == "1.50 s (no set-up)"
    assert cost_text("cragru", 0.03, 736.0) == "12 min 16 s + 0.03 s = 12 min 16 s"  # set-up + request = total
    result, _dataset = method_result
    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.show_result(result)
    bars = chart.bars
    retrain = result.models["retrain"]
    assert bars.retrain_line.isVisible()
    assert bars.retrain_line.value() == pytest.approx(retrain.time_s + retrain.prep_time_s)
    fine = result.models["finetune"]
    assert bars.time.labels["finetune"].textItem.toPlainText() == cost_text("finetune", fine.time_s, fine.prep_time_s)
    # model names lie on the left axis of the model-by-model charts (they cannot run together)
    for chart_ in (bars.memory, bars.time):
        ticks = chart_.plot.getAxis("left")._tickLevels[0]
        assert [name for _pos, name in ticks] == list(result.models)
    # the grouped charts carry a legend mapping colours to models, kept in the report's images
    legend = chart.frames["hit_by_group"].legend.text()
    assert all(name in legend for name in ("base", "retrain", "finetune"))
    assert all(bars.colours(name) in legend for name in result.models)


def test_sample_based_figures_are_flagged_where_shown(qtbot, method_result):
    from cragru_gui.charts import MetricsChart
    from cragru_gui.results.results_view import ResultsView
    from cragru_gui.results.verdict_view import VerdictView

    result = copy.deepcopy(method_result[0])
    result.models["finetune"].notes.append("measured on a user sample (forget 10, retain 20)")
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_result(result)
    headers = [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(view.model.columnCount())]
    assert "finetune (user sample)" in headers and "retrain" in headers
    chart = MetricsChart()
    qtbot.addWidget(chart)
    chart.show_result(result)
    assert "finetune (user sample)" in chart.frames["ndcg_by_group"].legend.text()
    verdict = VerdictView()
    qtbot.addWidget(verdict)
    verdict.show_result(result)
    assert "user sample" in verdict.cards[0].findChild(type(verdict.heading), "sampleBadge").text()


def test_item_requests_say_who_counts_as_a_forgotten_user(qtbot, tiny_result):
    from cragru_gui.common.run_notes import forgotten_users_sentence
    from cragru_gui.results.results_view import ResultsView

    assert "678 of 943 users" in forgotten_users_sentence("items", 678, 943)
    assert forgotten_users_sentence("users", 5, 100) == ""
    result = copy.deepcopy(tiny_result[0])
    result.request["kind"] = "items"
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_result(result)
    n = len(result.groups["forget_users_all"])
    assert f"counts as a forgotten user — {n:,} of" in view.notes.text()


# -- inspector -------------------------------------------------------------------------------------------
def test_inspector_tells_a_popular_item_from_a_memory(qtbot, method_result):
    from core.experiment import prepare_data
    from cragru_gui.inspector.user_inspector import UserInspector

    result, dataset = method_result
    config = __import__("core.config", fromlist=["ExperimentConfig"]).ExperimentConfig.from_dict(result.config)
    rows = prepare_data(config, dataset).request.removed_rows
    users, items = dataset.users[rows], dataset.items[rows]
    removed = {int(u): items[users == u] for u in set(users.tolist())}
    inspector = UserInspector()
    qtbot.addWidget(inspector)
    inspector.set_run(result, dataset, removed)
    inspector.model_combo.setCurrentIndex(inspector.model_combo.findData("retrain"))
    found = None
    for user in result.groups["users"]["forget"]:
        inspector.select_user(user, "forget")
        marked = [t for t in inspector.titles("after") if "✕ removed" in t]
        if marked:
            found = marked
            break
    assert found, "no forgotten user with a removed item in the retrained model's list"
    assert all("recommended anyway" in t for t in found)  # the retrained model has no memory of it
    assert "not a memory" in inspector.legend.text()
    inspector.select_user(result.groups["users"]["retain"][0], "retain")
    assert "asked for nothing" in inspector.legend.text()
    assert not [t for t in inspector.titles("before") if "✕" in t]


def test_verdict_view_lists_each_forgotten_person(qtbot, method_result):
    """Below the cards: each model's per-person group result and one line per forgotten person
    (the demo's request forgets 14 users), in the words the CLI prints."""
    from core.reporting.people_tests import named_request_lines
    from cragru_gui.results.verdict_view import VerdictView

    result, _dataset = method_result
    view = VerdictView()
    qtbot.addWidget(view)
    view.show_result(result)
    lines = named_request_lines(result)
    n_people = len(result.groups["forget_users_all"])
    assert result.references is not None and lines, "the demo run has its reference ensemble"
    assert sum(line.startswith("  user ") for line in lines) == 2 * n_people  # retrain and fine-tune
    assert not view.people.isHidden()
    text = view.people.text()
    assert "Each forgotten person" in text and "<b>Fine-tune on retained data</b> — " in text
    assert all(line.strip().split(":")[0] in text for line in lines if line.startswith("  user "))
    view.clear()
    assert view.people.isHidden()
