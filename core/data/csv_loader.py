"""Delimited text reading shared by every format, and the generic CSV/TSV format.

pandas' C parser does the work; only when it fails, or a value does not convert, is the
file scanned line by line to name the first bad line (1-based, as an editor counts), so
good files pay nothing for the error reporting.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from core.errors import DatasetError
from core.safe_text import cut
from core.safe_text import quoted as _quoted
from core.special_files import refuse_special

MAX_COLUMNS = 1000
"""More columns than this is not an interaction table (and would cost memory for nothing)."""
_JOINED_SEP = "\x1f"  # stands in for a multi-character separator such as "::"
_SNIFF_SEPS = ("\t", ",", ";", "|", " ")
_ROLES = ("user", "item", "rating", "timestamp")
_BOM = b"\xef\xbb\xbf"
_COMPRESSED = (  # magic bytes → the format's name and the command that unpacks it
    (b"\x1f\x8b", "gzip-compressed", "gunzip FILE"),
    (b"PK\x03\x04", "a ZIP archive", "unzip FILE"),
    (b"BZh", "bzip2-compressed", "bunzip2 FILE"),
    (b"\xfd7zXZ\x00", "xz-compressed", "unxz FILE"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "unzstd FILE"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "7z x FILE"),
)
_ALIASES = {  # header names (lower case, without _ - or spaces) accepted without a mapping
    "user": ("user", "userid", "uid"),
    "item": ("item", "itemid", "iid", "movieid", "movie", "artistid"),
    "rating": ("rating", "ratings", "score", "weight"),
    "timestamp": ("timestamp", "time", "ts", "date", "datetime"),
}


class RawData(NamedTuple):
    """What a format reader returns: raw-ID interactions plus optional metadata by raw ID."""

    frame: pd.DataFrame  # user, item[, rating, timestamp]
    item_meta: pd.DataFrame | None = None
    user_meta: pd.DataFrame | None = None


# -- low-level reading, used by every format ---------------------------------------------
def require_file(path: Path) -> None:
    """A plain text file: a named pipe or device is refused before it is opened, a
    compressed file or binary data is named as such (its bytes are never echoed)."""
    refuse_special(path, "the data file", DatasetError)
    if not path.exists():
        raise DatasetError("file not found", str(path))
    if not path.is_file():
        raise DatasetError("expected a file, found a folder", str(path))
    with open(path, "rb") as fh:
        start = fh.read(4096)
    for magic, kind, command in _COMPRESSED:
        if start.startswith(magic):
            raise DatasetError(
                f"the file is {kind}, not a text table; unpack it first ({command}) and try again", str(path)
            )
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or start.count(b"\x00") > len(start) // 4:
        raise DatasetError(
            "the file is UTF-16 (or another two-byte encoding); save it as UTF-8 and try again", str(path)
        )
    controls = sum(start.count(bytes([b])) for b in (*range(0, 9), 11, 14, *range(15, 32), 127))
    if controls > max(8, len(start) // 50):
        raise DatasetError(
            "the file is not a text table (it holds binary data); give a CSV, TSV or dataset folder", str(path)
        )


def _text_lines(raw: bytes, encoding: str) -> list[str]:
    # split on "\n" only: str.splitlines would also break on latin-1 byte 0x85
    return [line.rstrip("\r") for line in raw.decode(encoding, errors="replace").split("\n")]


def _split(line: str, sep: str, quoted: bool) -> list[str]:
    """Fields of one line; a quoted field beyond the csv module's limit is ValueError."""
    if quoted:
        try:
            return next(csv.reader([line], delimiter=sep), [])
        except csv.Error as exc:
            raise ValueError(f"a field is too long to read ({exc})") from None
    return line.split(sep)


def _is_blank(line: str, sep: str) -> bool:
    return not line.strip() and sep not in line


def read_header(path: Path, sep: str, *, encoding: str = "utf-8", quoted: bool = False) -> tuple[int, list[str]]:
    """(line number, stripped names) of the first non-blank line; a repeated name is an error."""
    require_file(path)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if number == 1:
                line = line.removeprefix("\ufeff")  # a UTF-8 byte-order mark (Excel's "CSV UTF-8")
            if _is_blank(line, sep):
                continue
            try:
                names = [n.strip() for n in _split(line, sep, quoted)]
            except ValueError as exc:
                raise DatasetError(f"cannot read the header: {exc}", str(path), number) from None
            if len(names) > MAX_COLUMNS:
                raise DatasetError(
                    f"the header has {len(names)} columns; at most {MAX_COLUMNS} are read", str(path), number
                )
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise DatasetError(f"duplicated header column {_quoted(name)}", str(path), number)
                seen.add(name)
            return number, names
    raise DatasetError("file is empty", str(path))


