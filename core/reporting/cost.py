"""What a method really cost: set-up + request against retraining, both speed-ups.

A method that prepares once (pre-training, shards, clusters, an LLM) and then answers a
request in milliseconds is fast *per request* and possibly slow *in all*: both figures
are always told together, and a cost whose total exceeds retraining's is never called
good (issue 13, PROTOCOL.md "Cost").

Times are noisy (a shared machine, a cold file cache): two retrainings of the same rows
differ by seconds. A difference within the **timing tolerance** is "about the same as
retraining" — neither cheaper nor dearer. The tolerance is the spread of the measured
retraining times (the reference ensemble's retrainings beside the run's own) where there
are several, never below :data:`TIMING_FLOOR_SHARE` of retraining's time nor
:data:`TIMING_FLOOR_S`.

A set-up reused from a cache (a method's shards, CRAGRU's item clusters) cost this run
little, but the first run paid for it: the verdict judges the **first-time set-up**
(``extras["setup_first_s"]`` stands in for the ``extras["setup_cached_s"]`` this run spent
loading it) and says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

from core.reporting.numbers import SPEEDUP, format_seconds, format_value, is_finite

TIMING_FLOOR_SHARE = 0.5
"""Timing tolerance at least this share of retraining's time. Retraining's own cost varies by seed:
early stopping ends it after a different number of epochs (demo, users:random:0.05: model seed 0
stopped after 41 epochs in 4.8 s, seed 1000 after 58 epochs in 8.3 s, load 8), and judged on one
retraining's time a second retraining read 4 times "cheaper" and 5 times "dearer" over 9 runs
(issue 22). Within half a retraining a method is "about the same"."""
TIMING_FLOOR_S = 0.05
"""...and at least this many seconds (timer and scheduling noise of sub-second steps)."""


@dataclass(frozen=True)
class Cost:
    """One model's times (seconds) and its speed-ups against retraining in the same run."""

    setup_s: float  # set-up as judged: the first-time set-up when part of it came from a cache
    request_s: float
    retrain_s: float | None  # retraining's time for this request (None: no retraining in the run)
    speedup_request: float | None  # retrain_s / request_s
    speedup_incl_setup: float | None  # retrain_s / (setup_s + request_s)
    break_even_requests: int | None  # requests after which set-up has paid for itself (None: never / n.a.)
    tolerance_s: float = 0.0  # differences within this are timing noise ("about the same")
    tolerance_from: str = ""  # how the tolerance was found (the words say it)
    setup_this_run_s: float | None = None  # this run's set-up when part of it was reused from a cache
    setup_unknown: bool = False  # reused from a cache whose first-time cost was not recorded

    @property
    def total_s(self) -> float:
        return self.setup_s + self.request_s

    @property
    def from_cache(self) -> bool:
        return self.setup_this_run_s is not None

    @property
    def exceeds_retraining(self) -> bool:
        """True when set-up + this request took longer than retraining did."""
        return self.retrain_s is not None and self.total_s > self.retrain_s

    @property
    def about_the_same(self) -> bool:
        """Set-up + request within the timing tolerance of retraining's time."""
        return self.retrain_s is not None and abs(self.total_s - self.retrain_s) <= self.tolerance_s

    @property
    def cheaper(self) -> bool:
        """Set-up + request below retraining's time by more than the timing tolerance."""
        return self.retrain_s is not None and self.total_s < self.retrain_s - self.tolerance_s

    def as_dict(self) -> dict:
        return {**asdict(self), "total_s": self.total_s}


def speedup(retrain_s: float | None, seconds: float) -> float | None:
    """``retrain_s / seconds``; None without retraining or for a zero time."""
    if not is_finite(retrain_s) or not is_finite(seconds) or seconds <= 0:
        return None
    return float(retrain_s) / float(seconds)


def timing_tolerance(retrain_s: float | None, reference_times: Sequence[float] = ()) -> tuple[float, str]:
    """``(seconds, how)``: the spread (max − min) of every measured retraining time — the run's
    own and the reference ensemble's — floored by :data:`TIMING_FLOOR_SHARE` of retraining's time
    and :data:`TIMING_FLOOR_S`."""
    if not is_finite(retrain_s):
        return 0.0, ""
    floor = max(TIMING_FLOOR_SHARE * float(retrain_s), TIMING_FLOOR_S)
    times = [float(t) for t in reference_times if is_finite(t) and t > 0]
    if not times:
        return floor, f"floor: {TIMING_FLOOR_SHARE:.0%} of retraining's time, no other retraining timed"
    times.append(float(retrain_s))
    spread = max(times) - min(times)
    how = f"{len(times)} retrainings took {format_seconds(min(times))} to {format_seconds(max(times))}"
    return max(spread, floor), how + ("" if spread >= floor else f"; floor {TIMING_FLOOR_SHARE:.0%} of retraining's")


def first_setup(report) -> tuple[float, float | None, bool]:
    """``(set-up to judge, this run's set-up or None, first-time cost unknown)``: where part of
    the set-up came from a cache (``extras["setup_cached_s"]``), the time it took when first
    computed (``extras["setup_first_s"]``) replaces the time spent loading it."""
    setup = float(report.prep_time_s or 0.0)
    cached = report.extras.get("setup_cached_s")
    if not is_finite(cached):
        return setup, None, False
    first = report.extras.get("setup_first_s")
    if not is_finite(first) or first <= 0:
        return setup, setup, True
    return max(0.0, setup - float(cached)) + float(first), setup, False


def cost_of(reports: Mapping, name: str, reference_times: Sequence[float] = ()) -> Cost:
    """The cost of model ``name`` among a run's ``reports`` (name → ModelReport); ``reference_times``:
    the reference ensemble's retraining times (the timing noise), when the run has one."""
    report = reports[name]
    retrain = reports.get("retrain")
    retrain_s = float(retrain.time_s + retrain.prep_time_s) if retrain is not None else None
    setup, this_run, unknown = first_setup(report)
    request = float(report.time_s or 0.0)
    saved = (retrain_s - request) if retrain_s is not None else None
    break_even = None
    if saved is not None and saved > 0 and setup > 0:
        break_even = max(1, math.ceil(setup / saved))
    tol, how = timing_tolerance(retrain_s, reference_times)
    return Cost(
        setup,
        request,
        retrain_s,
        speedup(retrain_s, request),
        speedup(retrain_s, setup + request),
        break_even,
        tol,
        how,
        this_run,
        unknown,
    )


def cost_text(cost: Cost) -> str:
    """``set-up 2.00 s + request 0.50 s = 2.50 s; retraining 8.00 s (3.2× incl. set-up, 16.0× per request)``."""
    setup = "first-time set-up" if cost.from_cache and not cost.setup_unknown else "set-up"
    text = (
        f"{setup} {format_seconds(cost.setup_s)} + this request {format_seconds(cost.request_s)} = "
        f"{format_seconds(cost.total_s)}"
    )
    if cost.from_cache:
        text += f" (this run's set-up {format_seconds(cost.setup_this_run_s)}: part reused from cache)"
    if cost.retrain_s is None:
        return text + "; no retraining in this run to compare with"
    return (
        text + f"; retraining {format_seconds(cost.retrain_s)} (speed-up "
        f"{format_value(SPEEDUP, cost.speedup_incl_setup)} including set-up, "
        f"{format_value(SPEEDUP, cost.speedup_request)} per request); timing noise ±"
        f"{format_seconds(cost.tolerance_s)} ({cost.tolerance_from})"
    )
