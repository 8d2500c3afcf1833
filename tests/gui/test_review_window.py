"""Issue 13 in the whole window: Verdict comes forward when a run ends, every view agrees
after Cancel, presentation mode, shortcuts shown in the menus."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence


def _run_to_end(qtbot, window) -> None:
    with qtbot.waitSignal(window.tasks.finished, timeout=180_000, check_params_cb=lambda kind: kind == "run"):
        window.start_run()
    qtbot.waitUntil(lambda: window.run_bar.start_button.isEnabled(), timeout=10_000)


def test_after_cancel_every_view_says_cancelled(make_window, qtbot, tmp_path):
    window = make_window()
    _run_to_end(qtbot, window)  # a finished run first: nothing of it may linger after the cancel
    assert window.result is not None
    assert window.output_tabs.currentWidget() is window.verdict_view  # the verdict comes first
    assert "Verdict" in window.verdict_view.heading.text()
    # the reviewer's files: the PDF report and the receipt, written by core
    assert window.receipt_action.isEnabled() and window.results_view.receipt_button.isEnabled()
    task = window.save_receipt(str(tmp_path / "receipt.json"))  # written off the GUI thread
    assert task.wait(30)
    assert json.loads(task.value.read_text())["run_id"] == window.result.run_id
    task = window.export_report(str(tmp_path / "report.pdf"))
    assert task.wait(60)
    [pdf] = task.value
    assert pdf.read_bytes().startswith(b"%PDF")
    # the report's sign-off block names the receipt saved from the same window (one signature)
    from pypdf import PdfReader

    from core.signing import receipt_fingerprint

    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert receipt_fingerprint(receipt) in PdfReader(str(pdf)).pages[0].extract_text()
    qtbot.waitUntil(lambda: "report.pdf" in window.statusBar().currentMessage(), timeout=5000)
    window.method_panel.set_epochs(500)
    window.method_panel.run_form.set_values({"use_cache": False})
    window.start_run()
    assert "Running" in window.story.text()
    qtbot.waitUntil(lambda: len(window.charts.curve_points("base/train", "loss")[0]) >= 1, timeout=60_000)
    with qtbot.waitSignal(window.tasks.finished, timeout=30_000, check_params_cb=lambda kind: kind == "run"):
        qtbot.mouseClick(window.run_bar.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.run_bar.start_button.isEnabled(), timeout=5000)
    assert window.result is None and not window.receipt_action.isEnabled()
    assert window.story.property("role") == "banner"
    assert window.story.text().startswith("<b>Cancelled</b>") and "Forgot" not in window.story.text()
    assert window.charts.status.isVisibleTo(window.charts) and "Cancelled" in window.charts.status.text()
    assert "run cancelled" in window.charts.bars.hit.note.text
    assert "No results" in window.results_view.title.text() and "Cancelled" in window.results_view.title.text()
    assert window.results_view.model.rowCount() == 0
    assert "No verdict" in window.verdict_view.heading.text() and not window.verdict_view.cards
    assert "Cancelled" in window.inspector.info.text()
    bar = window.run_bar.progress_bar
    assert bar.text().startswith("Cancelled at") and bar.value() < bar.maximum()
    assert "Cancelled" in window.run_bar.stage_label.text()
    # the next start clears every "cancelled"
    window.method_panel.set_epochs(3)
    window.start_run()
    assert not window.charts.status.isVisibleTo(window.charts) and window.story.property("role") == "info"
    assert bar.format() == "%p%"
    window.cancel_run()
    qtbot.waitUntil(lambda: window.run_bar.start_button.isEnabled(), timeout=30_000)


def test_shortcuts_are_in_the_menus_and_presentation_mode_tells_the_steps(make_window, qtbot):
    window = make_window(tiny=False)
    assert window.start_action.shortcut() == QKeySequence("F5")
    assert window.cancel_action.shortcut() == QKeySequence("Shift+Esc")  # Esc leaves presentation mode
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    view = {a.text().replace("&", ""): a for a in menus["View"].actions() if a.text()}
    assert view["Next tab"].shortcut() == QKeySequence("Ctrl+PgDown")
    assert window.presentation_action.shortcut() == QKeySequence("F11")
    assert any("Glossary" in a.text() for a in menus["Help"].actions())
    start = window.output_tabs.currentIndex()
    view["Next tab"].trigger()
    assert window.output_tabs.currentIndex() == (start + 1) % window.output_tabs.count()
    # presentation: full screen, large type, the steps told
    font_before = window.verdict_view.heading.font().pointSizeF()
    window.presentation_action.trigger()
    assert window.presentation.active and window.windowState() & Qt.WindowState.WindowFullScreen
    assert window.presentation.strip.isVisibleTo(window)
    assert "1 · The request" in window.presentation.text() and "3 · The verdict" in window.presentation.text()
    assert window.verdict_view.heading.font().pointSizeF() > font_before
    window.presentation.step("training", "step 2 of 5, training the base model")
    assert window.output_tabs.currentWidget() is window.charts
    assert "step 2 of 5" in window.presentation.text()
    window.presentation_action.trigger()
    assert not window.presentation.active and not window.presentation.strip.isVisibleTo(window)
    assert not window.windowState() & Qt.WindowState.WindowFullScreen


def test_focus_ring_is_in_the_style_sheet():
    from cragru_gui.look import style_sheet

    sheet = style_sheet()
    assert "QPushButton:focus" in sheet and "QToolButton#helpButton" in sheet