def read_delimited(
    path: Path,
    *,
    sep: str,
    names: Sequence[str] | None = None,
    header: bool = False,
    encoding: str = "utf-8",
    quoted: bool = False,
    id_columns: Sequence[str] = (),
    text_columns: Sequence[str] = (),
    numeric_columns: Sequence[str] = (),
    time_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Parse a delimited file with pandas' C engine; every problem is reported at its line.

    ``header=True`` takes the names from the file's first non-blank line; otherwise
    ``names`` says how many fields each line must have. ``id_columns`` are non-empty
    strings, ``numeric_columns`` become numbers, ``time_columns`` become Unix seconds
    (numbers or dates).
    """
    path = Path(path)
    require_file(path)
    raw = path.read_bytes().removeprefix(_BOM)
    if not raw.strip():
        raise DatasetError("file is empty", str(path))
    skip: list[int] = []
    if header:
        header_line, names = read_header(path, sep, encoding=encoding, quoted=quoted)
        skip = [header_line - 1]
        wanted = [*id_columns, *numeric_columns, *time_columns]
        missing = [name for name in wanted if name not in names]
        if missing:
            raise DatasetError(
                f"missing column {', '.join(map(repr, missing))}; the header has: {_names(names)}",
                str(path),
                header_line,
            )
    names = list(names or [])
    try:
        frame, ctx = _parse(path, raw, sep, names, skip, header, encoding, quoted, set(id_columns) | set(text_columns))
    except UnicodeDecodeError:
        if encoding == "latin-1":
            raise
        return read_delimited(
            path,
            sep=sep,
            names=names,
            header=header,
            encoding="latin-1",
            quoted=quoted,
            id_columns=id_columns,
            text_columns=text_columns,
            numeric_columns=numeric_columns,
            time_columns=time_columns,
        )
    for name in id_columns:
        bad = frame[name].isna()
        if bad.any():
            ctx.raise_at_row(int(bad.to_numpy().argmax()), f"{name} is empty")
    for name in numeric_columns:
        frame[name] = ctx.numbers(frame[name], name)
    for name in time_columns:
        frame[name] = ctx.seconds(frame[name], name)
    return frame


def _parse(
    path: Path,
    raw: bytes,
    sep: str,
    names: list[str],
    skip: list[int],
    header: bool,
    encoding: str,
    quoted: bool,
    text: set[str],
) -> tuple[pd.DataFrame, "_Context"]:
    """pandas' C parser over the bytes, every field-count problem reported at its line."""
    ctx = _Context(path, raw, sep, header, encoding, quoted, len(names))
    data, pd_sep = raw, sep
    if len(sep) > 1:
        data, pd_sep = raw.replace(sep.encode(encoding), _JOINED_SEP.encode()), _JOINED_SEP
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=pd_sep,
            header=None,
            skiprows=skip,
            engine="c",
            encoding=encoding,
            dtype={i: str for i, n in enumerate(names) if n in text},
            quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
            keep_default_na=False,
            na_values=[""],
            low_memory=False,  # one type per column, not one per chunk
        )
    except pd.errors.EmptyDataError:
        raise DatasetError("file is empty: it has a header but no data lines", str(path)) from None
    except pd.errors.ParserError as exc:
        ctx.raise_field_count()
        raise DatasetError(f"cannot parse the file: {cut(str(exc), 200)}", str(path)) from None
    if frame.shape[1] != len(names) or frame.iloc[:, -1].isna().any():
        ctx.raise_field_count()
    if frame.shape[1] != len(names):  # not found by the scan: report it without a line
        raise DatasetError(f"expected {len(names)} fields per line, found {frame.shape[1]}", str(path))
    frame.columns = names
    if frame.empty:
        raise DatasetError("file is empty: it has a header but no data lines", str(path))
    return frame, ctx


