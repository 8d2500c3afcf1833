"""What every benchmark prints while it runs: time-stamped stages, logs and, when asked,
loss curves — one event printer for every script, fed by the engine's one event type."""

from __future__ import annotations

import math
import time
from typing import Callable

from core.events import Event, LogEvent, MetricEvent, StageEvent


def event_printer(verbose: bool, every: int = 10, on_stage: Callable[[str], None] | None = None) -> Callable[[Event], None]:
    """A run_experiment sink: stages and logs always, metric events every ``every`` steps
    when ``verbose``; ``on_stage`` sees each stage name first (e.g. to split CPU time)."""
    start = time.perf_counter()

    def on_event(event: Event) -> None:
        stamp = f"[{time.perf_counter() - start:7.1f}s]"
        if isinstance(event, StageEvent):
            if on_stage is not None:
                on_stage(event.name)
            print(stamp, "==", event.name, flush=True)
        elif isinstance(event, LogEvent):
            print(stamp, event.text, flush=True)
        elif verbose and isinstance(event, MetricEvent) and event.step % every == 0:
            values = ", ".join(f"{k} {v:.4f}" for k, v in event.values.items())
            print(stamp, f"{event.series} step {event.step}: {values}", flush=True)

    return on_event


def fmt(value: float | None, digits: int = 4) -> str:
    """A figure for a table cell; missing or NaN shows as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"
