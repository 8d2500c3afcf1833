"""Where the real datasets live: they are never in the repository (their licences forbid it).

``CRAGRU_DATA_DIR`` points at a folder holding ``ml-100k/``, ``ml-1m/`` and
``hetrec2011-lastfm-2k/``; without it we look in ``shared/data`` beside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import DatasetError

REAL_DATASETS = ("ml-100k", "ml-1m", "hetrec2011-lastfm-2k")


def shared_data_dir() -> Path:
    """Folder holding the real datasets: ``$CRAGRU_DATA_DIR`` or ``<checkout>/../shared/data``."""
    env = os.environ.get("CRAGRU_DATA_DIR")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data"


def real_dataset_path(name: str) -> Path:
    """Folder of one real dataset; a clear error when it is not there (e.g. on CI)."""
    if name not in REAL_DATASETS:
        raise DatasetError(f"unknown real dataset {name!r}; known: {', '.join(REAL_DATASETS)}")
    path = shared_data_dir() / name
    if not path.is_dir():
        raise DatasetError(
            f"{name} is not installed here: set CRAGRU_DATA_DIR to the folder holding {'/, '.join(REAL_DATASETS)}/",
            str(path),
        )
    return path
