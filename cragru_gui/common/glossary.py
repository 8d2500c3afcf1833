"""The glossary, visible without hovering: a "?" button beside every chart and table that
opens the plain-language explanation of its figures, and Help → Glossary with every measure.

Every word comes from the metric catalogue (:mod:`core.reporting.catalogue` and its
families); this module only lays them out. One explanation window per main window is
reused, never stacked (it is not modal, so the person can keep it open beside a chart).
"""

from __future__ import annotations

import html
from typing import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from core.reporting.catalogue import (
    FAMILIES,
    GLOSSARY_CUTOFF,
    GROUP_INFO,
    SECTION_TITLES,
    SECTIONS,
    UTILITY,
    MetricEntry,
    entry_for,
)


def _entry_html(entry: MetricEntry) -> str:
    return (
        f"<h3 style='margin-bottom:2px'>{html.escape(entry.label[:1].upper() + entry.label[1:])}</h3>"
        f"<p style='margin-top:2px'>{html.escape(entry.explanation)}</p>"
    )


def _groups_html() -> str:
    items = "".join(
        f"<li><b>{html.escape(info.label.capitalize())}</b>: {html.escape(info.explanation)}</li>"
        for info in GROUP_INFO.values()
    )
    return f"<h3>Who is measured</h3><ul>{items}</ul>"


def _glossary_form(key: str) -> MetricEntry:
    """The key's entry without its group: the measure explained once for every group."""
    entry = entry_for(key)
    return MetricEntry(entry.key, entry.family, None, entry.k) if entry.section == UTILITY else entry


def keys_html(keys: Iterable[str], intro: str = "") -> str:
    """The explanation of ``keys`` (catalogue words), with who the groups are when a key is
    a quality measure taken per group."""
    entries = [_glossary_form(key) for key in dict.fromkeys(keys)]
    parts = [f"<p>{html.escape(intro)}</p>"] if intro else []
    parts += [_entry_html(entry) for entry in entries]
    if any(entry.section == UTILITY for entry in entries):
        parts.append(_groups_html())
    return "".join(parts)


def glossary_html() -> str:
    """Every measure of the catalogue, by section, then who the groups are (Help → Glossary)."""
    parts = [
        "<p>Every figure CRAGRU Studio reports, in plain words. The retrained model — trained again "
        "without the forgotten data — is the target: a good unlearning method behaves like it.</p>"
    ]
    for section in SECTIONS:
        families = [f for f in FAMILIES if f.section == section]
        if not families:
            continue
        parts.append(f"<h2>{html.escape(SECTION_TITLES[section])}</h2>")
        for family in families:
            k = GLOSSARY_CUTOFF if "(?P<k>" in family.pattern else None
            parts.append(_entry_html(MetricEntry(family.name, family, None, k)))
    parts.append(_groups_html())
    return "".join(parts)


class ExplanationWindow(QDialog):
    """A small non-modal window showing one explanation (reused for the next one)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explanationWindow")
        self.setModal(False)
        self.resize(560, 520)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("explanationText")
        self.browser.setOpenExternalLinks(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.browser)

    def show_text(self, title: str, body: str) -> None:
        self.setWindowTitle(title)
        self.browser.setHtml(body)
        self.show()
        self.raise_()
        self.activateWindow()

    def text(self) -> str:
        return self.browser.toPlainText()


def explanation_window(top: QWidget) -> ExplanationWindow | None:
    """The one explanation window of the top-level widget ``top`` (its child), once shown."""
    return top.findChild(ExplanationWindow, "explanationWindow", Qt.FindChildOption.FindDirectChildrenOnly)


def explain(anchor: QWidget, title: str, body: str) -> ExplanationWindow:
    """Show ``body`` (HTML) in the top-level window's explanation window."""
    top = anchor.window()
    window = explanation_window(top)
    if window is None:
        window = ExplanationWindow(top)
    window.show_text(title, body)
    return window


def show_glossary(anchor: QWidget) -> ExplanationWindow:
    return explain(anchor, "Glossary — what every figure means", glossary_html())


class HelpButton(QToolButton):
    """The "?" beside a chart or a table: opens what its figures mean, from the catalogue
    (``keys``) or, for a chart that shows no catalogue figure, from ``text``; ``opener``
    replaces what a click does (a view that knows its figures only at run time)."""

    def __init__(
        self, title: str, keys: Iterable[str] = (), text: str = "", opener=None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("helpButton")
        self.setText("?")
        self.topic, self.keys, self.plain = title, tuple(keys), text
        self.setToolTip(f"What does “{title}” mean?")
        self.setAccessibleName(f"Explain {title}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.clicked.connect(opener or self.open)

    def body(self) -> str:
        return keys_html(self.keys, self.plain) if self.keys else f"<p>{html.escape(self.plain)}</p>"

    def open(self) -> ExplanationWindow:
        return explain(self, self.topic, self.body())
