"""Progress that moves: a heartbeat at least every two seconds during any step, and an ETA
from the measured rate of the current step that is never a frozen number."""

from __future__ import annotations

import time

import pytest

from core.events import HEARTBEAT_SECONDS, ProgressEvent, Reporter, StepRate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_eta_comes_from_the_current_steps_rate():
    clock = Clock()
    rate = StepRate(clock)
    clock.now += 10.0
    rate.update(0.5)  # a fast first step: half the run in 10 s
    rate.start_step()
    clock.now += 10.0
    rate.update(0.6)  # the current step: 0.1 in 10 s → 0.4 left takes 40 s
    assert rate.remaining() == pytest.approx(40.0)
    clock.now += 10.0  # stalled: nothing gained for 10 more seconds → slower rate, longer estimate
    assert rate.remaining() == pytest.approx(0.4 * 20.0 / 0.1)
    rate.update(1.0)
    assert rate.remaining() == 0.0


def test_no_estimate_before_anything_was_measured():
    clock = Clock()
    rate = StepRate(clock)
    assert rate.remaining() is None
    clock.now += 5.0
    rate.update(0.005)
    assert rate.remaining() is None  # under 1 % of the run: too little to extrapolate


def _slow_step(reporter: Reporter, seconds: float, fractions: bool) -> None:
    """A fake step that checks for cancel every 50 ms and moves (or not) its fraction."""
    start = time.monotonic()
    while (spent := time.monotonic() - start) < seconds:
        if fractions:
            reporter.progress(0.3 + 0.5 * spent / seconds, "working")
        else:
            reporter.check()
        time.sleep(0.05)


@pytest.mark.parametrize("moving", [False, True])
def test_a_slow_step_updates_at_least_every_two_seconds_with_a_live_eta(moving):
    events: list[ProgressEvent] = []
    reporter = Reporter(lambda e: events.append(e) if isinstance(e, ProgressEvent) else None)
    reporter.stage("first", 1, 2)
    reporter.progress(0.1)
    time.sleep(0.3)
    reporter.progress(0.3, "first done")
    reporter.stage("second", 2, 2)
    _slow_step(reporter.sub(0.0, 1.0), 4.5, fractions=moving)
    late = [e for e in events if e.text in ("first done", "working")]
    gaps = [b.at - a.at for a, b in zip(late, late[1:])]
    assert late and max(gaps) <= 2.0, gaps
    assert max(gaps) >= 0.0 and len(late) >= int(4.5 / (2 * HEARTBEAT_SECONDS))
    etas = [e.eta_s for e in late[1:] if e.eta_s is not None]
    assert len(etas) >= 3
    assert len(set(round(x, 3) for x in etas)) == len(etas), "the ETA repeated a value: frozen"
    if moving:  # 0.5 of the run in 4.5 s at a steady rate: the last estimate is near 0.2 / (0.5 / 4.5)
        assert etas[-1] == pytest.approx(0.2 * 4.5 / 0.5, rel=0.35)
    else:  # stalled: the estimate grows
        assert etas[-1] > etas[0]
