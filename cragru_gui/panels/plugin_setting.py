"""The window's *Method plug-ins* setting: method files outside the package, loaded at
every start and added from File → Method plug-ins… (see docs/ADDING_A_METHOD.md)."""

from __future__ import annotations

import os
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from cragru_gui import errors
from cragru_gui.settings import Settings

KEY = "methods/plugins"


def saved_plugins(settings: Settings) -> list[str]:
    value = settings.get_json(KEY, [])
    return [str(p) for p in value if isinstance(p, str)] if isinstance(value, list) else []


def apply_saved_plugins(settings: Settings) -> None:
    """Hand the saved files to the engine before it lists its methods (it loads them with
    the installed plug-ins; one that fails is reported, never fatal)."""
    from core.methods.plugins import remember_files

    remember_files(saved_plugins(settings))


def choose_plugin_file(parent: QWidget) -> str:
    """The file dialog (tests replace this function)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Add a method plug-in", "", "Python files (*.py)")
    return path


def add_plugin(
    parent: QWidget,
    settings: Settings,
    add_methods: Callable[[list], None],
    say: Callable[[str, int], None],
    path: str | None = None,
) -> list[str]:
    """Load a method file (asked for when ``path`` is None), hand its methods to
    ``add_methods`` (the method panel's), remember it in ``settings`` and ``say`` so."""
    path = path if path is not None else choose_plugin_file(parent)
    if not path:
        return []
    from core.errors import CragruError
    from core.methods.plugins import load_plugin_file
    from core.methods.registry import get_method

    try:
        names = load_plugin_file(path)
    except CragruError as exc:
        errors.show_error(parent, "Method plug-in not loaded", str(exc))
        return []
    add_methods([get_method(name) for name in names])
    files = saved_plugins(settings)
    if path not in files:
        settings.set_json(KEY, files + [path])
    say(f"Plug-in {os.path.basename(path)}: {', '.join(names) or 'no new method'} added.", 8000)
    return names
