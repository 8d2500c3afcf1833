"""The Results tab's two helpers (issue 23): the run's notes as short sentences in a panel
that folds away and scrolls (it used to be a block of raw ``key = value`` text that left
the table one row at 1280×720), and the chooser of which kinds of column the table shows."""

from __future__ import annotations

import html

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from core.reporting.numbers import format_seconds
from cragru_gui.common.run_notes import result_forgotten_users
from cragru_gui.results.metric_table import KIND_TEXT


def _words(key: str) -> str:
    """``paths/fallback_base`` → ``paths, fallback base``."""
    return key.replace("/", ", ").replace("_", " ")


def _number(key: str, value: float) -> str:
    if key.endswith(("seconds", "_s")):
        return format_seconds(float(value))
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


def model_sentences(name: str, report) -> list[str]:
    """What a model's report says beside its metrics, one short sentence each."""
    sentences = [f"{name}: {note.rstrip('.')}." for note in report.notes]
    figures = [
        f"{_words(k)} {_number(k, v)}"
        for k, v in report.extras.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if figures:
        sentences.append(f"{name} also reports: " + "; ".join(figures) + ".")
    if report.prep_time_s:
        sentences.append(
            f"{name} spent {format_seconds(report.prep_time_s)} on one-off set-up before the request's "
            f"{format_seconds(report.time_s)}."
        )
    return sentences


def result_sentences(result) -> list[str]:
    """Every note of a run: who counts as forgotten, then each model's."""
    sentences = [text for text in (result_forgotten_users(result),) if text]
    for name, report in result.models.items():
        sentences += model_sentences(name, report)
    return sentences


class NotesPanel(QWidget):
    """A "Notes (n)" button that folds a scrolling list of sentences open and shut (shut by default)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsNotes")
        self.toggle = QToolButton(self)
        self.toggle.setObjectName("notesToggle")
        self.toggle.setCheckable(True)
        self.toggle.setAccessibleName("Show or hide the run's notes")
        self.toggle.setToolTip("What each model reported beside its metrics")
        self.view = QTextBrowser(self)
        self.view.setObjectName("notesText")
        self.view.setAccessibleName("Run notes")
        self.view.setOpenLinks(False)
        self.view.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle)
        layout.addWidget(self.view, 1)
        self.toggle.toggled.connect(self._fold)
        self.sentences: list[str] = []
        self.set_sentences([])

    def set_sentences(self, sentences: list[str]) -> None:
        self.sentences = list(sentences)
        self.view.setHtml("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in self.sentences) + "</ul>")
        self.toggle.setEnabled(bool(self.sentences))
        self._fold(self.toggle.isChecked() and bool(self.sentences))

    def text(self) -> str:
        return " ".join(self.sentences)

    def _fold(self, open_: bool) -> None:
        self.view.setVisible(open_)
        self.toggle.setText(f"{'▾' if open_ else '▸'} Notes ({len(self.sentences)})")


class ColumnMenuButton(QToolButton):
    """ "Columns ▾": tick which kinds of column the Results table shows."""

    def __init__(self, parent: QWidget, on_change) -> None:
        super().__init__(parent)
        self.setObjectName("columnsButton")
        self.setText("Columns ▾")
        self.setAccessibleName("Choose the table's columns")
        self.setToolTip("Which columns the table shows: values, differences from base, differences from retrain")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        self.actions_by_kind: dict[str, QAction] = {}
        for kind, text in KIND_TEXT.items():
            action = QAction(text[0].upper() + text[1:], menu)
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(lambda _on: on_change())
            menu.addAction(action)
            self.actions_by_kind[kind] = action
        self.setMenu(menu)

    def shown(self) -> set[str]:
        return {kind for kind, action in self.actions_by_kind.items() if action.isChecked()}


def column_menu_button(parent: QWidget, on_change) -> ColumnMenuButton:
    return ColumnMenuButton(parent, on_change)
