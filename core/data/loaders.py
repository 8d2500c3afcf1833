"""One entry point, :func:`load_dataset`, for every format the app reads.

The format is guessed from the files present so a person can point at a folder and go;
filters run on raw IDs before the :class:`Dataset` is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from core.data.csv_loader import RawData, load_csv, read_delimited
from core.data.dataset import Dataset
from core.data.demo import demo_frames
from core.data.filters import apply_implicit_threshold, apply_k_core, drop_duplicate_pairs
from core.data.movielens import load_ml1m, load_ml100k, load_ml_csv
from core.data.paths import REAL_DATASETS, real_dataset_path
from core.data.recbole import find_inter, load_recbole
from core.errors import DatasetError
from core.special_files import refuse_special

FORMATS = ("auto", "ml-100k", "ml-1m", "ml-csv", "recbole", "lastfm", "csv")
# folder marker file → format, checked in this order
_MARKERS = (
    ("u.data", "ml-100k"),
    ("ratings.dat", "ml-1m"),
    ("user_artists.dat", "lastfm"),
    ("ratings.csv", "ml-csv"),
)
_CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".dat")
_LOOKED_FOR = (
    "u.data (MovieLens-100K), ratings.dat (MovieLens-1M), user_artists.dat (HetRec Last.fm), "
    "ratings.csv (MovieLens CSV), *.inter (RecBole), a single *.csv/*.tsv file"
)


def load_dataset(
    path: str,
    *,
    fmt: str = "auto",
    columns: dict | None = None,
    sep: str | None = None,
    implicit_threshold: float | None = None,
    k_core: int = 0,
    name: str | None = None,
) -> Dataset:
    """Read a dataset folder or file ("demo" for the built-in one), filter it, index it.

    ``implicit_threshold`` keeps ratings >= it (None: every rating counts, as in the
    CRAGRU paper); ``k_core`` keeps users and items with at least k interactions.
    A real dataset's name ("ml-100k", ...) that is not a path is looked up with
    :func:`real_dataset_path`.
    """
    if fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", path)
    text = str(path).strip()
    if not text:
        raise DatasetError("no dataset given: name a file or folder, or 'demo'")
    if text == "demo":
        raw, source, default_name = RawData(*demo_frames()), "demo", "demo"
    else:
        where = Path(text).expanduser()
        if not where.exists() and text in REAL_DATASETS:
            where = real_dataset_path(text)
        if not where.exists():
            raise DatasetError("no such file or folder", str(where))
        refuse_special(where, "--data", DatasetError)  # a named pipe would block, a device never end
        kind, target = detect_format(where, fmt, columns)
        raw, source = _READERS[kind](target, columns, sep), str(where)
        default_name = where.stem if where.is_file() else where.name
    frame = raw.frame
    if implicit_threshold is not None or k_core > 1:
        frame = drop_duplicate_pairs(frame)
        frame = apply_implicit_threshold(frame, implicit_threshold, source)
        frame = apply_k_core(frame, k_core, source)
    return Dataset.from_frame(
        frame, name or default_name, item_meta=raw.item_meta, user_meta=raw.user_meta, source=source
    )


def check_data_config(data, prefix: str = "") -> None:
    """The data settings' types and ranges, before anything is read: a known format, a
    k-core of 0 (off) or more, a finite threshold. ``prefix`` names where they came from
    (``--`` flags, a grid's ``[data]``)."""
    import math

    from core.errors import ConfigError

    if data.fmt not in FORMATS:
        raise ConfigError(f"{prefix}format {data.fmt!r} is not one of {', '.join(FORMATS)}")
    if isinstance(data.k_core, bool) or not isinstance(data.k_core, int) or not 0 <= data.k_core <= 1_000_000:
        raise ConfigError(f"{prefix}k-core must be 0 (off) or a positive count of interactions, got {data.k_core}")
    threshold = data.implicit_threshold
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold)
    ):
        raise ConfigError(f"{prefix}threshold must be a finite number, got {threshold!r}")


def detect_format(path: Path, fmt: str = "auto", columns: dict | None = None) -> tuple[str, Path]:
    """(format, path to hand its reader) for a file or folder; explains what was looked for."""
    if path.is_file():
        folder, marker = path.parent, path.name
        if fmt == "auto":
            fmt = dict(_MARKERS).get(marker, "recbole" if path.suffix == ".inter" else "csv")
            if columns and fmt != "recbole":
                fmt = "csv"
        return fmt, (path if fmt in ("csv", "recbole") else folder)
    if fmt not in ("auto", "csv", "recbole"):
        return fmt, path
    if fmt in ("auto", "recbole") and find_inter(path) is not None:
        return "recbole", path
    if fmt == "auto" and not columns:
        for marker, kind in _MARKERS:
            if (path / marker).is_file():
                return kind, path
    tables = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _CSV_SUFFIXES)
    if fmt in ("auto", "csv") and len(tables) == 1:
        return "csv", tables[0]
    raise DatasetError(f"unknown dataset format: looked for {_LOOKED_FOR}", str(path))


def load_lastfm(folder: Path) -> RawData:
    """HetRec 2011 Last.fm-2k: ``user_artists.dat`` play counts (as ratings), artist names."""
    plays = read_delimited(
        folder / "user_artists.dat",
        sep="\t",
        header=True,
        id_columns=["userID", "artistID"],
        numeric_columns=["weight"],
    )
    frame = pd.DataFrame({"user": plays["userID"], "item": plays["artistID"], "rating": plays["weight"]})
    items = None
    if (folder / "artists.dat").is_file():
        artists = read_delimited(
            folder / "artists.dat",
            sep="\t",
            header=True,
            id_columns=["id"],
            text_columns=["name", "url", "pictureURL"],
        )
        items = pd.DataFrame(
            {"title": artists["name"].fillna("").to_numpy(dtype=object)},
            index=pd.Index(artists["id"].to_numpy(), name="item"),
        )
    return RawData(frame, items, None)


_READERS: dict[str, Callable[[Path, dict | None, str | None], RawData]] = {
    "ml-100k": lambda p, c, s: load_ml100k(p),
    "ml-1m": lambda p, c, s: load_ml1m(p),
    "ml-csv": lambda p, c, s: load_ml_csv(p),
    "recbole": lambda p, c, s: load_recbole(p),
    "lastfm": lambda p, c, s: load_lastfm(p),
    "csv": lambda p, c, s: load_csv(p, columns=c, sep=s),
}
