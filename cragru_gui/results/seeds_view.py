"""Several split seeds from the window: the task that runs them in sequence, and the
summary dialog (each figure's mean ± standard deviation over the seeds, per model).

The numbers come from :func:`core.seeds.summarise`; the words and formats from the metric
catalogue. Each seed is an ordinary run: stored in the history, its events shown live.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.events import EVENT_TYPES, Dispatcher, LogEvent, SeedStarted
from core.reporting.catalogue import entry_for, ordered_keys
from core.seeds import run_seeds, seed_configs, spread_text, summarise

CUTOFF = "@10"


def seeds_task(configs: list, store=None, dataset=None, experiment_fn: Callable[..., Any] | None = None):
    """The task function: ``run_experiment`` for each config in turn, on the task's sinks;
    returns every result (a cancel stops at the running seed's next check)."""

    def run(task):
        run_experiment = experiment_fn
        if run_experiment is None:
            from core.experiment import run_experiment

        def one(config):
            return run_experiment(config, task.emit, task.should_stop, dataset=dataset, store=store)

        return run_seeds(configs, one, task.emit)

    return run


def route_seed_events(on_seed: Callable[[SeedStarted], None], dispatch: Callable[[Any], None]):
    """An ``on_event`` sink: :class:`SeedStarted` to ``on_seed``, every other event to ``dispatch``."""
    return Dispatcher({kind: dispatch for kind in EVENT_TYPES if kind is not SeedStarted} | {SeedStarted: on_seed})


def seeds_plan(
    config,
    n_seeds: int,
    *,
    dispatch: Callable[[Any], None],
    reset_charts: Callable[..., None],
    store=None,
    dataset=None,
    experiment_fn: Callable[..., Any] | None = None,
):
    """``(work, on_event)`` of a window run over ``n_seeds`` split seeds: each seed empties the
    charts (``reset_charts``) and is logged through ``dispatch``, the window's event sink. The
    window's ``on_done`` shows the last seed's result as a single run's and the summary in a
    :class:`SeedSummaryDialog`."""

    def started(event: SeedStarted) -> None:
        reset_charts(mia_enabled=config.mia)
        dispatch(LogEvent(f"— seed {event.index} of {event.total} (split seed {event.seed})"))

    work = seeds_task(seed_configs(config, n_seeds), store, dataset, experiment_fn)
    return work, route_seed_events(started, dispatch)


def summary_keys(summary: dict) -> list[str]:
    """The figures to show: every summarised key at the @10 cut-off (or without one), in reading order."""
    keys = {key for spreads in summary.values() for key in spreads}
    return [k for k in ordered_keys(keys) if "@" not in k or k.endswith(CUTOFF)]


class SeedSummaryDialog(QDialog):
    """Rows: figures; columns: models; cells: mean ± std over the seeds (hover: min, max, n)."""

    def __init__(self, results: list, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("seedSummaryDialog")
        self.summary = summarise(results)
        seeds = [r.config.get("split", {}).get("seed") for r in results]
        self.setWindowTitle(f"Mean and spread over {len(results)} seeds")
        layout = QVBoxLayout(self)
        head = QLabel(
            f"{len(results)} runs of the same experiment with split seeds "
            f"{', '.join(map(str, seeds))} (runs {', '.join(r.run_id for r in results)}, each in the "
            "history). Each cell: mean ± standard deviation over the seeds.",
            self,
        )
        head.setWordWrap(True)
        layout.addWidget(head)
        self.keys = summary_keys(self.summary)
        models = list(self.summary)
        self.table = QTableWidget(len(self.keys), len(models), self)
        self.table.setObjectName("seedSummaryTable")
        self.table.setHorizontalHeaderLabels(models)
        self.table.setVerticalHeaderLabels([entry_for(k).short for k in self.keys])
        for r, key in enumerate(self.keys):
            for c, model in enumerate(models):
                self.table.setItem(r, c, self._item(key, self.summary[model].get(key)))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 560)

    @staticmethod
    def _item(key: str, spread) -> QTableWidgetItem:
        item = QTableWidgetItem(spread_text(key, spread))
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        if spread is not None:
            entry = entry_for(key)
            item.setToolTip(
                f"{entry.label}: mean {entry.format(spread.mean)} over {spread.n} seeds, from "
                f"{entry.format(spread.low)} to {entry.format(spread.high)}"
            )
        return item

    def cell_text(self, key: str, model: str) -> str:
        item = self.table.item(self.keys.index(key), list(self.summary).index(model))
        return item.text() if item is not None else ""
