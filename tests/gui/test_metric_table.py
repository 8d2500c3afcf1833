"""The Results table: labels from the metric catalogue, cells coloured by closeness to retrain."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.reporting import judgement
from core.reporting.catalogue import entry_for
from cragru_gui.results.metric_table import VERDICT_COLOURS, VERDICT_MARKS, MetricTableModel


def _cell(model: MetricTableModel, key: str, name: str, kind: str = "value") -> tuple[int, int]:
    row = model.metric_keys().index(key)
    column = next(
        c
        for c in range(model.columnCount())
        if model.column_spec(c).model == name and model.column_spec(c).kind == kind
    )
    return row, column


def _colour(model: MetricTableModel, row: int, column: int):
    brush = model.index(row, column).data(Qt.ItemDataRole.BackgroundRole)
    return None if brush is None else brush.color().name()


def test_metric_table_colours_by_closeness_to_retrain(qtmodeltester, hand_built_result):
    model = MetricTableModel()
    model.set_result(hand_built_result)
    qtmodeltester.check(model, force_py=True)
    good, bad = VERDICT_COLOURS[judgement.GOOD].name(), VERDICT_COLOURS[judgement.BAD].name()
    for key in ("forget/ndcg@10", "forgotten_recall@10", "mia_auc", "retain/ndcg@10"):
        assert _colour(model, *_cell(model, key, "close")) == good, key
        assert _colour(model, *_cell(model, key, "far")) == bad, key
        assert _colour(model, *_cell(model, key, "close", "delta_retrain")) == good, key
        # the second cue (issue 23): the verdict is read without colour too
        assert model.index(*_cell(model, key, "close")).data().startswith(VERDICT_MARKS[judgement.GOOD] + " "), key
        assert model.index(*_cell(model, key, "far")).data().startswith(VERDICT_MARKS[judgement.BAD] + " "), key
        assert _colour(model, *_cell(model, key, "retrain")) is None, key  # the reference is not judged
        assert _colour(model, *_cell(model, key, "far", "delta_base")) is None, key
    assert _colour(model, *_cell(model, "speedup_vs_retrain", "close")) == good
    assert _colour(model, *_cell(model, "speedup_vs_retrain", "far")) == bad
    assert _colour(model, *_cell(model, "time_s", "far")) is None  # cost is judged by the speed-up


def test_metric_table_shows_catalogue_labels_and_formats(hand_built_result):
    model = MetricTableModel()
    model.set_result(hand_built_result)
    keys = model.metric_keys()
    assert keys.index("retain/hit@10") < keys.index("forgotten_recall@10") < keys.index("time_s")
    for row, key in enumerate(keys):
        entry = entry_for(key)
        assert model.headerData(row, Qt.Orientation.Vertical) == entry.short
        assert entry.explanation in model.headerData(row, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole)
    row, column = _cell(model, "speedup_vs_retrain", "close")
    assert model.cell_text(row, column) == "16.0×"
    row, column = _cell(model, "time_s", "far")
    assert model.cell_text(row, column) == "20.00 s"
    row, column = _cell(model, "forget/ndcg@10", "far", "delta_retrain")
    assert model.cell_text(row, column) == "+0.2000"
    tooltip = model.index(row, column).data(Qt.ItemDataRole.ToolTipRole)
    assert "Far method" in tooltip and judgement.explain(judgement.BAD) in tooltip
    assert entry_for("forget/ndcg@10").explanation in tooltip


def test_metric_table_shows_intervals_and_judges_by_them(qtmodeltester, evidence_result):
    model = MetricTableModel()
    model.set_result(evidence_result)
    qtmodeltester.check(model, force_py=True)
    good, bad = VERDICT_COLOURS[judgement.GOOD].name(), VERDICT_COLOURS[judgement.BAD].name()
    unsure = VERDICT_COLOURS[judgement.UNSURE].name()
    for key in ("forget/ndcg@10", "attack/fold_in_auc", "agreement/similar/rbo@10"):
        assert _colour(model, *_cell(model, key, "forgot")) == good, key
        assert _colour(model, *_cell(model, key, "kept")) == bad, key
        assert _colour(model, *_cell(model, key, "few")) == unsure, key
        assert _colour(model, *_cell(model, key, "few", "delta_retrain")) == unsure, key
    row, column = _cell(model, "forget/ndcg@10", "kept")
    assert model.cell_text(row, column) == "0.2800 [0.2700, 0.2900]"
    tooltip = model.index(row, column).data(Qt.ItemDataRole.ToolTipRole)
    assert "95 % interval" in tooltip and "clearly different from retraining" in tooltip
    row, column = _cell(model, "forget/ndcg@10", "kept", "delta_retrain")
    assert model.cell_text(row, column) == "+0.1800 [+0.1500, +0.2100]"
    row, column = _cell(model, "attack/fold_in_auc", "few", "delta_retrain")
    assert model.cell_text(row, column) == "+0.050 [-0.100, +0.200]"
    assert "not enough users to tell" in model.index(row, column).data(Qt.ItemDataRole.ToolTipRole)
    row, column = _cell(model, "attack/fold_in_auc", "kept", "delta_base")
    assert model.cell_text(row, column) == "-0.050"  # no paired difference vs base: the point delta
    # the known-user count: its own row with a plain label, outside the attack section
    row, column = _cell(model, "known_forgotten_users", "kept")
    assert model.cell_text(row, column) == "42 of 42"
    label = model.headerData(row, Qt.Orientation.Vertical)
    assert "attack" not in label.lower() and entry_for("known_forgotten_users").section != "attack"


def test_results_legend_names_every_verdict(qtbot, evidence_result):
    from PySide6.QtWidgets import QLabel

    from cragru_gui.results.results_view import ResultsView

    view = ResultsView()
    qtbot.addWidget(view)
    view.show_result(evidence_result)
    texts = " ".join(label.text() for label in view.findChildren(QLabel))
    for text in judgement.LEGEND.values():
        assert text in texts
    assert "not enough users to tell" in texts
