"""Where the app keeps its files: run history, model cache, settings (via platformdirs).

``CRAGRU_HOME`` overrides the data folder and ``CRAGRU_CACHE_DIR`` the cache folder, so
tests and CI never touch a user's real history.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "cragru-studio"


def data_dir() -> Path:
    path = Path(os.environ.get("CRAGRU_HOME") or platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(create: bool = True) -> Path:
    path = Path(os.environ.get("CRAGRU_CACHE_DIR") or platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def history_path() -> Path:
    return data_dir() / "runs.sqlite"
