"""``cragru-run sweep GRID.toml --out DIR``: run a grid's cells and write their results,
the series over seeds (``summary.json``) and the plots (``sweep.svg``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.events import CellFinished, Dispatcher
from core.reporting.catalogue import entry_for
from core.sweeps.aggregate import PLOTTED_KEYS, Series, sweep_series
from core.sweeps.engine import EXECUTORS, RayOptions, SweepReport, run_sweep
from core.sweeps.grid import Grid, load_grid
from core.sweeps.grid_check import MAX_CELLS
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
    parser.add_argument(
        "--max-cells",
        type=int,
        default=MAX_CELLS,
        help=f"refuse a grid that expands to more cells than this (default {MAX_CELLS}); counted before expanding",
    )
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
    summary = {"label": grid.label, "timing": timing, "cells": cells, "series": [s.as_dict() for s in series]}
    _save(out / "summary.json", json.dumps(summary, indent=1), "the sweep summary")
    panels = sweep_panels(series)
    if panels:
        _save(
            out / "sweep.svg",
            panels_svg(panels, title=grid.label or "sweep: mean and 95 % interval over seeds"),
            "the plots",
        )
    return series


def _print_cell(event: CellFinished) -> None:
    tail = f" — {event.error}" if event.error else ""
    print(f"[{event.index}/{event.total}] {event.status:<9} {event.cell_id} ({event.seconds:.1f} s){tail}", flush=True)


_printer = Dispatcher({CellFinished: _print_cell})


def _save(path: Path, text: str, what: str) -> None:
    """Whole or not at all; when the folder fails at the end, to the fallback the warning names."""
    from core.outputs import write_or_fallback

    _, warning = write_or_fallback(path, lambda p: p.write_text(text, encoding="utf-8"), what, f"sweep-{path.name}")
    if warning:
        print(f"cragru-run sweep: warning: {warning}", file=sys.stderr)


def _check_args(args) -> None:
    """Flags, before the grid is read or Ray started."""
    from core.errors import ConfigError
    from core.outputs import check_folder

    if args.num_cpus is not None and args.num_cpus < 1:
        raise ConfigError(f"--num-cpus must be at least 1 (CPU slots of the local cluster), got {args.num_cpus}")
    if args.max_cells < 1:
        raise ConfigError(f"--max-cells must be at least 1, got {args.max_cells}")
    if not 0 <= args.gpus_per_cell <= 64:
        raise ConfigError(f"--gpus-per-cell must be in 0..64, got {args.gpus_per_cell}")
    if args.ray_address and args.executor == "ray":
        from core.cluster.connect import parse_address

        parse_address(args.ray_address)  # malformed: one line now, not Ray's log later
    check_folder(args.out, "--out")


def main(argv: list[str]) -> int:
    """The subcommand; returns 0 when every cell finished, 1 when some failed or were cancelled.
    Every flag, the grid (types, ranges, cell count) and the output folder are checked
    before anything runs."""
    from core.history import RunStore

    args = build_parser().parse_args(argv)
    _check_args(args)
    grid = load_grid(args.grid, args.max_cells)
    out = Path(args.out)
    options = RayOptions(address=args.ray_address, num_cpus=args.num_cpus, gpus_per_cell=args.gpus_per_cell)
    if not args.ray_address:
        from core.cluster.processes import stop_leftovers

        stop_leftovers()  # a killed earlier sweep's Ray processes, even when this run needs no Ray
    print(f"sweep {grid.label or args.grid}: {len(grid.cells)} cells on {args.executor}", flush=True)
    report = run_sweep(
        grid.cells,
        out,
        executor=args.executor,
        ray_options=options,
        store=None if args.no_history else _store(RunStore()),
        on_event=_printer,
    )
    write_summary(grid, report, out)
    counts = {s: len(report.by_status(s)) for s in ("done", "skipped", "failed", "cancelled")}
    print(
        ", ".join(f"{n} {s}" for s, n in counts.items()) + f"; wall {report.wall_s:.1f} s "
        f"(start-up {report.startup_s:.1f} s); results in {out}"
    )
    return 0 if counts["failed"] + counts["cancelled"] == 0 else 1


def _store(store):
    store.on_problem = lambda text: print(f"cragru-run sweep: warning: {text}", file=sys.stderr)
    return store


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
