"""A run that ended early opens from History with the models that finished before it."""

from __future__ import annotations

import dataclasses

from core.history import RunStore


def test_history_opens_a_run_that_ended_early(make_window, store_path, tiny_result, shown_errors):
    result, _dataset, _removed = tiny_result
    store = RunStore(store_path)
    store.begin(result.run_id, result.config, 1.0)
    store.save_partial(dataclasses.replace(result, partial=True))  # stored as the run went
    store.finish_failed(result.run_id, "method 'x' failed: out of luck")
    window = make_window(tiny=False)
    window.history_panel.refresh()
    (row,) = range(window.history_panel.model.rowCount())
    assert window.history_panel.model.status(row) == "partial"
    window.history_panel.select_runs([result.run_id])
    assert window.history_panel.open_button.isEnabled()
    window.history_panel.open_button.click()
    assert not shown_errors, shown_errors.calls
    assert window.result.partial and set(window.result.models) == set(result.models)
    assert "ended early" in window.statusBar().currentMessage()


def test_a_failed_run_without_results_still_cannot_be_opened(make_window, store_path, tiny_result):
    result, _dataset, _removed = tiny_result
    store = RunStore(store_path)
    store.begin(result.run_id, result.config, 1.0)
    store.finish_failed(result.run_id, "no model finished")
    window = make_window(tiny=False)
    window.history_panel.refresh()
    window.history_panel.select_runs([result.run_id])
    assert window.history_panel.model.status(0) == "failed"
    assert not window.history_panel.open_button.isEnabled()
