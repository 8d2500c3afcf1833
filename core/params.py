"""Parameter specs: one typed, range-checked description of a setting.

Methods declare their parameters with :class:`ParamSpec`, and so do the base model
(:data:`core.models.base.MODEL_PARAMS`), the split (:data:`core.split.SPLIT_PARAMS`) and
the run (:data:`core.config.RUN_PARAMS`). The GUI builds every form from these specs and
each ``validate()`` checks its ranges through them, so a range is written once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from core.errors import ConfigError

PARAM_TYPES = (int, float, bool, str)
MAX_SEED = 2**31 - 1
"""Largest seed: every generator (numpy, torch) and every spin box takes it."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: the GUI makes a typed input with range and tooltip from it.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open`` say the bound itself
    is excluded (a learning rate must be above 0). ``choice_labels``, when given, are the
    words shown for ``choices`` (same order). ``demo``, when given, is the default on the
    built-in demo data (the demo preset: sized so every method runs live on a laptop CPU).
    """

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""
    choice_labels: tuple[str, ...] = ()
    low_open: bool = False
    high_open: bool = False
    demo: Any = None

    def default_for(self, demo: bool) -> Any:
        """The default of the demo preset (``demo``) or of the standard settings."""
        return self.demo if demo and self.demo is not None else self.default

    def coerce(self, value: Any) -> Any:
        """Convert and range-check ``value``; errors name the parameter and the range."""
        value = self._convert(value)
        if self.choices and value not in self.choices:
            raise ConfigError(f"parameter {self.name!r} must be one of {', '.join(self.choices)}, got {value!r}")
        if self.type in (int, float) and not self.in_range(value):
            raise ConfigError(f"parameter {self.name!r} must be in {self.range_text()}, got {value}")
        return value

    def _convert(self, value: Any) -> Any:
        try:
            if self.type is bool:
                if isinstance(value, str):
                    lowered = value.strip().lower()
                    if lowered not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError
                    return lowered in ("true", "1", "yes")
                return bool(value)
            if self.type is int:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                return int(value)
            if self.type is float:
                number = float(value)
                if not math.isfinite(number):
                    raise ConfigError(f"parameter {self.name!r} must be a finite number, got {value!r}")
                return number
            return str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"parameter {self.name!r} must be {self.type.__name__}, got {value!r}") from None

    def in_range(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        return True

    def range_text(self) -> str:
        """``[low, high]`` with ``(``/``)`` for excluded bounds and ∞ for missing ones."""
        low = "−∞" if self.low is None else self.low
        high = "∞" if self.high is None else self.high
        opening = "(" if self.low_open or self.low is None else "["
        closing = ")" if self.high_open or self.high is None else "]"
        return f"{opening}{low}, {high}{closing}"

    def choice_label(self, choice: str) -> str:
        """The word shown for ``choice`` (the choice itself when no labels are given)."""
        if self.choice_labels and choice in self.choices:
            return self.choice_labels[self.choices.index(choice)]
        return str(choice)


def spec_named(specs: Iterable[ParamSpec], name: str) -> ParamSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    raise KeyError(name)


def check_fields(specs: Iterable[ParamSpec], obj: Any, what: str) -> None:
    """Check every spec'd field of ``obj`` (a config dataclass); errors start with ``what``."""
    for spec in specs:
        try:
            spec.coerce(getattr(obj, spec.name))
        except ConfigError as exc:
            raise ConfigError(f"{what}: {exc}") from None
