"""The shape of a receipt, checked before anything reads it: a file that is too big, not JSON,
nested too deep, with a number out of range or a field of the wrong type is refused in one
line naming the field (``ReceiptShapeError``, exit 2), never an internal error deep inside
``verify``.

The schema is small and explicit: each field's type, and for numbers their range, for
strings and lists their length. Fields it does not name are allowed (the signature covers
them anyway) but still bound by the depth, size and number checks.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from core.errors import CragruError
from core.safe_text import quoted

MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
MAX_STR = 64 * 1024 * 1024  # the signed content (base64) of a receipt of a very large request
MAX_LIST = 20_000_000
MAX_INT = 10**15
HEX64 = "0123456789abcdef"


class ReceiptShapeError(CragruError):
    """The file is not a well-formed receipt (exit 2)."""


# (type, extra): type is one of str/int/float/bool/dict/list/"hex64"/"any"; for dict an inner schema
SUBJECTS = {
    "kind": ("str", 32),
    "description": ("str", 100_000),
    "forgotten_users": ("list", ("str", 10_000)),
    "n_removed_rows": ("int", (0, MAX_INT)),
    "request_sha256": ("hex64", None),
}
DATA = {"sha256": ("hex64", None), "source": ("str", 100_000), "files": ("list", ("dict", None))}
SIGNATURE = {
    "algorithm": ("str", 32),
    "public_key": ("str", 200),
    "key_fingerprint": ("str", 200),
    "content": ("str", MAX_STR),
    "value": ("str", 400),
}
REQUEST = {"kind": ("str", 32), "fraction": ("num", (0.0, 1.0)), "n_removed_rows": ("int", (0, MAX_INT))}
SCHEMA = {
    "receipt_version": ("int", (1, 99)),
    "run_id": ("str", 200),
    "dataset": ("str", 100_000),
    "data": ("dict", DATA),
    "request": ("dict", REQUEST),
    "subjects": ("dict", SUBJECTS),
    "verdicts": ("list", ("dict", None)),
    "config": ("dict", {"data": ("dict", {"path": ("str", 100_000)})}),
    "seeds": ("dict", None),
    "versions": ("dict", None),
    "models": ("dict", None),
    "signature": ("dict", SIGNATURE),
}
REQUIRED = ("receipt_version", "data", "subjects", "config")
REQUIRED_SIGNED = ("run_id", "request", "verdicts", "models", "signature")


def _refuse_constant(name: str):
    raise ReceiptShapeError(f"the receipt holds {name}, which is not a number JSON allows")


def load_receipt(path: str | os.PathLike) -> dict:
    """The receipt at ``path`` as a dict whose shape the schema allows."""
    from core.special_files import refuse_special

    path = refuse_special(path, "the receipt", ReceiptShapeError)
    try:
        size = Path(path).stat().st_size
        if size > MAX_BYTES:
            raise ReceiptShapeError(f"the receipt {quoted(str(path))} is {size:,} bytes (at most {MAX_BYTES:,})")
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReceiptShapeError(f"the receipt {quoted(str(path))} is not UTF-8 text") from None
    except OSError as exc:
        raise ReceiptShapeError(f"cannot read the receipt {quoted(str(path))}: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ReceiptShapeError(f"the receipt is nested deeper than JSON can be read (at most {MAX_DEPTH})") from None
    except ValueError as exc:
        if isinstance(exc, ReceiptShapeError):
            raise
        raise ReceiptShapeError(f"the receipt {quoted(str(path))} is not JSON ({exc})") from None
    check_shape(raw)
    return raw


def check_shape(raw) -> None:
    """Raise :class:`ReceiptShapeError` naming the first field out of shape."""
    if not isinstance(raw, dict):
        raise ReceiptShapeError(f"a receipt is a JSON object, this file holds {_kind(raw)}")
    _bounds(raw)
    for key in REQUIRED + (REQUIRED_SIGNED if "signature" in raw else ()):
        if key not in raw:
            raise ReceiptShapeError(f"the receipt has no {key!r} field")
    _check(raw, SCHEMA, "")


def _bounds(root) -> None:
    """Depth, sizes and numbers everywhere, without recursion (a hostile file can be deep)."""
    stack = [(root, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise ReceiptShapeError(f"the receipt is nested more than {MAX_DEPTH} levels deep (at {where or 'top'})")
        if isinstance(value, dict):
            if len(value) > MAX_LIST:
                raise ReceiptShapeError(f"field {where}: {len(value):,} entries (at most {MAX_LIST:,})")
            stack += [(v, depth + 1, f"{where}.{k}" if where else str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            if len(value) > MAX_LIST:
                raise ReceiptShapeError(f"field {where}: {len(value):,} entries (at most {MAX_LIST:,})")
            stack += [(v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value)]
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int) and abs(value) > MAX_INT:
            raise ReceiptShapeError(f"field {where}: a {len(str(abs(value)))}-digit number, out of range")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ReceiptShapeError(f"field {where}: {value} is not a finite number")
        elif isinstance(value, str) and len(value) > MAX_STR:
            raise ReceiptShapeError(f"field {where}: a text of {len(value):,} characters (at most {MAX_STR:,})")


def _kind(value) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "a text", list: "a list", dict: "an object"}[
        type(value)
    ]


def _check(obj: dict, schema: dict, prefix: str) -> None:
    for key, (kind, extra) in schema.items():
        if key not in obj or (obj[key] is None and key not in REQUIRED):
            continue
        _one(obj[key], kind, extra, f"{prefix}{key}")


def _one(value, kind: str, extra, where: str) -> None:
    wrong = f"field {where}: expected {{}}, found {_kind(value)}"
    if kind == "dict":
        if not isinstance(value, dict):
            raise ReceiptShapeError(wrong.format("an object"))
        if extra:
            _check(value, extra, where + ".")
    elif kind == "list":
        if not isinstance(value, list):
            raise ReceiptShapeError(wrong.format("a list"))
        inner_kind, inner_extra = extra
        for i, item in enumerate(value):
            _one(item, inner_kind, inner_extra, f"{where}[{i}]")
    elif kind in ("str", "hex64"):
        if not isinstance(value, str):
            raise ReceiptShapeError(wrong.format("a text"))
        if kind == "hex64" and (len(value) != 64 or value.strip(HEX64)):
            raise ReceiptShapeError(f"field {where}: not a SHA-256 (64 hex digits): {quoted(value)}")
        if kind == "str" and len(value) > extra:
            raise ReceiptShapeError(f"field {where}: {len(value):,} characters (at most {extra:,})")
    elif kind in ("int", "num"):
        ok = isinstance(value, int) if kind == "int" else isinstance(value, (int, float))
        if not ok or isinstance(value, bool):
            raise ReceiptShapeError(wrong.format("a whole number" if kind == "int" else "a number"))
        low, high = extra
        if not low <= value <= high:
            raise ReceiptShapeError(f"field {where}: {value} is out of range ({low} to {high})")
