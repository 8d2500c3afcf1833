"""Methods that live outside this package: installed packages and single files.

A plug-in registers through the same registry as the built-in methods
(:func:`core.methods.registry.register`), so its form, its curves and its place in the
CLI, the window, sweeps and streams come with it. Two ways in:

* an installed package declares an entry point in the group ``cragru_studio.methods``;
  loading it (a module, a :class:`MethodSpec`, or a function returning one or several)
  registers the method;
* a file: ``cragru-run --plugin FILE.py``, the window's *Method plug-ins* setting, or the
  ``CRAGRU_PLUGINS`` variable (paths separated by ``os.pathsep``). The file registers its
  method when imported. The variable is how Ray workers and child processes see the same
  plug-ins as the process that started them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.methods.registry import METHODS, MethodSpec, register

ENTRY_POINT_GROUP = "cragru_studio.methods"
PLUGINS_ENV = "CRAGRU_PLUGINS"

_loaded_files: dict[Path, str] = {}  # resolved path -> module name
_entry_points_done = False
problems: list[str] = []
"""Plug-ins that could not be loaded at start (one line each), for the window and the log."""


def load_plugin_file(path: str | os.PathLike) -> list[str]:
    """Import one plug-in file; returns the names of the methods it registered. A file
    already loaded is not loaded again. Raises :class:`ConfigError` naming the file (and
    the line) when it is missing, not Python, or fails while registering."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"method plug-in {str(path)!r}: no such file")
    if file.suffix != ".py":
        raise ConfigError(f"method plug-in {file.name!r}: expected a Python file (.py)")
    resolved = file.resolve()
    if resolved in _loaded_files:
        return []
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    name = f"cragru_plugin_{resolved.stem}_{digest}"
    before = set(METHODS)
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a plug-in's own error, told in one line with its place
        del sys.modules[name]
        for added in set(METHODS) - before:  # nothing half-registered stays behind
            del METHODS[added]
        raise ConfigError(f"method plug-in {file.name!r} failed{_where(exc, resolved)}: {exc}") from None
    _loaded_files[resolved] = name
    remember_files([str(resolved)])
    return sorted(set(METHODS) - before)


def _where(exc: BaseException, file: Path) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == file]
    return f" at line {frames[-1].lineno}" if frames else ""


def remembered_files() -> list[str]:
    """The plug-in files named by ``CRAGRU_PLUGINS``."""
    return [p for p in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if p]


def remember_files(paths: list[str]) -> None:
    """Add ``paths`` to ``CRAGRU_PLUGINS`` (once each), so this process loads them with the
    installed plug-ins and Ray workers and child processes load them too."""
    known = remembered_files()
    extra = [p for p in dict.fromkeys(paths) if p not in known]
    if extra:
        os.environ[PLUGINS_ENV] = os.pathsep.join(known + extra)


def _register_loaded(value: Any) -> None:
    """What an entry point gives: a module (it registered itself), a spec, or a function
    returning a spec or several."""
    if callable(value) and not isinstance(value, MethodSpec):
        value = value()
    specs = [value] if isinstance(value, MethodSpec) else list(value) if isinstance(value, (list, tuple)) else []
    for spec in specs:
        if METHODS.get(spec.name) is not spec:
            register(spec)


def load_installed_plugins() -> None:
    """Every plug-in named by an entry point or by ``CRAGRU_PLUGINS``, once per process; a
    plug-in that fails is recorded in :data:`problems` and skipped, never fatal."""
    global _entry_points_done
    if _entry_points_done:
        return
    _entry_points_done = True
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            _register_loaded(point.load())
        except Exception as exc:  # noqa: BLE001 - one bad plug-in must not stop the others
            problems.append(f"method plug-in {point.name!r} ({point.value}) not loaded: {exc}")
    for path in remembered_files():
        try:
            load_plugin_file(path)
        except ConfigError as exc:
            problems.append(str(exc))
