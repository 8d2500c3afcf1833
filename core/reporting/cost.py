"""What a method really cost: set-up + request against retraining, both speed-ups.

A method that prepares once (pre-training, shards, clusters, an LLM) and then answers a
request in milliseconds is fast *per request* and possibly slow *in all*: both figures
are always told together, and a cost whose total exceeds retraining's is never called
good (issue 13, PROTOCOL.md "Cost").

Times are noisy (a shared machine, a cold file cache) and retraining's own cost varies with
its seed (early stopping ends it after more or fewer epochs). "What retraining costs" is
therefore a range: the run's retraining, the run's base model when this run trained it, and,
with a reference ensemble, every reference retraining's and reference base model's time when
first computed (:func:`core.reporting.references.training_times`). A total within that range widened by the **timing
tolerance** (:data:`TIMING_FLOOR_SHARE` of the fastest time below it, of the slowest above it;
at least :data:`TIMING_FLOOR_S`) is "about the same as retraining" — neither cheaper (pass) nor
dearer (fail): its own word. Cheaper means below the fastest training by more than the
tolerance; dearer, above the slowest by more than it. The widening is proportional, so a
training timed at a busy moment never makes an instant method "about the same".

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
    tolerance_s: float = 0.0  # the timing tolerance at retraining's own time (the range is widened in proportion)
    tolerance_from: str = ""  # how the range and tolerance were found (the words say it)
    retrain_low_s: float | None = None  # fastest measured retraining (the run's and the references')
    retrain_high_s: float | None = None  # slowest measured retraining
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
    def low_s(self) -> float:
        """Below this, cheaper than any training measured (beyond the timing noise)."""
        low = float(self.retrain_low_s if self.retrain_low_s is not None else self.retrain_s or 0.0)
        return max(0.0, min(low * (1 - TIMING_FLOOR_SHARE), low - TIMING_FLOOR_S))

    @property
    def high_s(self) -> float:
        """Above this, dearer than any training measured (beyond the timing noise)."""
        high = float(self.retrain_high_s if self.retrain_high_s is not None else self.retrain_s or 0.0)
        return max(high * (1 + TIMING_FLOOR_SHARE), high + TIMING_FLOOR_S)

    @property
    def cheaper(self) -> bool:
        """Set-up + request below the fastest retraining by more than the timing tolerance."""
        return self.retrain_s is not None and self.total_s < self.low_s

    @property
    def about_the_same(self) -> bool:
        """Set-up + request within the range of retraining times, widened by the timing tolerance."""
        return self.retrain_s is not None and self.low_s <= self.total_s <= self.high_s

    def as_dict(self) -> dict:
        return {**asdict(self), "total_s": self.total_s}


def speedup(retrain_s: float | None, seconds: float) -> float | None:
    """``retrain_s / seconds``; None without retraining or for a zero time."""
    if not is_finite(retrain_s) or not is_finite(seconds) or seconds <= 0:
        return None
    return float(retrain_s) / float(seconds)


def timing_range(retrain_s: float | None, reference_times: Sequence[float] = ()) -> tuple[float, float, float, str]:
    """``(fastest, slowest, tolerance at retraining's time, how)`` of every measured training time —
    the run's retraining and the other trainings it knows of (:func:`references.training_times`)."""
    if not is_finite(retrain_s):
        return 0.0, 0.0, 0.0, ""
    times = sorted([float(retrain_s)] + [float(t) for t in reference_times if is_finite(t) and t > 0])
    tol = max(TIMING_FLOOR_SHARE * float(retrain_s), TIMING_FLOOR_S)
    if len(times) == 1:
        how = f"± {TIMING_FLOOR_SHARE:.0%} of retraining's time; no other training timed"
    else:
        how = (
            f"{len(times)} trainings took {format_seconds(times[0])} to {format_seconds(times[-1])}, "
            f"± {TIMING_FLOOR_SHARE:.0%}"
        )
    return times[0], times[-1], tol, how


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
    low, high, tol, how = timing_range(retrain_s, reference_times)
    return Cost(
        setup,
        request,
        retrain_s,
        speedup(retrain_s, request),
        speedup(retrain_s, setup + request),
        break_even,
        tolerance_s=tol,
        tolerance_from=how,
        retrain_low_s=low if retrain_s is not None else None,
        retrain_high_s=high if retrain_s is not None else None,
        setup_this_run_s=this_run,
        setup_unknown=unknown,
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
        f"{format_value(SPEEDUP, cost.speedup_request)} per request); about the same as retraining from "
        f"{format_seconds(max(0.0, cost.low_s))} to {format_seconds(cost.high_s)} ({cost.tolerance_from})"
    )
