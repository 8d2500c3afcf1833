"""On-disk cache of trained models, keyed by what determines their weights.

Key = dataset fingerprint + split config + model config + device type + code version;
any change gives a new key, so a stale model is never reused. Each entry written by
:func:`save_entry` carries its key and the SHA-256 of its payload: :func:`load_entry`
refuses (with a warning, never an exception) a file of another key, a damaged one or
one written before keys were stored, and the caller trains again. Writing the cache is
optional: a folder that cannot be written gives a warning, never a failed run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Hashable

import torch

import core
from core.paths import cache_dir


class MemoryCache:
    """Entries kept in this process beside the disk cache, so a rerun in the same window
    skips even the file: the ``limit`` most recently used, older ones dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
        return hit

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


def cache_key(*parts: dict | str) -> str:
    text = json.dumps([core.__version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_path(key: str, kind: str = "models") -> Path:
    """Where the entry ``key`` lives (the folder is created when it can be; a cache that
    cannot be written is found by :func:`cache_problem` and only warned about)."""
    folder = cache_dir(create=False) / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    return folder / f"{key}.pt"


def cache_problem() -> str | None:
    """Why the cache folder cannot be written (a sentence), or None when it can."""
    try:
        folder = cache_dir()
        fd, probe = tempfile.mkstemp(dir=folder, suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        where = exc.filename or os.environ.get("CRAGRU_CACHE_DIR") or "the cache folder"
        return f"the model cache {where} cannot be written ({exc.strerror or exc})"
    return None


def atomic_save(obj, path: Path) -> None:
    """Write to a temp file then rename: a crash never leaves a half-written cache entry."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


ENTRY_MAGIC = b"CRAGRU-CACHE 2\n"


def save_entry(path: Path, key: str, payload: Any, facts: dict | None = None) -> str | None:
    """Write ``payload`` (tensors and plain values) under ``key`` with its SHA-256 and
    ``facts`` (what the key was made of: shapes, sizes). Returns a warning when the file
    cannot be written (the run goes on without the cache), else None."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    header = {"key": key, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body), "facts": facts or {}}
    data = ENTRY_MAGIC + json.dumps(header, default=str).encode() + b"\n" + body
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        return f"cache entry {path.name} not saved ({exc.strerror or exc}); the run goes on without it"
    return None


def load_entry(path: Path, key: str, map_location: Any = "cpu") -> tuple[Any | None, str | None]:
    """``(payload, None)`` when ``path`` is the intact entry of ``key``; ``(None, warning)``
    when it exists but is another key's, damaged or unkeyed; ``(None, None)`` when absent."""
    if not path.is_file():
        return None, None
    refused = f"cache entry {path.name} not used"
    try:
        with open(path, "rb") as fh:
            if fh.readline() != ENTRY_MAGIC:
                return None, f"{refused}: it carries no key or checksum (an older or foreign file); training again"
            header = json.loads(fh.readline(65536))
            body = fh.read()
    except (OSError, ValueError) as exc:
        return None, f"{refused}: unreadable ({exc}); training again"
    if not isinstance(header, dict) or header.get("key") != key:
        other = str(header.get("key"))[:24] if isinstance(header, dict) else "?"
        return None, f"{refused}: it belongs to another key ({other}); training again"
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        return None, f"{refused}: its checksum does not match its contents (damaged or altered); training again"
    try:
        return torch.load(io.BytesIO(body), map_location=map_location, weights_only=True), None
    except Exception as exc:  # noqa: BLE001 - any unpickling problem means: do not use it
        return None, f"{refused}: unreadable ({type(exc).__name__}: {exc}); training again"
