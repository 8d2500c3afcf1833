"""A sweep grid checked before anything is expanded or run: every key's TOML type, every
value through the same :class:`~core.params.ParamSpec` that builds the window's forms, and
the number of cells counted from the grid's shape (braces and lists counted, never
materialised), against a limit that ``--max-cells`` raises.

A grid of ``seeds = 1000000`` or braces that would expand to millions of requests is then
one line naming the count, not a process that expands it until it is killed.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields
from typing import Any

from core.config import RUN_PARAMS, DataConfig
from core.errors import ConfigError
from core.models.base import MODEL_PARAMS, ModelConfig
from core.params import MAX_SEED, ParamSpec
from core.safe_text import quoted
from core.split import SPLIT_PARAMS, SplitConfig

MAX_CELLS = 2000
"""Cells a grid may expand to unless ``--max-cells`` says more."""
MAX_SEED_COUNT = 1000
_BRACES = re.compile(r"\{([^{}]*)\}")
_TOML_TYPES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def typed(value: Any, kind: type, where: str) -> None:
    """``value`` must have the TOML type ``kind`` asks for (no ``"no"`` for a boolean, no
    ``true`` for a count)."""
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(kind, True)
    if not ok:
        shown = quoted(value if isinstance(value, str) else repr(value), 40)
        raise ConfigError(f"{where} must be {_TOML_TYPES.get(kind, kind.__name__)}, got {_type_name(value)} {shown}")


def spec_value(spec: ParamSpec, value: Any, where: str) -> None:
    """Type, then range and choices, of one value through its spec."""
    typed(value, spec.type, where)
    try:
        spec.coerce(value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _table(raw: dict, key: str, default: Any) -> Any:
    value = raw.get(key, default)
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table (key = value lines), got {_type_name(value)}")
    return value


def _tables(raw: dict, key: str, default: list) -> list:
    value = raw.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{key} must be an array of tables ([[{key}]] entries), got {_type_name(value)}")
    return value


def _fields(section: dict, cls: type, specs: tuple[ParamSpec, ...], what: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"[{what}] has no field {', '.join(unknown)}; it takes {', '.join(sorted(known))}")
    by_name = {s.name: s for s in specs}
    for name, value in section.items():
        if name in by_name:
            spec_value(by_name[name], value, f"[{what}] {name}")


def check_data(section: dict) -> None:
    from core.data.loaders import check_data_config

    _fields(section, DataConfig, (), "data")
    for name, kind in (("path", str), ("fmt", str), ("sep", str), ("k_core", int)):
        if name in section:
            typed(section[name], kind, f"[data] {name}")
    if "implicit_threshold" in section:
        typed(section["implicit_threshold"], float, "[data] implicit_threshold")
    if "columns" in section and not isinstance(section["columns"], dict):
        raise ConfigError(f"[data] columns must be a table, got {_type_name(section['columns'])}")
    check_data_config(DataConfig(**section), "[data] ")


def seed_count(raw: Any) -> int:
    """How many seeds ``seeds`` names: a count from 1, or a non-empty list of seeds."""
    if isinstance(raw, bool) or not isinstance(raw, (int, list)):
        raise ConfigError(f"seeds must be a count (1..{MAX_SEED_COUNT}) or a list of seeds, got {_type_name(raw)}")
    if isinstance(raw, int):
        if not 1 <= raw <= MAX_SEED_COUNT:
            raise ConfigError(f"seeds = {raw}: a count must be in 1..{MAX_SEED_COUNT} (or give a list of seeds)")
        return raw
    if not raw:
        raise ConfigError("seeds = []: give at least one seed")
    for seed in raw:
        typed(seed, int, "each of seeds")
        if not 0 <= seed <= MAX_SEED:
            raise ConfigError(f"seeds: {seed} is outside 0..{MAX_SEED}")
    if len(set(raw)) != len(raw):
        raise ConfigError("seeds lists the same seed twice")
    return len(raw)


def brace_count(pattern: str) -> int:
    """How many requests ``pattern`` expands to, without expanding it."""
    groups = _BRACES.findall(pattern)
    return math.prod(max(1, len([c for c in g.split(",") if c.strip()])) for g in groups)


def _requests(raw: dict) -> int:
    value = raw.get("requests", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'requests must be a list of strings such as "users:random:0.05", got {_type_name(value)}')
    return sum(brace_count(p) for p in value)


def _variants(entry: dict, index: int) -> int:
    """Variants of one [[methods]] entry, its parameters checked against the method's specs."""
    from core.methods.registry import get_method

    name = entry.get("name")
    if not isinstance(name, str):
        raise ConfigError(f'[[methods]] entry {index + 1} needs name = "…" (a string)')
    unknown = set(entry) - {"name", "params"}
    if unknown:
        raise ConfigError(f"[[methods]] {name}: unknown keys {sorted(unknown)} (use params = {{...}})")
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise ConfigError(
            f"[[methods]] {name}: params must be a table such as {{ epochs = [1, 3] }}, got {_type_name(params)}"
        )
    spec = get_method(name)
    by_name = {p.name: p for p in spec.params}
    count = 1
    for key, value in params.items():
        if key not in by_name:
            raise ConfigError(f"method {name!r} has no parameter {key!r}; it takes {', '.join(sorted(by_name))}")
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ConfigError(f"[[methods]] {name}: params.{key} = [] has no value to try")
        for v in values:
            spec_value(by_name[key], v, f"[[methods]] {name}: params.{key}")
        count *= len(values)
    return count


