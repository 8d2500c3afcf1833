"""``cragru-run sweep GRID.toml --out DIR``: run a grid's cells and write their results,
the series over seeds (``summary.json``) and the plots (``sweep.svg``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.reporting.catalogue import entry_for
from core.sweeps.aggregate import PLOTTED_KEYS, Series, sweep_series
from core.events import CellFinished, Dispatcher
from core.sweeps.engine import EXECUTORS, RayOptions, SweepReport, run_sweep
from core.sweeps.grid import Grid, load_grid
from core.sweeps.svg import Line, Panel, panels_svg


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cragru-run sweep",
        description="Run every cell of a grid of "
        "experiments as Ray tasks; cells finished in an earlier run are skipped.",
    )
    parser.add_argument("grid", help="the grid, a TOML file (see examples/sweep_demo.toml)")
    parser.add_argument("--out", required=True, help="folder for one JSON per cell, summary.json and sweep.svg")
    parser.add_argument("--ray-address", default=None, help="join this Ray cluster (default: start a local one)")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPU slots of the local cluster (default: all)")
    parser.add_argument(
        "--gpus-per-cell",
        type=float,
        default=RayOptions.gpus_per_cell,
        help="share of a GPU each cell asks for, where the cluster has GPUs",
    )
    parser.add_argument(
        "--executor",
        default="ray",
        choices=EXECUTORS,
        help="ray (default) or serial (in this process, one cell after another)",
    )
    parser.add_argument("--no-history", action="store_true", help="do not record the cells in the history")
    return parser


def sweep_panels(series: list[Series]) -> list[Panel]:
    """One panel per plotted figure, one line per method variant, model and request kind."""
    panels = []
    for key in PLOTTED_KEYS:
        lines = tuple(
            Line(
                s.label,
                tuple(p.size for p in s.points),
                tuple(p.mean for p in s.points),
                tuple(p.low for p in s.points),
                tuple(p.high for p in s.points),
            )
            for s in series
            if s.key == key
        )
        if lines:
            panels.append(Panel(entry_for(key).label, "request size (share)", lines, log_y=key == "time_s"))
    return panels


def write_summary(grid: Grid, report: SweepReport, out: Path) -> list[Series]:
    """``summary.json`` (statuses, timings, every series) and ``sweep.svg``."""
    series = sweep_series(grid.cells, report.outcomes)
    cells = [
        {
            "cell_id": c.cell_id,
            "variant": c.variant,
            "model": c.model,
            "request": c.request,
            "size": c.size,
            "seed": c.seed,
            "status": o.status,
            "error": o.error,
            "seconds": o.seconds,
            "run_id": o.result.run_id if o.result is not None else None,
        }
        for c, o in zip(grid.cells, report.outcomes)
    ]
    timing = {k: getattr(report, k) for k in ("executor", "wall_s", "startup_s", "base_s", "task_s", "slots")}
    (out / "summary.json").write_text(
        json.dumps(
            {"label": grid.label, "timing": timing, "cells": cells, "series": [s.as_dict() for s in series]}, indent=1
        )
    )
    panels = sweep_panels(series)
    if panels:
        (out / "sweep.svg").write_text(
            panels_svg(panels, title=grid.label or "sweep: mean and 95 % interval over seeds")
        )
    return series


def _print_cell(event: CellFinished) -> None:
    tail = f" — {event.error}" if event.error else ""
    print(f"[{event.index}/{event.total}] {event.status:<9} {event.cell_id} ({event.seconds:.1f} s){tail}", flush=True)


_printer = Dispatcher({CellFinished: _print_cell})


def main(argv: list[str]) -> int:
    """The subcommand; returns 0 when every cell finished, 1 when some failed or were cancelled."""
    from core.history import RunStore

    args = build_parser().parse_args(argv)
    grid = load_grid(args.grid)
    out = Path(args.out)
    options = RayOptions(address=args.ray_address, num_cpus=args.num_cpus, gpus_per_cell=args.gpus_per_cell)
    print(f"sweep {grid.label or args.grid}: {len(grid.cells)} cells on {args.executor}", flush=True)
    report = run_sweep(
        grid.cells,
        out,
        executor=args.executor,
        ray_options=options,
        store=None if args.no_history else RunStore(),
        on_event=_printer,
    )
    write_summary(grid, report, out)
    counts = {s: len(report.by_status(s)) for s in ("done", "skipped", "failed", "cancelled")}
    print(
        ", ".join(f"{n} {s}" for s, n in counts.items()) + f"; wall {report.wall_s:.1f} s "
        f"(start-up {report.startup_s:.1f} s); results in {out}"
    )
    return 0 if counts["failed"] + counts["cancelled"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
