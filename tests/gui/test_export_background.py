"""Saving the report or receipt runs off the GUI thread and says a failure in a dialog."""

from __future__ import annotations


def test_a_report_that_cannot_be_written_is_said_and_the_window_goes_on(
    make_window, qtbot, tmp_path, shown_errors, hand_built_result
):
    window = make_window()
    window.result = hand_built_result
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    task = window.export_report(str(blocker / "report.html"))
    assert task is not None and task.wait(30)
    qtbot.waitUntil(lambda: bool(shown_errors), timeout=5000)
    assert shown_errors.calls[0]["title"] == "Cannot write the report"
    good = window.save_receipt(str(tmp_path / "receipt.json"))
    assert good.wait(30) and good.value.exists()
