"""Output files of a run: checked before any computation, and never lost after it.

:func:`check_writable` fails at once for a missing folder, a folder given as the file, or
a path that cannot be written, so a long run never ends unable to save. Should writing
still fail afterwards (disk full, a folder removed mid-run), :func:`write_or_fallback`
saves the file under the app's data folder (or the temporary folder) and says where.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from core.errors import ConfigError


def check_writable(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path once it is known that a file can be written there."""
    text = str(path)
    if not text.strip():
        raise ConfigError(f"{what}: the file name is empty")
    target = Path(text).expanduser()
    if target.is_dir():
        raise ConfigError(f"{what} {target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise ConfigError(f"{what} {target}: the folder {target.parent} does not exist")
    existed = target.exists()
    try:
        with open(target, "ab"):
            pass
    except OSError as exc:
        raise ConfigError(f"{what} {target} cannot be written: {exc.strerror or exc}") from None
    if not existed:
        target.unlink(missing_ok=True)
    return target


def fallback_path(name: str) -> Path:
    """Where a file that could not be written goes: ``<data dir>/unsaved/<name>``, or the
    temporary folder when that cannot be created."""
    from core.paths import data_dir

    try:
        folder = data_dir() / "unsaved"
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder / name
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / name


def write_or_fallback(
    path: str | os.PathLike, write: Callable[[Path], object], what: str, fallback_name: str
) -> tuple[Path, str | None]:
    """Call ``write(path)``; when it fails, ``write(fallback)``. Returns (where it went,
    a warning naming both, or None). A failure of both raises :class:`ConfigError`."""
    try:
        write(Path(path))
        return Path(path), None
    except OSError as exc:
        first = exc
    spare = fallback_path(fallback_name)
    try:
        write(spare)
    except OSError as exc:
        raise ConfigError(
            f"{what} could not be written to {path} ({first.strerror or first}) nor to {spare} ({exc.strerror or exc})"
        ) from None
    return spare, f"{what} could not be written to {path} ({first.strerror or first}); saved to {spare} instead"
