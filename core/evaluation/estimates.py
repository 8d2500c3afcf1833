"""The two shapes a stored 95 % interval takes, as plain data with their JSON beside them.

``Bounds(low, high)``: a figure's own interval (stored ``[low, high]``). ``Estimate(value,
low, high)``: a paired difference or an agreement mean with its interval (stored ``[v, lo, hi]``).
A bootstrap :class:`core.evaluation.bootstrap.Interval` also carries ``n``; results keep only
what their files have always held. A NaN is written as ``null`` and read back as NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.numbers import is_finite


def stored_number(value) -> float:
    """A stored number as read (an int stays an int, so it is written back the same); null → NaN."""
    return math.nan if value is None else value


@dataclass(frozen=True)
class Bounds:
    """A 95 % interval ``low``..``high`` (NaN when the figure could not be measured)."""

    low: float
    high: float

    @property
    def finite(self) -> bool:
        return is_finite(self.low) and is_finite(self.high)

    def to_json(self) -> list[float]:
        return [self.low, self.high]

    @classmethod
    def from_json(cls, raw) -> "Bounds":
        low, high = raw
        return cls(stored_number(low), stored_number(high))


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % interval: a paired difference, an agreement mean."""

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, interval) -> "Estimate":
        """From a bootstrap ``Interval`` (its ``n`` is not kept), as floats."""
        return cls(float(interval.value), float(interval.low), float(interval.high))

    @property
    def finite(self) -> bool:
        return is_finite(self.value) and is_finite(self.low) and is_finite(self.high)

    @property
    def bounds(self) -> Bounds:
        return Bounds(self.low, self.high)

    def to_json(self) -> list[float]:
        return [self.value, self.low, self.high]

    @classmethod
    def from_json(cls, raw) -> "Estimate":
        value, low, high = raw
        return cls(stored_number(value), stored_number(low), stored_number(high))
