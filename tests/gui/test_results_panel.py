"""Issue 23, Results: the table gets the room; the notes are short sentences in a panel that
folds and scrolls (no raw ``key = value``); a chooser hides kinds of column."""

from __future__ import annotations

import copy

from cragru_gui.results.results_view import ResultsView


def test_notes_are_sentences_in_a_folding_panel_and_columns_can_be_hidden(qtbot, tiny_result):
    result, _dataset, _removed = tiny_result
    result = copy.deepcopy(result)
    report = result.models["retrain"]
    report.extras.update({"paths/fallback_base": 0, "llm_seconds": 1.741})  # as the issue saw them raw
    report.notes.append("measured on a user sample (forget 10, retain 20)")
    view = ResultsView()
    qtbot.addWidget(view)
    view.resize(900, 560)
    view.show()
    view.show_result(result)
    notes = view.notes
    assert notes.sentences and all(s.endswith(".") for s in notes.sentences)
    assert " = " not in notes.text()  # sentences, not key = value
    assert "paths, fallback base 0" in notes.text() and "llm seconds 1.74 s" in notes.text()
    assert not notes.view.isVisible()  # folded: the table has the room
    assert view.table.height() > 300
    notes.toggle.click()
    assert notes.view.isVisible() and "Notes (" in notes.toggle.text()
    model = view.model
    kinds = {model.column_spec(c).kind for c in range(model.columnCount())}
    assert "delta_base" in kinds
    view.columns_button.actions_by_kind["delta_base"].setChecked(False)
    for column in range(model.columnCount()):
        hidden = view.table.isColumnHidden(column)
        assert hidden == (model.column_spec(column).kind == "delta_base")
    view.columns_button.actions_by_kind["delta_base"].setChecked(True)
    assert not any(view.table.isColumnHidden(c) for c in range(model.columnCount()))
