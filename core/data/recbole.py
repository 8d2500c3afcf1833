"""RecBole atomic files: ``<name>.inter`` with sibling ``<name>.item`` / ``<name>.user``.

Tab-separated, with typed headers such as ``user_id:token`` or ``genre:token_seq``; a
``token_seq`` value is a space-separated list. Lets people bring any dataset RecBole
has already converted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.data.csv_loader import RawData, read_delimited, read_header
from core.errors import DatasetError

_USER = ("user_id", "uid", "user")
_ITEM = ("item_id", "iid", "item", "movie_id", "artist_id", "track_id", "business_id")
_RATING = ("rating", "weight", "score")
_TIMESTAMP = ("timestamp",)
_TITLE = ("movie_title", "title", "name", "item_name")
_YEAR = ("release_year", "year")
_GENRES = ("genre", "genres", "class", "categories")


def find_inter(path: Path) -> Path | None:
    """The ``.inter`` file for a path: itself, ``<folder>/<folder>.inter``, or the only one."""
    if path.is_file():
        return path if path.suffix == ".inter" else None
    named = path / f"{path.name}.inter"
    if named.is_file():
        return named
    found = sorted(path.glob("*.inter"))
    return found[0] if len(found) == 1 else None


class _Header:
    """A typed header: base names ("user_id") mapped to full names ("user_id:token")."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.line, self.full = read_header(path, "\t")
        self.base: dict[str, str] = {}
        self.types: dict[str, str] = {}
        for full in self.full:
            base, _, kind = full.partition(":")
            if base in self.base:
                raise DatasetError(f"duplicated header column {base!r}", str(path), self.line)
            self.base[base] = full
            self.types[base] = kind

    def find(self, names: tuple[str, ...]) -> str | None:
        return next((n for n in names if n in self.base), None)

    def need(self, names: tuple[str, ...], role: str) -> str:
        found = self.find(names)
        if found is None:
            raise DatasetError(
                f"missing column: no {role} column (looked for {', '.join(names)}); "
                f"the header has: {', '.join(self.full)}",
                str(self.path),
                self.line,
            )
        return found


def load_recbole(path: Path) -> RawData:
    """The ``.inter`` file plus, when present, ``.item`` and ``.user`` metadata of the same stem."""
    inter = find_inter(path)
    if inter is None:
        raise DatasetError("no .inter file here (RecBole atomic files)", str(path))
    head = _Header(inter)
    user, item = head.need(_USER, "user ID"), head.need(_ITEM, "item ID")
    rating, stamp = head.find(_RATING), head.find(_TIMESTAMP)
    full = head.base
    table = read_delimited(
        inter,
        sep="\t",
        header=True,
        id_columns=[full[user], full[item]],
        numeric_columns=[full[rating]] if rating else [],
        time_columns=[full[stamp]] if stamp else [],
    )
    roles = {"user": user, "item": item, "rating": rating, "timestamp": stamp}
    frame = pd.DataFrame({r: table[full[b]].to_numpy() for r, b in roles.items() if b})
    item_file, user_file = inter.with_suffix(".item"), inter.with_suffix(".user")
    items = _items(item_file, item) if item_file.is_file() else None
    users = _users(user_file, user) if user_file.is_file() else None
    return RawData(frame, items, users)


def _items(path: Path, item: str) -> pd.DataFrame:
    head = _Header(path)
    key = head.need((item, *_ITEM), "item ID")
    title, year, genres = head.find(_TITLE), head.find(_YEAR), head.find(_GENRES)
    full = head.base
    texts = [full[c] for c in (title, year, genres) if c]
    table = read_delimited(path, sep="\t", header=True, id_columns=[full[key]], text_columns=texts)
    meta = pd.DataFrame(index=pd.Index(table[full[key]].to_numpy(), name="item"))
    if title:
        meta["title"] = table[full[title]].fillna("").to_numpy(dtype=object)
    if year:
        years = pd.to_numeric(table[full[year]], errors="coerce")
        meta["year"] = pd.Series([int(y) if y == y else y for y in years], dtype=object).to_numpy()
    if genres:
        seq = head.types[genres] == "token_seq"
        meta["genres"] = [
            (g.split() if seq else [g.strip()]) if isinstance(g, str) and g.strip() else [] for g in table[full[genres]]
        ]
    return meta


def _users(path: Path, user: str) -> pd.DataFrame:
    head = _Header(path)
    key = head.need((user, *_USER), "user ID")
    wanted = [c for c in ("age", "gender", "occupation") if c in head.base]
    full = head.base
    table = read_delimited(
        path,
        sep="\t",
        header=True,
        id_columns=[full[key]],
        text_columns=[full[c] for c in wanted if c != "age"],
    )
    meta = pd.DataFrame(index=pd.Index(table[full[key]].to_numpy(), name="user"))
    for column in wanted:
        values = table[full[column]]
        if column == "age":
            values = pd.to_numeric(values, errors="coerce")
        meta[column] = values.to_numpy()
    return meta
