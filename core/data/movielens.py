"""MovieLens folders in GroupLens' own layouts: 100K (``u.data``), 1M (``ratings.dat``)
and the CSV releases (``ratings.csv`` + ``movies.csv``: latest-small, 20M, 25M, 32M).

Titles lose their "(1995)" suffix, which becomes the ``year`` column, so prompts and
tables can show both without parsing again.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.csv_loader import RawData, read_delimited

ML100K_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]
# ML-1M README: users.dat occupation codes
ML1M_OCCUPATIONS = [
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
]
_NO_GENRE = {"unknown", "(no genres listed)", ""}
_INTER = ["user", "item", "rating", "timestamp"]
_YEAR_SUFFIX = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")


def split_title_year(titles: pd.Series) -> tuple[list[str], list]:
    """ "Toy Story (1995)" → ("Toy Story", 1995); no year → (title, NaN)."""
    names, years = [], []
    for title in titles.fillna("").astype(str):
        match = _YEAR_SUFFIX.match(title)
        names.append(match.group(1).strip() if match else title.strip())
        years.append(int(match.group(2)) if match else np.nan)
    return names, years


def _interactions(path: Path, sep: str) -> pd.DataFrame:
    return read_delimited(
        path,
        sep=sep,
        names=_INTER,
        id_columns=["user", "item"],
        numeric_columns=["rating"],
        time_columns=["timestamp"],
    )


# -- MovieLens-100K -----------------------------------------------------------------------
def load_ml100k(folder: Path) -> RawData:
    """``u.data`` plus, when present, ``u.item`` / ``u.genre`` and ``u.user``."""
    frame = _interactions(folder / "u.data", "\t")
    items = _ml100k_items(folder) if (folder / "u.item").is_file() else None
    users = _ml100k_users(folder / "u.user") if (folder / "u.user").is_file() else None
    return RawData(frame, items, users)


def _ml100k_genre_names(folder: Path) -> list[str]:
    path = folder / "u.genre"
    if not path.is_file():
        return ML100K_GENRES
    table = read_delimited(
        path,
        sep="|",
        names=["name", "index"],
        encoding="latin-1",
        id_columns=["name"],
        numeric_columns=["index"],
    )
    return list(table.sort_values("index")["name"])


def _ml100k_items(folder: Path) -> pd.DataFrame:
    genres = _ml100k_genre_names(folder)
    flags = [f"genre{i}" for i in range(len(genres))]
    table = read_delimited(
        folder / "u.item",
        sep="|",
        encoding="latin-1",
        names=["item", "title", "release", "video", "url", *flags],
        id_columns=["item"],
        text_columns=["title", "release", "video", "url"],
        numeric_columns=flags,
    )
    titles, years = split_title_year(table["title"])
    release_years = pd.to_numeric(table["release"].str[-4:], errors="coerce")
    years = [y if y == y else (int(r) if r == r else np.nan) for y, r in zip(years, release_years)]
    on = table[flags].to_numpy() != 0
    names = np.asarray(genres, dtype=object)
    genre_lists = [[g for g in names[row] if g not in _NO_GENRE] for row in on]
    return _item_meta(table["item"], titles, years, genre_lists)


def _ml100k_users(path: Path) -> pd.DataFrame:
    table = read_delimited(
        path,
        sep="|",
        encoding="latin-1",
        names=["user", "age", "gender", "occupation", "zip"],
        id_columns=["user"],
        text_columns=["gender", "occupation", "zip"],
        numeric_columns=["age"],
    )
    return table.set_index("user")[["age", "gender", "occupation"]]


# -- MovieLens-1M -------------------------------------------------------------------------
def load_ml1m(folder: Path) -> RawData:
    """``ratings.dat`` plus, when present, ``movies.dat`` and ``users.dat`` (``::`` separated)."""
    frame = _interactions(folder / "ratings.dat", "::")
    items = _ml1m_items(folder / "movies.dat") if (folder / "movies.dat").is_file() else None
    users = _ml1m_users(folder / "users.dat") if (folder / "users.dat").is_file() else None
    return RawData(frame, items, users)


def _ml1m_items(path: Path) -> pd.DataFrame:
    table = read_delimited(
        path,
        sep="::",
        encoding="latin-1",
        names=["item", "title", "genres"],
        id_columns=["item"],
        text_columns=["title", "genres"],
    )
    return _titled_genres(table, "|")


def _ml1m_users(path: Path) -> pd.DataFrame:
    table = read_delimited(
        path,
        sep="::",
        encoding="latin-1",
        names=["user", "gender", "age", "occupation", "zip"],
        id_columns=["user"],
        text_columns=["gender", "zip"],
        numeric_columns=["age", "occupation"],
    )
    codes = table["occupation"].astype(int)
    table["occupation"] = [ML1M_OCCUPATIONS[c] if 0 <= c < len(ML1M_OCCUPATIONS) else f"code {c}" for c in codes]
    table["age"] = table["age"].astype(int)  # the README's bracket codes: 1, 18, 25, ... 56
    return table.set_index("user")[["age", "gender", "occupation"]]


# -- MovieLens CSV releases ------------------------------------------------------------------
def load_ml_csv(folder: Path) -> RawData:
    """``ratings.csv`` (userId,movieId,rating,timestamp) plus ``movies.csv`` when present."""
    frame = read_delimited(
        folder / "ratings.csv",
        sep=",",
        header=True,
        quoted=True,
        id_columns=["userId", "movieId"],
        numeric_columns=["rating"],
        time_columns=["timestamp"],
    )
    frame = frame.rename(columns={"userId": "user", "movieId": "item"})
    items = None
    if (folder / "movies.csv").is_file():
        table = read_delimited(
            folder / "movies.csv",
            sep=",",
            header=True,
            quoted=True,
            id_columns=["movieId"],
            text_columns=["title", "genres"],
        )
        items = _titled_genres(table.rename(columns={"movieId": "item"}), "|")
    return RawData(frame[_INTER], items, None)


def _titled_genres(table: pd.DataFrame, sep: str) -> pd.DataFrame:
    titles, years = split_title_year(table["title"])
    genre_lists = [
        [g for g in str(gs).split(sep) if g not in _NO_GENRE] if isinstance(gs, str) else [] for gs in table["genres"]
    ]
    return _item_meta(table["item"], titles, years, genre_lists)


def _item_meta(ids: pd.Series, titles: list, years: list, genres: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "title": pd.Series(titles, dtype=object),
            "year": pd.Series(years, dtype=object),
            "genres": pd.Series(genres, dtype=object),
        }
    ).set_index(pd.Index(ids.astype(str).to_numpy(), name="item"))
