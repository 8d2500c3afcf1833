"""On-disk cache of trained base models, keyed by what determines their weights.

Key = dataset fingerprint + split config + model config + device type + code version;
any change gives a new key, so a stale model is never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch

import core
from core.paths import cache_dir


def cache_key(*parts: dict | str) -> str:
    text = json.dumps([core.__version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_path(key: str, kind: str = "models") -> Path:
    folder = cache_dir() / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.pt"


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
