"""A sweep's grid (TOML) expanded into cells: one ordinary experiment each.

::

    requests = ["users:random:{0.05,0.1}", "items:random:0.02"]
    seeds = [0, 1]            # or a count: 2 → 0, 1
    mia = false               # any run setting: device, mia, similar_top_n, ks, references
    [data]                    # DataConfig fields
    path = "demo"
    [split]                   # SplitConfig fields (the seed comes from ``seeds``)
    mode = "random"
    [[models]]                # base models: ModelConfig fields
    name = "bpr"
    epochs = 5
    [[methods]]
    name = "finetune"
    params = { epochs = [1, 3] }   # a list expands into one variant per value

Every seed sets the split, the request's draw and the model's seed at once, as
``cragru-run --seed`` does, so a cell equals ``cragru-run`` with the same settings.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

from core.config import DataConfig, ExperimentConfig, MethodChoice
from core.errors import ConfigError
from core.forget_request import ForgetRequest
from core.models.base import ModelConfig, model_config
from core.safe_text import cut
from core.special_files import refuse_special
from core.split import SplitConfig
from core.sweeps.grid_check import MAX_CELLS, check_grid

RUN_KEYS = ("device", "mia", "similar_top_n", "ks", "use_cache", "references")
GRID_KEYS = {"label", "requests", "seeds", "data", "split", "models", "methods", *RUN_KEYS}
_BRACES = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Cell:
    """One experiment of a sweep and where it sits on the grid."""

    cell_id: str  # stable across reruns: readable prefix + hash of the configuration
    config: ExperimentConfig
    method: str  # the method's registered name (the model whose figures the cell is about)
    variant: str  # method name with its swept parameters, e.g. ``finetune(epochs=3)``
    request: str  # ``kind:selector`` (a series), the value is ``size``
    size: float
    seed: int
    model: str

    @property
    def series(self) -> tuple[str, str, str]:
        """What one line of a plot holds fixed: method variant, base model, request kind."""
        return (self.variant, self.model, self.request)


@dataclass(frozen=True)
class Grid:
    label: str
    cells: tuple[Cell, ...]


def expand_braces(text: str) -> list[str]:
    """``users:random:{0.01,0.02}`` → ``["users:random:0.01", "users:random:0.02"]``."""
    parts = _BRACES.split(text)
    literal, choices = parts[0::2], [[c.strip() for c in p.split(",") if c.strip()] for p in parts[1::2]]
    out = []
    for picked in itertools.product(*choices):
        out.append("".join(lit + (picked[i] if i < len(picked) else "") for i, lit in enumerate(literal)))
    return out


def _variants(entry: dict) -> list[MethodChoice]:
    if "name" not in entry:
        raise ConfigError("every [[methods]] entry needs a name")
    unknown = set(entry) - {"name", "params"}
    if unknown:
        raise ConfigError(f"[[methods]] {entry['name']}: unknown keys {sorted(unknown)} (use params = {{...}})")
    params = dict(entry.get("params", {}))
    names = sorted(params)
    values = [v if isinstance(v, list) else [v] for v in (params[n] for n in names)]
    return [MethodChoice(entry["name"], dict(zip(names, combo))) for combo in itertools.product(*values)]


def _variant_label(choice: MethodChoice, swept: set[str]) -> str:
    shown = {k: v for k, v in choice.params.items() if k in swept}
    return choice.name + (f"({', '.join(f'{k}={v}' for k, v in shown.items())})" if shown else "")


def _seeds(raw) -> list[int]:
    if isinstance(raw, int):
        return list(range(raw))
    if isinstance(raw, list) and raw and all(isinstance(s, int) for s in raw):
        return list(raw)
    raise ConfigError(f"seeds must be a count or a list of integers, got {raw!r}")


def _build(cls, raw: dict, what: str, make=None):
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"[{what}] has no field {', '.join(sorted(unknown))}; it takes {', '.join(sorted(known))}")
    try:
        if "ratios" in raw:
            raw = {**raw, "ratios": tuple(raw["ratios"])}
        return (make or cls)(**raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[{what}]: {str(exc)[:200]}") from None


def _cell_id(config: ExperimentConfig, variant: str, request: str, seed: int, model: str) -> str:
    digest = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:8]
    readable = re.sub(r"[^A-Za-z0-9.=_-]+", "-", f"{model}_s{seed}_{request}_{variant}").strip("-")
    return f"{readable}_{digest}"


def grid_from_dict(raw: dict, max_cells: int = MAX_CELLS) -> Grid:
    """The cells of a parsed grid: models × seeds × requests × method variants. The grid is
    checked first (:func:`core.sweeps.grid_check.check_grid`: types, ranges, the cell count
    against ``max_cells``), so nothing is expanded from a grid that is refused."""
    from core.methods.registry import get_method

    check_grid(raw, max_cells)
    requests = [text for pattern in raw.get("requests", []) for text in expand_braces(pattern)]
    methods = raw.get("methods", [])
    if not requests or not methods:
        raise ConfigError("a grid needs at least one entry in requests and one [[methods]]")
    data = _build(DataConfig, dict(raw.get("data", {})), "data")
    split = _build(SplitConfig, dict(raw.get("split", {})), "split")
    models = [_build(ModelConfig, dict(m), "models", make=model_config) for m in raw.get("models", [{}])]
    run = {k: (tuple(raw[k]) if k == "ks" else raw[k]) for k in RUN_KEYS if k in raw}
    base = replace(ExperimentConfig(data=data, split=split, label=raw.get("label", "")), **run)
    cells = []
    for model, seed, text in itertools.product(models, _seeds(raw.get("seeds", 1)), requests):
        request = ForgetRequest.parse(text, seed=seed)
        for entry in methods:
            swept = {k for k, v in entry.get("params", {}).items() if isinstance(v, list)}
            for choice in _variants(entry):
                get_method(choice.name).validate(choice.params, demo=data.is_demo)  # cross-field checks
                config = replace(
                    base,
                    split=replace(split, seed=seed),
                    model=replace(model, seed=seed),
                    request=request,
                    methods=(choice,),
                )
                config.validate()
                variant, kind = _variant_label(choice, swept), f"{request.kind}:{request.selector}"
                cells.append(
                    Cell(
                        _cell_id(config, variant, text, seed, model.name),
                        config,
                        choice.name,
                        variant,
                        kind,
                        request.fraction,
                        seed,
                        model.name,
                    )
                )
    ids = [c.cell_id for c in cells]
    if len(set(ids)) != len(ids):
        raise ConfigError("the grid lists the same cell twice (a request, method or seed repeated?)")
    return Grid(raw.get("label", ""), tuple(cells))


MAX_GRID_BYTES = 1 << 20
"""A grid file larger than this is not a grid."""


def load_grid(path: str | Path, max_cells: int = MAX_CELLS) -> Grid:
    """Read, check and expand a TOML grid; errors name the file. A named pipe or a device
    is refused before it is opened (reading one would block or never end)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the project's Python 3.10 path
        import tomli as tomllib
    refuse_special(path, "the grid")
    try:
        if Path(path).is_dir():
            raise ConfigError(f"the grid {path} is a folder; give the TOML file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_GRID_BYTES + 1)
        if len(data) > MAX_GRID_BYTES:
            raise ConfigError(f"the grid {path} is larger than {MAX_GRID_BYTES >> 20} MB; refused")
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read the grid {path}: not UTF-8 text (byte {exc.start})") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the grid {path}: {cut(str(exc), 200)}") from None
    return grid_from_dict(raw, max_cells)
