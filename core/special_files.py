"""Paths that are not plain files or folders (a named pipe, a device, a socket) refused by
type before anything opens them: opening a FIFO for reading blocks until someone writes,
and reading a device such as /dev/zero never ends."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.errors import ConfigError

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_kind(path: str | os.PathLike) -> str | None:
    """What ``path`` is when it exists and is neither a plain file nor a folder, else None
    (symbolic links followed; a path that cannot be looked at is left to the caller)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None


def refuse_special(path: str | os.PathLike, what: str, error: type[Exception] = ConfigError) -> Path:
    """``path`` as a Path, or ``error`` naming ``what`` and the kind of file it is."""
    kind = special_kind(path)
    if kind is not None:
        from core.safe_text import quoted

        raise error(f"{what} {quoted(str(path))} is {kind}, not a regular file; refused (it could block forever)")
    return Path(path)
