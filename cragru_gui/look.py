"""The window's files (icon, style sheet), found the same way from a checkout or a wheel.

They live inside the package (``cragru_gui/resources/``) so that pip, PyInstaller and a
plain checkout all ship them; ``importlib.resources`` finds them in every case.
"""

from __future__ import annotations

from importlib import resources as _resources
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def resource_dir() -> Path:
    return Path(str(_resources.files("cragru_gui") / "resources"))


def resource_path(name: str) -> Path:
    return resource_dir() / name


def app_icon() -> QIcon:
    """The application icon: every rendered PNG size plus the SVG for anything larger."""
    icon = QIcon()
    icons = resource_dir() / "icons"
    for size in ICON_SIZES:
        png = icons / f"cragru-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    svg = icons / "cragru.svg"
    if svg.exists():
        icon.addFile(str(svg))
    return icon


def style_sheet() -> str:
    path = resource_path("style.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
