"""One definition of "a number we can show": a base type the results and the reports share."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def is_finite(value: Any) -> bool:
    """True for a real, finite int or float (numpy scalars included); False for None, NaN,
    ±inf, booleans and anything that is not a number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return math.isfinite(float(value))
