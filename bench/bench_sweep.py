"""Benchmark of issue 15: a sweep serial vs on Ray's local cluster, and a request stream.

    .venv/bin/python bench/bench_sweep.py                 # both parts, ML-100K
    .venv/bin/python bench/bench_sweep.py --part sweep --out bench/results/sweep_ml100k_cpu.txt
    .venv/bin/python bench/bench_sweep.py --part stream --steps 10 --stream-methods retrain,sisa,unlearnrec

Sweep: 2 request sizes × 3 methods × 2 seeds (12 cells, 2 distinct base models), run in
this process one cell after another, then on a fresh local Ray cluster (one slot per
core), each with its own empty model cache so both train their base models. "Ray's own
time" is the wall time not covered by the cells' in-worker seconds packed on every slot:
cluster start-up, worker start and imports, scheduling, and slots idle at the tail (an
upper bound on what Ray itself costs). Stream: K × ``users:random:0.005`` against
retraining after each request; the plots go to ``docs/`` as SVG.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.config import DataConfig, ExperimentConfig, MethodChoice  # noqa: E402
from core.data.paths import real_dataset_path  # noqa: E402
from core.forget_request import ForgetRequest  # noqa: E402
from core.sweeps.engine import run_sweep  # noqa: E402
from core.sweeps.grid import grid_from_dict  # noqa: E402
from core.sweeps.svg import panels_svg  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def sweep_grid(data: str, sizes: str, methods: list[str]) -> dict:
    return {
        "label": f"ML-100K: users forgotten at random ({', '.join(methods)})",
        "requests": [f"users:random:{{{sizes}}}"],
        "seeds": [0, 1],
        "mia": False,
        "device": "cpu",
        "data": {"path": data},
        "models": [{"name": "bpr"}],
        "methods": [{"name": m} for m in methods],
    }


def _run(cells, executor: str, root: Path):
    os.environ["CRAGRU_CACHE_DIR"] = str(root / f"cache-{executor}")  # each executor trains its own bases
    t = time.perf_counter()
    report = run_sweep(cells, root / f"out-{executor}", executor=executor)
    return report, time.perf_counter() - t


def bench_sweep(data: str, sizes: str, methods: list[str]) -> None:
    from core.sweeps.aggregate import sweep_series
    from core.sweeps.sweep_command import sweep_panels

    cells = grid_from_dict(sweep_grid(data, sizes, methods)).cells
    print(
        f"# sweep: {len(cells)} cells ({sizes} × {', '.join(methods)} × seeds 0, 1), BPR, CPU, no attacks, "
        "one torch thread per cell (serial and Ray alike)"
    )
    print(f"# before: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = {}
        for executor in ("serial", "ray"):
            report, wall = _run(cells, executor, root)
            bad = [o for o in report.outcomes if o.status != "done"]
            if bad:
                print(f"  {executor}: {len(bad)} cells did not finish: {bad[0].error}")
            rows[executor] = report
            busy = report.task_s / report.slots
            print(
                f"{executor:>6}: wall {wall:7.1f} s | slots {report.slots} | in-worker {report.task_s:7.1f} s "
                f"(bases {report.base_s:5.1f} s) | start-up {report.startup_s:5.1f} s | "
                f"Ray's own time ≤ {max(0.0, wall - busy):6.1f} s ({max(0.0, 1 - busy / wall):.0%} of wall)"
                if executor == "ray"
                else f"{executor:>6}: wall {wall:7.1f} s | in-worker {report.task_s:7.1f} s "
                f"(bases {report.base_s:5.1f} s)"
            )
            print(f"        after: {_load()}")
        serial, ray = rows["serial"], rows["ray"]
        print(f"speed-up of the Ray run over serial: {serial.wall_s / ray.wall_s:.2f}×")
        per_cell = {}
        for cell, outcome in zip(cells, serial.outcomes):
            per_cell.setdefault(cell.method, []).append(outcome.seconds)
        print(
            "serial in-worker seconds per cell (mean over sizes and seeds): "
            + ", ".join(f"{m} {sum(v) / len(v):.1f} s" for m, v in per_cell.items())
        )
        series = sweep_series(cells, ray.outcomes)
        (DOCS / "sweep_ml100k.svg").write_text(
            panels_svg(sweep_panels(series), title=cells and "ML-100K sweep: mean and 95 % interval over 2 seeds")
        )
        for s in series:
            if s.key in ("retain/ndcg@10", "forgotten_recall@10", "time_s", "speedup_vs_retrain"):
                print(
                    f"  {s.variant:<10} {s.key:<22} "
                    + "  ".join(f"{p.size:g}: {p.mean:.4g} [{p.low:.4g}, {p.high:.4g}]" for p in s.points)
                )


def bench_stream(data: str, steps: int, methods: list[str]) -> None:
    from core.models.base import ModelConfig
    from core.sweeps.stream import run_stream
    from core.sweeps.stream_command import _print, stream_panels

    config = ExperimentConfig(
        data=DataConfig(path=data),
        model=ModelConfig(),
        request=ForgetRequest.parse("users:random:0.005"),
        methods=tuple(MethodChoice(m) for m in methods),
        device="cpu",
        mia=False,
    )
    print(f"# stream: {steps} × users:random:0.005, {', '.join(methods)}; before: {_load()}")
    t = time.perf_counter()
    result = run_stream(config, steps, on_event=_print)
    print(f"stream wall {time.perf_counter() - t:.1f} s; after: {_load()}")
    for method, mode in result.modes.items():
        last = result.of(method)[-1]
        lat = [s.latency_s for s in result.of(method)]
        print(
            f"{method:<11} {mode:<12} set-up {result.setup_s.get(method, 0.0):6.1f} s | latency first "
            f"{lat[0]:6.2f} s, mean {sum(lat) / len(lat):6.2f} s | total {last.cumulative_s:7.1f} s | "
            f"drift top-10 {last.drift_top10:.3f}, ΔNDCG {last.drift_ndcg:+.4f}"
        )
    (DOCS / "stream_ml100k.svg").write_text(
        panels_svg(stream_panels(result), title=f"ML-100K: {steps} × users:random:0.005, one after another")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="both", choices=["both", "sweep", "stream"])
    parser.add_argument("--sizes", default="0.01,0.05")
    parser.add_argument("--methods", default="retrain,finetune,sisa")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--stream-methods", default="retrain,sisa,unlearnrec")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads in this process (Ray's workers run one each, as one CPU slot)",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    data = str(real_dataset_path("ml-100k"))
    if args.part in ("both", "sweep"):
        bench_sweep(data, args.sizes, args.methods.split(","))
    if args.part in ("both", "stream"):
        bench_stream(data, args.steps, args.stream_methods.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
