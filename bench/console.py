"""What every benchmark prints while it runs: time-stamped stages, logs and, when asked,
loss curves — one event printer for every script, fed by the engine's one event type."""

from __future__ import annotations

import math
import time
from typing import Callable

from core.events import Event, LogEvent, MetricEvent, StageEvent


def event_printer(
    verbose: bool, every: int = 10, on_stage: Callable[[str], None] | None = None
) -> Callable[[Event], None]:
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


# The columns every unlearning benchmark table shares: utility per group, memorisation,
# the fold-in attack (before the script's own cost columns), and bias against retrain (after them).
QUALITY_HEADER = (
    f"{'retain hit@10':>13} {'retain ndcg@10':>14} {'forget ndcg@10':>14} "
    f"{'similar ndcg@10':>15} {'forgot rec@10':>13} {'fold-in':>8}"
)
BIAS_HEADER = f"{'|Δret|':>7} {'|Δsim|':>7}"


def quality_cells(report) -> str:
    """A ModelReport's cells under :data:`QUALITY_HEADER`."""
    g = report.groups
    return (
        f"{fmt(g['retain']['hit@10']):>13} {fmt(g['retain']['ndcg@10']):>14} "
        f"{fmt(g['forget']['ndcg@10']):>14} {fmt(g['similar']['ndcg@10']):>15} "
        f"{fmt(report.forgotten_recall['forgotten_recall@10']):>13} "
        f"{fmt(fold_in.auc if (fold_in := report.attacks.get('fold-in')) else None, 3):>8}"
    )


def bias_cells(result, name: str) -> str:
    """|method − retrain| NDCG@10 on the retain and similar groups, under :data:`BIAS_HEADER`."""
    retrain = result.models.get("retrain")
    bias_r = bias_s = None
    if retrain is not None and name not in ("base", "retrain"):
        g = result.models[name].groups
        bias_r = abs(g["retain"]["ndcg@10"] - retrain.groups["retain"]["ndcg@10"])
        bias_s = abs(g["similar"]["ndcg@10"] - retrain.groups["similar"]["ndcg@10"])
    return f"{fmt(bias_r):>7} {fmt(bias_s):>7}"


def extras_footer(result) -> list[str]:
    """An ``extras:`` block listing each model's method-specific figures (empty when none)."""
    extras = [
        f"  {name}: " + ", ".join(f"{k}={v:g}" for k, v in m.extras.items())
        for name, m in result.models.items()
        if m.extras
    ]
    return ["extras:"] + extras if extras else []
