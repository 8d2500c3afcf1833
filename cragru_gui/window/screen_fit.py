"""The window's size from the screen it opens on (issue 23: the first start opened 1600×960 on
a 1280×720 screen, with Start off the bottom edge)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

PREFERRED = (1600, 960)
SHARE = 0.92  # of the available area, leaving room for the frame and a panel
LEFT = 470  # the set-up side's preferred width


def available(widget: QWidget) -> QRect:
    """The available area of the widget's screen (or the primary screen)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fits(widget: QWidget) -> bool:
    """Whether the window's frame lies inside its screen's available area."""
    area = available(widget)
    frame = widget.frameGeometry()
    return frame.width() <= area.width() and frame.height() <= area.height() and area.intersects(frame)


def place(widget: QWidget) -> None:
    """The preferred size, cut to the screen's available area, centred on it; on a small
    screen, maximised."""
    area = available(widget)
    width = min(PREFERRED[0], int(area.width() * SHARE))
    height = min(PREFERRED[1], int(area.height() * SHARE))
    widget.resize(max(width, 200), max(height, 150))
    widget.move(area.x() + (area.width() - widget.width()) // 2, area.y() + (area.height() - widget.height()) // 2)


def split(width: int) -> list[int]:
    """Set-up side and output side of a window ``width`` wide: the set-up side its preferred
    470 px, or 40 % of a narrow window (at least 380 px: its forms' width)."""
    left = min(LEFT, max(380, int(width * 0.4)))
    return [left, max(width - left, 200)]
