"""Output files of a run: checked before any computation, and never lost after it.

:func:`check_writable` fails at once for a missing folder, a folder given as the file, a
special file (a named pipe would block the final write forever) or a path that cannot be
written, so a long run never ends unable to save; :func:`check_folder` does the same for
an output folder. Every write goes to a temporary file beside the target, renamed over it
once complete (:func:`atomic_write`): the target is either the old file or the whole new
one, never a truncated one. Should writing still fail (disk full, a folder removed
mid-run), :func:`write_or_fallback` saves the file under the app's data folder (or the
temporary folder) and says where.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from core.errors import ConfigError
from core.special_files import refuse_special


def check_writable(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path once it is known that a file can be written there."""
    text = str(path)
    if not text.strip():
        raise ConfigError(f"{what}: the file name is empty")
    target = Path(text).expanduser()
    refuse_special(target, what)
    if target.is_dir():
        raise ConfigError(f"{what} {target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise ConfigError(f"{what} {target}: the folder {target.parent} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise ConfigError(f"{what} {target} cannot be written: the file is read-only")
    probe = target.with_name(f".{target.name}.probe-{os.getpid()}")
    try:  # the folder must take a new file: the result is written beside the target, then renamed
        with open(probe, "xb"):
            pass
    except OSError as exc:
        raise ConfigError(f"{what} {target} cannot be written: {exc.strerror or exc}") from None
    finally:
        probe.unlink(missing_ok=True)
    return target


def check_folder(path: str | os.PathLike, what: str) -> Path:
    """An output folder: an existing writable folder, or one that can be created (its
    parent exists and is writable). A file, a special file or a missing parent is refused."""
    text = str(path)
    if not text.strip():
        raise ConfigError(f"{what}: the folder name is empty")
    folder = Path(text).expanduser()
    refuse_special(folder, what)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{what} {folder} is a file; give a folder (it holds several files)")
    where = folder if folder.is_dir() else folder.parent
    if not where.is_dir():
        raise ConfigError(f"{what} {folder}: the folder {where} does not exist")
    if not os.access(where, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {folder} cannot be written: {where} is read-only")
    return folder


def _partial_name(target: Path) -> Path:
    """The temporary file beside ``target``: same suffix (writers choose the format by it)."""
    return target.with_name(f".{target.stem}.partial-{os.getpid()}{target.suffix}")


TEXT_SUFFIXES = (".json", ".html", ".htm", ".csv", ".tsv", ".svg", ".txt", ".md", ".log")
"""Outputs that are text: passed through :func:`core.redact.redact` before they are renamed
into place, so no key or URL password is ever written (a PDF is built from the same,
already redacted, run data)."""


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """``write(temporary)`` then rename it to ``path``; on failure the temporary file is
    removed and ``path`` is left as it was. A writer that changes the suffix (an HTML report
    asked for as ``.txt``) returns the path it wrote: that file is renamed to ``path`` with
    its suffix. Returns the final path."""
    target = Path(path)
    refuse_special(target, "the output")
    partial = _partial_name(target)
    written = partial
    try:
        returned = write(partial)
        if isinstance(returned, (str, os.PathLike)) and Path(returned) != partial and Path(returned).is_file():
            written, target = Path(returned), target.with_suffix(Path(returned).suffix)
        _redact_file(written)
        os.replace(written, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        if written != partial:
            written.unlink(missing_ok=True)
        raise
    return target


def _redact_file(path: Path) -> None:
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return
    from core.redact import redact

    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    clean = redact(text)
    if clean != text:
        path.write_text(clean, encoding="utf-8", errors="surrogateescape")


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Text written whole or not at all (UTF-8)."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


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
    """``write`` to ``path`` atomically; when that fails, to the fallback. Returns (where it
    went, a warning naming both, or None). A failure of both raises :class:`ConfigError`."""
    try:
        return atomic_write(path, write), None
    except (OSError, ConfigError) as exc:
        first = exc
    spare = fallback_path(fallback_name)
    try:
        atomic_write(spare, write)
    except OSError as exc:
        raise ConfigError(
            f"{what} could not be written to {path} ({_reason(first)}) nor to {spare} ({exc.strerror or exc})"
        ) from None
    return spare, f"{what} could not be written to {path} ({_reason(first)}); saved to {spare} instead"


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc)
