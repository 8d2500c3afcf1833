"""What a method really cost: set-up + request against retraining, both speed-ups.

A method that prepares once (pre-training, shards, clusters, an LLM) and then answers a
request in milliseconds is fast *per request* and possibly slow *in all*: both figures
are always told together, and a cost whose total exceeds retraining's is never called
good (issue 13, PROTOCOL.md "Cost").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping

from core.reporting.numbers import SPEEDUP, format_seconds, format_value, is_finite


@dataclass(frozen=True)
class Cost:
    """One model's times (seconds) and its speed-ups against retraining in the same run."""

    setup_s: float
    request_s: float
    retrain_s: float | None  # retraining's time for this request (None: no retraining in the run)
    speedup_request: float | None  # retrain_s / request_s
    speedup_incl_setup: float | None  # retrain_s / (setup_s + request_s)
    break_even_requests: int | None  # requests after which set-up has paid for itself (None: never / n.a.)

    @property
    def total_s(self) -> float:
        return self.setup_s + self.request_s

    @property
    def exceeds_retraining(self) -> bool:
        """True when set-up + this request took longer than retraining did."""
        return self.retrain_s is not None and self.total_s > self.retrain_s

    def as_dict(self) -> dict:
        return {**asdict(self), "total_s": self.total_s}


def speedup(retrain_s: float | None, seconds: float) -> float | None:
    """``retrain_s / seconds``; None without retraining or for a zero time."""
    if not is_finite(retrain_s) or not is_finite(seconds) or seconds <= 0:
        return None
    return float(retrain_s) / float(seconds)


def cost_of(reports: Mapping, name: str) -> Cost:
    """The cost of model ``name`` among a run's ``reports`` (name → ModelReport)."""
    report = reports[name]
    retrain = reports.get("retrain")
    retrain_s = float(retrain.time_s + retrain.prep_time_s) if retrain is not None else None
    setup, request = float(report.prep_time_s or 0.0), float(report.time_s or 0.0)
    saved = (retrain_s - request) if retrain_s is not None else None
    break_even = None
    if saved is not None and saved > 0 and setup > 0:
        break_even = max(1, math.ceil(setup / saved))
    return Cost(setup, request, retrain_s, speedup(retrain_s, request), speedup(retrain_s, setup + request), break_even)


def cost_text(cost: Cost) -> str:
    """``set-up 2.00 s + request 0.50 s = 2.50 s; retraining 8.00 s (3.2× incl. set-up, 16.0× per request)``."""
    text = (
        f"set-up {format_seconds(cost.setup_s)} + this request {format_seconds(cost.request_s)} = "
        f"{format_seconds(cost.total_s)}"
    )
    if cost.retrain_s is None:
        return text + "; no retraining in this run to compare with"
    return (
        text + f"; retraining {format_seconds(cost.retrain_s)} (speed-up "
        f"{format_value(SPEEDUP, cost.speedup_incl_setup)} including set-up, "
        f"{format_value(SPEEDUP, cost.speedup_request)} per request)"
    )