class _Context:
    """A parsed file's bytes and options, kept to locate a problem only once one is seen."""

    def __init__(self, path, raw, sep, header, encoding, quoted, n_fields) -> None:
        self.path, self.raw, self.sep, self.header = path, raw, sep, header
        self.encoding, self.quoted, self.n_fields = encoding, quoted, n_fields

    def _data_lines(self):
        """(line number, text) of each line pandas turns into a row."""
        seen_header = not self.header
        for number, line in enumerate(_text_lines(self.raw, self.encoding), start=1):
            if _is_blank(line, self.sep):
                continue
            if not seen_header:
                seen_header = True
                continue
            yield number, line

    def raise_field_count(self) -> None:
        for number, line in self._data_lines():
            try:
                found = len(_split(line, self.sep, self.quoted))
            except ValueError as exc:
                raise DatasetError(str(exc), str(self.path), number) from None
            if found != self.n_fields:
                raise DatasetError(
                    f"expected {self.n_fields} fields, found {found} (fields are separated by {self.sep!r})",
                    str(self.path),
                    number,
                )

    def raise_at_row(self, row: int, problem: str) -> None:
        for i, (number, _) in enumerate(self._data_lines()):
            if i == row:
                raise DatasetError(problem, str(self.path), number)
        raise DatasetError(problem, str(self.path))

    def _raise_first(self, original: pd.Series, bad: pd.Series, name: str, what: str) -> None:
        row = int(bad.to_numpy().argmax())
        value = original.iloc[row]
        shown = "" if pd.isna(value) else str(value)
        problem = f"{name} is empty" if not shown.strip() else f"{name} {_quoted(shown)} is not {what}"
        self.raise_at_row(row, problem)

    def numbers(self, column: pd.Series, name: str) -> pd.Series:
        converted = column if pd.api.types.is_numeric_dtype(column) else pd.to_numeric(column, errors="coerce")
        bad = converted.isna() | ~np.isfinite(converted.astype("float64"))  # inf is no rating
        if bad.any():
            self._raise_first(column, bad, name, "a finite number")
        return converted

    def seconds(self, column: pd.Series, name: str) -> pd.Series:
        """Unix seconds from numbers or dates (any date pandas parses, 9999-12-31 included);
        NaN, a value that is neither, or seconds beyond 64 bits are refused at their line."""
        if pd.api.types.is_numeric_dtype(column):
            converted = column
        else:
            converted = pd.to_numeric(column, errors="coerce")
            missing = converted.isna()
            if missing.any():
                converted = converted.fillna(_date_seconds(column[missing]))
        bad = converted.isna() | ~(converted.astype("float64").abs() < 2.0**63)  # beyond int64: overflow
        if bad.any():
            self._raise_first(column, bad, name, "a number or a date within 64-bit seconds")
        return converted.round().astype("int64")


def _date_seconds(values: pd.Series) -> pd.Series:
    """Dates as Unix seconds (NaN where a value is no date); a date beyond pandas'
    nanosecond range (9999-12-31) comes back as its seconds, for the range check to name."""
    try:
        dates = pd.to_datetime(values, errors="coerce", utc=True)
        return _as_seconds(dates)
    except (ValueError, OverflowError, TypeError):  # OutOfBoundsDatetime despite errors="coerce"
        return pd.Series([_one_date(v) for v in values], index=values.index, dtype="float64")