def check_grid(raw: dict, max_cells: int = MAX_CELLS) -> int:
    """Check a parsed grid; returns its cell count. Raises ConfigError (one line) on the
    first problem, before any expansion."""
    from core.sweeps.grid import GRID_KEYS

    if not isinstance(raw, dict):
        raise ConfigError("a grid is a TOML table")
    unknown = set(raw) - GRID_KEYS
    if unknown:
        raise ConfigError(f"the grid has unknown keys {sorted(unknown)}; known: {sorted(GRID_KEYS)}")
    if "label" in raw:
        typed(raw["label"], str, "label")
    run_specs = {s.name: s for s in RUN_PARAMS}
    for key in ("device", "mia", "use_cache", "similar_top_n"):
        if key in raw:
            spec_value(run_specs[key], raw[key], key)
    if "ks" in raw:
        ks = raw["ks"]
        if not isinstance(ks, (list, tuple)) or not ks:
            raise ConfigError(f"ks must be a non-empty list of cut-offs such as [5, 10, 20], got {_type_name(ks)}")
        for k in ks:
            typed(k, int, "each of ks")
            if not 1 <= k <= 10_000:
                raise ConfigError(f"ks: {k} is outside 1..10000")
    check_data(_table(raw, "data", {}))
    split = _table(raw, "split", {})
    _fields(split, SplitConfig, SPLIT_PARAMS, "split")
    ratios = split.get("ratios", [0.8, 0.1, 0.1])
    if not isinstance(ratios, (list, tuple)) or len(ratios) != 3:
        raise ConfigError(
            f"[split] ratios must be a list of three shares (train, valid, test), got {_type_name(ratios)}"
        )
    for share in ratios:
        typed(share, float, "[split] each of ratios")
    models = _tables(raw, "models", [{}])
    for model in models:
        _fields(model, ModelConfig, MODEL_PARAMS, "models")
    methods = _tables(raw, "methods", [])
    n_requests, n_seeds = _requests(raw), seed_count(raw.get("seeds", 1))
    if not n_requests or not methods:
        raise ConfigError("a grid needs at least one entry in requests and one [[methods]]")
    n_variants = sum(_variants(entry, i) for i, entry in enumerate(methods))
    cells = max(1, len(models)) * n_seeds * n_requests * n_variants
    if cells > max_cells:
        raise ConfigError(
            f"the grid expands to {cells:,} cells ({len(models)} model(s) × {n_seeds:,} seed(s) × {n_requests:,} "
            f"request(s) × {n_variants:,} method variant(s)); the limit is {max_cells:,}: shrink the grid, "
            "or raise the limit with --max-cells"
        )
    return cells
