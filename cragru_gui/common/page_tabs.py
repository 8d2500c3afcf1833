"""Tabs whose pages scroll (issue 23): each page sits in a scroll area, so a page taller or
wider than a small screen (1280×720, or 1920×1080 at 200 %: 960×540) scrolls instead of
forcing the window past the screen's edge. The tab widget still answers with the page
widgets themselves (``currentWidget``, ``setCurrentWidget``, ``indexOf``, ``widget``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QScrollArea, QTabWidget, QWidget


def scrolled(page: QWidget) -> QWidget:
    """``page`` in a frameless scroll area that resizes it (a page that scrolls by itself — a
    table, a text view — is returned as it is)."""
    if isinstance(page, QAbstractScrollArea):
        return page
    area = QScrollArea()
    area.setObjectName(f"{page.objectName() or 'page'}Scroll")
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setAccessibleName(f"{page.accessibleName() or page.objectName() or 'page'} (scrolls)")
    return area


class PageTabs(QTabWidget):
    """A tab widget whose pages scroll; it maps its scroll areas back to the pages."""

    def addTab(self, page: QWidget, title: str) -> int:  # noqa: N802 (Qt's name)
        return super().addTab(scrolled(page), title)

    def page_at(self, index: int) -> QWidget | None:
        holder = super().widget(index)
        return holder.widget() if isinstance(holder, QScrollArea) else holder

    def widget(self, index: int) -> QWidget | None:
        return self.page_at(index)

    def currentWidget(self) -> QWidget | None:  # noqa: N802
        return self.page_at(self.currentIndex())

    def indexOf(self, page: QWidget) -> int:  # noqa: N802
        return next((i for i in range(self.count()) if self.page_at(i) is page), super().indexOf(page))

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)