def _as_seconds(dates: pd.Series) -> pd.Series:
    if hasattr(dates.dt, "as_unit"):
        dates = dates.dt.as_unit("s")
        return dates.astype("int64").where(dates.notna()).astype("float64")
    epoch = pd.Timestamp(0, tz="UTC")
    return ((dates - epoch) // pd.Timedelta(seconds=1)).astype("float64")


def _one_date(value) -> float:
    try:
        return float(_as_seconds(pd.Series(pd.to_datetime([value], errors="coerce", utc=True))).iloc[0])
    except (ValueError, OverflowError, TypeError):
        return float("nan")


# -- the generic CSV / TSV format ------------------------------------------------------
def sniff_sep(path: Path, encoding: str = "utf-8") -> str:
    """The separator that splits the first lines into the same number (> 1) of fields."""
    require_file(path)
    with open(path, encoding=encoding, errors="replace") as fh:
        lines = [line.rstrip("\r\n") for _, line in zip(range(50), fh)]
    lines = [line for line in lines if line.strip()][:20]
    if not lines:
        raise DatasetError("file is empty", str(path))
    best, best_count = ",", 0
    for sep in _SNIFF_SEPS:
        try:
            counts = {len(_split(line, sep, sep != " ")) for line in lines}
        except ValueError:  # a field over the csv limit: not this separator
            continue
        if len(counts) == 1 and (n := counts.pop()) > best_count and n > 1:
            best, best_count = sep, n
    return best


def _names(names: list[str], shown: int = 20) -> str:
    """A header for a message: at most ``shown`` names, each cut and escaped."""
    text = ", ".join(cut(n, 40) for n in names[:shown])
    return text + (f" … ({len(names)} columns)" if len(names) > shown else "")


def _normalise(name: str) -> str:
    base = name.split(":", 1)[0]  # RecBole-style "user_id:token"
    return "".join(ch for ch in base.lower() if ch not in "_- ")


def _auto_roles(header: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for role in _ROLES:
        for name in header:
            if _normalise(name) in _ALIASES[role]:
                found[role] = name
                break
    return found


def _looks_numeric(values: list[str]) -> bool:
    try:
        [float(v) for v in values]
    except ValueError:
        return False
    return True


def load_csv(path: Path, *, columns: dict | None = None, sep: str | None = None) -> RawData:
    """Interactions from a CSV/TSV file, columns chosen by ``columns`` or by their header names.

    A file whose first line is all numbers has no header: its fields are taken as
    user, item[, rating[, timestamp]] unless ``columns`` gives positions (ints).
    """
    path = Path(path)
    require_file(path)
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(_ROLES))
    if unknown:
        raise DatasetError(
            f"unknown column role {unknown[0]!r} in the column mapping (use {', '.join(_ROLES)})",
            str(path),
        )
    sep = sep or sniff_sep(path)
    quoted = sep != " "
    line_no, header = read_header(path, sep, quoted=quoted)
    positional = bool(columns) and all(isinstance(c, int) for c in columns.values())
    if positional or (not columns and not _auto_roles(header) and _looks_numeric(header[:2])):
        return _load_positional(path, sep, quoted, len(header), columns)
    mapped = set(columns.values())
    roles = {r: n for r, n in _auto_roles(header).items() if n not in mapped}
    for role, name in columns.items():
        if name not in header:
            raise DatasetError(
                f"missing column {_quoted(name)} (mapped to {role}); the header has: {_names(header)}",
                str(path),
                line_no,
            )
        roles[role] = name
    for role in ("user", "item"):
        if role not in roles:
            looked = ", ".join(_ALIASES[role])
            raise DatasetError(
                f"missing column: no {role} column (looked for {looked}); the header has: "
                f"{_names(header)} — give a column mapping",
                str(path),
                line_no,
            )
    frame = read_delimited(
        path,
        sep=sep,
        header=True,
        quoted=quoted,
        id_columns=[roles["user"], roles["item"]],
        numeric_columns=[roles["rating"]] if "rating" in roles else [],
        time_columns=[roles["timestamp"]] if "timestamp" in roles else [],
    )
    out = pd.DataFrame({role: frame[name].to_numpy() for role, name in roles.items()})
    extra = [name for name in header if name not in set(roles.values())]
    return RawData(out[[r for r in _ROLES if r in out]], user_meta=profile_columns(frame, roles["user"], extra))


MAX_PROFILE_COLUMNS = 50
"""Extra columns kept as user profile at most (a wide export keeps its first fifty)."""


def profile_columns(frame: pd.DataFrame, user: str, names: Sequence[str]) -> pd.DataFrame | None:
    """The extra columns that hold one value per user (age, gender, country …), by raw user ID.

    A column that varies within a user's rows describes the interaction, not the person, and
    is left out, as is one with no value at all; the breakdown by attribute (issue 25) reads
    what is kept."""
    if not names:
        return None
    ids = frame[user].astype(str)
    kept = {}
    for name in list(names)[:MAX_PROFILE_COLUMNS]:
        values = frame[name]
        if values.isna().all():
            continue
        per_user = values.groupby(ids)
        if (per_user.nunique(dropna=True) <= 1).all():
            kept[name] = per_user.first()
    return pd.DataFrame(kept) if kept else None


def _load_positional(path: Path, sep: str, quoted: bool, n_fields: int, columns: dict) -> RawData:
    roles = columns or dict(zip(_ROLES, range(min(n_fields, 4))))
    for role, pos in roles.items():
        if not 0 <= pos < n_fields:
            raise DatasetError(
                f"missing column: position {pos} given for {role}, but lines have {n_fields} fields",
                str(path),
            )
    if "user" not in roles or "item" not in roles:
        raise DatasetError("the column mapping must give both user and item", str(path))
    names = [f"field {i + 1}" for i in range(n_fields)]
    for role, pos in roles.items():
        names[pos] = f"{role} (field {pos + 1})"
    frame = read_delimited(
        path,
        sep=sep,
        names=names,
        quoted=quoted,
        id_columns=[names[roles["user"]], names[roles["item"]]],
        numeric_columns=[names[roles["rating"]]] if "rating" in roles else [],
        time_columns=[names[roles["timestamp"]]] if "timestamp" in roles else [],
    )
    out = pd.DataFrame({role: frame[names[pos]].to_numpy() for role, pos in roles.items()})
    return RawData(out[[r for r in _ROLES if r in out]])
