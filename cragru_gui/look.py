"""The window's look: its icon and style sheets (``style.qss``, ``presentation.qss``), found
the same way from a checkout, an installed wheel or a PyInstaller build.

The files live inside the package, in the data folder ``cragru_gui/resources/``, so that pip
(``[tool.setuptools.package-data]``), PyInstaller (``packaging/cragru.spec``) and a plain
checkout all ship them; ``importlib.resources`` finds them in every case. (This module was
``cragru_gui/resources.py``, a module beside the folder of the same name.)
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
