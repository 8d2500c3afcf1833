"""Turning an LLM's free-text answer into a ranking of the candidates it was given.

Small models write broken JSON, invent IDs, repeat themselves and stop early. The
parser accepts ``{"ranking": [ids]}``, a bare ``[ids]`` list or the paper's
``{"id": score}`` object, anywhere in the text (code fences and chatter around it are
ignored). Unknown IDs are dropped, duplicates removed and missing candidates appended
in base order, so the result is always a permutation of the candidates; the counts say
how much repair was needed. ``lenient=True`` salvages known IDs from text that is not
JSON at all (the last resort before falling back to the base order).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class ParsedRanking:
    """``order``: candidate positions, best first (always a full permutation)."""

    order: np.ndarray
    ok: bool  # a usable answer was found (at least one known ID)
    n_known: int = 0
    n_unknown: int = 0
    n_duplicates: int = 0
    n_missing: int = 0
    salvaged: bool = False

    @property
    def complete(self) -> bool:
        return self.ok and self.n_unknown == 0 and self.n_duplicates == 0 and self.n_missing == 0


MAX_ANSWER_CHARS = 100_000  # a generated answer longer than this is read up to here


def _json_values(text: str):
    """Every JSON object or array that decodes, in order of appearance (NaN/Infinity
    refused; nesting too deep for the decoder ends the search: such text holds no ranking)."""
    decoder = json.JSONDecoder(parse_constant=_no_constant)
    text = text[:MAX_ANSWER_CHARS]
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except RecursionError:
            return
        except ValueError:
            continue
        yield value


def _no_constant(name: str):
    raise ValueError(f"{name} is not a score")


def _ids_from_value(value) -> list[str] | None:
    """The ranked IDs a decoded JSON value holds, or None when it holds no ranking."""
    if isinstance(value, dict):
        for key in ("ranking", "rank", "ranked", "recommendations", "ids", "items", "movies"):
            if key in value and isinstance(value[key], list):
                return [_as_id(v) for v in value[key]]
        scored = []
        for position, (key, score) in enumerate(value.items()):
            try:
                number = float(score)
            except (TypeError, ValueError):
                return None
            if not math.isfinite(number) or isinstance(score, bool):
                return None
            scored.append((-number, position, str(key).strip()))
        return [key for _, _, key in sorted(scored)] if scored else None
    if isinstance(value, list):
        return [_as_id(v) for v in value]
    return None


def _as_id(value) -> str:
    if isinstance(value, dict):  # [{"id": 12, ...}, ...]
        for key in ("id", "ID", "item", "item_id", "movie_id"):
            if key in value:
                return _as_id(value[key])
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_ranking(text: str, candidate_ids: list[str], *, lenient: bool = False) -> ParsedRanking:
    """Parse ``text`` into a permutation of ``range(len(candidate_ids))``."""
    n = len(candidate_ids)
    index = {str(c).strip(): k for k, c in enumerate(candidate_ids)}
    found: list[str] | None = None
    for value in _json_values(text or ""):
        ids = _ids_from_value(value)
        if ids and any(i in index for i in ids):
            found = ids
            break
    salvaged = False
    if found is None and lenient:
        found = [t for t in _TOKEN.findall(text or "") if t in index]
        salvaged = bool(found)
    if not found:
        return ParsedRanking(order=np.arange(n, dtype=np.int64), ok=False, n_missing=n)
    order: list[int] = []
    seen: set[int] = set()
    unknown = duplicates = 0
    for raw in found:
        k = index.get(raw)
        if k is None:
            unknown += 1
        elif k in seen:
            duplicates += 1
        else:
            seen.add(k)
            order.append(k)
    known = len(order)
    missing = [k for k in range(n) if k not in seen]
    return ParsedRanking(
        order=np.asarray(order + missing, dtype=np.int64),
        ok=True,
        n_known=known,
        n_unknown=unknown if not salvaged else 0,
        n_duplicates=duplicates,
        n_missing=len(missing),
        salvaged=salvaged,
    )
