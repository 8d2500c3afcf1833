"""What every view of the window says at each step of a run, in one place, so they never
disagree: the story banner, the charts, Verdict, Results, the inspector and the progress
bar all say "running", "done", "cancelled" or "failed" together.

The window calls :class:`RunViews` from its task callbacks; the words about figures come
from ``core`` (the story, the verdicts), the words about the run's state from here.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Callable

from core.reporting.story import result_story
from cragru_gui.common.run_notes import sampled_models

if TYPE_CHECKING:
    from cragru_gui.window.run_bar import RunBar
    from cragru_gui.window.window_ui import OutputSide

CANCELLED, FAILED = "cancelled", "failed"
STOPPED_NOTE = {CANCELLED: "run cancelled:\nnothing measured", FAILED: "run failed:\nnothing measured"}


def set_role(widget, role: str) -> None:
    """Change a widget's style-sheet role (``info``, ``banner``…) and re-apply the style."""
    if widget.property("role") != role:
        widget.setProperty("role", role)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def planned_story(state, method_labels: Callable[[], list[str]]) -> str:
    """One sentence saying what the next run will do (before it starts, and while it runs):
    ``state`` is the workspace's, ``method_labels`` the method panel's ticked methods."""
    if state.dataset is None:
        return (
            "Open a dataset (the demo is a good start), choose what to forget, pick methods, then press <b>Start</b>."
        )
    req = state.resolved
    if req is None:
        return f"<b>{html.escape(state.dataset.name)}</b> loaded. Choose what to forget in the Forget panel."
    methods = ", ".join(method_labels())
    return (
        f"<b>{html.escape(state.dataset.name)}</b>: forget <b>{html.escape(req.request.describe())}</b> "
        f"({len(req.removed_rows):,} training interactions) with <b>{html.escape(methods or 'no method yet')}"
        "</b>, then compare with the base model: what it still remembers, and who else was hurt."
    )


class RunViews:
    """The window's views, told together about the run's state: ``out`` holds the views
    (:class:`~cragru_gui.window.window_ui.OutputSide`), ``planned`` says what Start will do."""

    def __init__(self, out: OutputSide, run_bar: RunBar, planned: Callable[[], str]) -> None:
        self.out = out
        self.run_bar = run_bar
        self.planned = planned
        self.description = ""  # what the running request forgets, for the "cancelled" words

    def idle(self) -> None:
        """No run going: the banner tells what Start will do."""
        set_role(self.out.story, "info")
        self.out.story.setText(self.planned())

    def started(self, config) -> None:
        w = self.out
        self.description = config.request.describe()
        set_role(w.story, "info")
        w.story.setText("<b>Running</b> — " + self.planned())
        w.charts.reset(mia_enabled=config.mia)
        w.results_view.clear()
        w.inspector.clear()
        w.verdict_view.clear("Running… the verdict appears here when the run ends.")
        w.presentation.step("training")

    def done(self, result, dataset, removed: dict) -> None:
        """A finished (or opened) run: every view shows it, Verdict first."""
        w = self.out
        set_role(w.story, "info")
        w.story.setText(result_story(result))
        w.charts.flag_samples(sampled_models(result))
        w.results_view.show_result(result)
        w.inspector.set_run(result, dataset, removed)
        w.verdict_view.show_result(result)
        w.tabs.setCurrentWidget(w.verdict_view)
        w.presentation.step("verdict")

    def stopped(self, how: str, reason: str = "") -> None:
        """Cancelled or failed: nothing was stored as a result, and every view says so."""
        w = self.out
        what = f"forgetting {self.description}" if self.description else "the run"
        head = "Cancelled" if how == CANCELLED else "Failed"
        detail = reason or "it was stopped before it finished"
        text = f"{head}: {what} — {detail}. Nothing from this run was stored as a result."
        set_role(w.story, "banner")
        w.story.setText(f"<b>{head}</b>: {html.escape(text.split(': ', 1)[1])} Press <b>Start</b> to run it again.")
        w.charts.stopped(text + " The curves show what was drawn before it stopped.", STOPPED_NOTE[how])
        w.results_view.stopped(text)
        w.inspector.clear(text)
        w.verdict_view.clear(f"<b>No verdict</b> — {html.escape(text)}")
        self.run_bar.set_stopped(head)
        w.presentation.step("request")
