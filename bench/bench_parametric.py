"""Benchmark of issue 5: fine-tune, NegGrad, reverse BPR, SISA and RecEraser vs retrain.

Every figure comes from ``core.experiment.run_experiment`` (one split, one request, one
evaluator, one membership-inference attack for every model):

    .venv/bin/python bench/bench_parametric.py                      # ML-100K (+ ML-1M on a GPU)
    .venv/bin/python bench/bench_parametric.py --datasets demo --epochs 40
    .venv/bin/python bench/bench_parametric.py --threads 1 --out /tmp/parametric.json

Beside the runner's wall times the table gives each step's *process CPU time*
(``cpu s``; the bench wraps every method's ``prepare``/``unlearn``), and the speed-up
in CPU time: on a machine shared with other jobs wall time mostly measures the
neighbours, while CPU time of a one-thread run (``--threads 1``) stays put.

ML-1M runs only where torch sees a GPU (a note says so otherwise). Datasets are found
with ``core.data.paths.real_dataset_path`` (``CRAGRU_DATA_DIR``, default
``<checkout>/../shared/data``).

Published reference points (RecEraser paper, Chen et al. WWW 2022, ML-1M, BPR; their
own protocol and hardware, so only the orders of magnitude compare): retrain HR@10
0.7403, SISA HR@10 0.3547, RecEraser unlearning 386 s vs retraining 1,935 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from bench.console import (  # noqa: E402
    BIAS_HEADER,
    QUALITY_HEADER,
    bias_cells,
    event_printer,
    extras_footer,
    quality_cells,
)
from bench.console import (
    fmt as _fmt,
)
from core.config import DataConfig, ExperimentConfig, MethodChoice  # noqa: E402
from core.data.paths import real_dataset_path  # noqa: E402
from core.errors import DatasetError  # noqa: E402
from core.experiment import run_experiment  # noqa: E402
from core.forget_request import ForgetRequest  # noqa: E402
from core.methods.registry import METHODS as REGISTRY  # noqa: E402
from core.methods.registry import MethodSpec, get_method
from core.models.base import ModelConfig  # noqa: E402

DEFAULT_METHODS = ("retrain", "finetune", "neggrad", "reverse_bpr", "sisa", "receraser")
PUBLISHED = (
    "published (RecEraser paper, ML-1M, BPR, own protocol): retrain HR@10 0.7403 | "
    "SISA HR@10 0.3547 | RecEraser 386 s vs retrain 1,935 s (5.0x)"
)


CPU: dict[str, dict[str, float]] = {}  # method -> {"prep": s, "unlearn": s}, process CPU time


def _cpu_timed(spec: MethodSpec) -> MethodSpec:
    """The same method with its prepare/unlearn CPU time recorded in :data:`CPU`."""

    def timed(fn: Callable, key: str) -> Callable:
        def run(*args):
            start = time.process_time()
            try:
                return fn(*args)
            finally:
                CPU.setdefault(spec.name, {})[key] = time.process_time() - start

        return run

    return replace(
        spec, unlearn=timed(spec.unlearn, "unlearn"), prepare=timed(spec.prepare, "prep") if spec.prepare else None
    )


def sink(verbose: bool):
    """The shared printer, plus the CPU time of base training (for the CPU-time columns)."""
    stage = {"name": None, "cpu": time.process_time()}

    def on_stage(name: str) -> None:
        now = time.process_time()
        if stage["name"] and stage["name"].startswith("Training the base"):
            CPU["base"] = {"unlearn": now - stage["cpu"]}  # base training (+ its evaluation)
        stage.update(name=name, cpu=now)

    return event_printer(verbose, every=10, on_stage=on_stage)


def table(result) -> str:
    """One row per model: utility per group, memorisation, MIA, cost, and bias vs retrain."""
    head = (
        f"{'model':<12} {QUALITY_HEADER} {'time s':>8} {'prep s':>7} "
        f"{'speed-up':>8} {'cpu s':>7} {'cpu prep':>8} {'cpu x':>6} {BIAS_HEADER}"
    )
    lines = [head, "-" * len(head)]
    retrain_cpu = CPU.get("retrain", {}).get("unlearn")
    for name, m in result.models.items():
        cpu = CPU.get(name, {})
        cpu_x = None
        if retrain_cpu and cpu.get("unlearn") and name != "base":
            cpu_x = retrain_cpu / cpu["unlearn"]
        lines.append(
            f"{name:<12} {quality_cells(m)} "
            f"{_fmt(m.time_s, 1):>8} {_fmt(m.prep_time_s, 1):>7} {_fmt(m.speedup_vs_retrain, 2):>8} "
            f"{_fmt(cpu.get('unlearn'), 1):>7} {_fmt(cpu.get('prep'), 1):>8} {_fmt(cpu_x, 2):>6} "
            f"{bias_cells(result, name)}"
        )
    return "\n".join(lines + extras_footer(result))


def run_one(dataset: str, args) -> dict:
    if dataset == "demo":
        path = "demo"
    else:
        path = str(real_dataset_path(dataset))
    model = replace(ModelConfig(), name=args.model, lr=args.lr, epochs=args.epochs, dim=args.dim)
    config = ExperimentConfig(
        data=DataConfig(path=path),
        model=model,
        request=ForgetRequest.parse(args.request, seed=args.seed),
        methods=tuple(MethodChoice(m) for m in args.methods),
        device=args.device,
        use_cache=not args.no_cache,
        label=f"bench_parametric {dataset}",
    )
    CPU.clear()
    started = time.perf_counter()
    result = run_experiment(config, sink(args.verbose))
    wall = time.perf_counter() - started
    print()
    print(
        f"== {dataset}: {result.dataset['n_users']} users, {result.dataset['n_items']} items, "
        f"{result.dataset['n_interactions']} interactions; request {args.request} → "
        f"{result.request['n_removed_rows']} rows of {result.request['n_forget_users']} users; "
        f"device {result.environment['device']}; torch threads {torch.get_num_threads()}; wall {wall:.0f} s"
    )
    print(
        f"model {model.name} dim {model.dim} lr {model.lr} epochs≤{model.epochs} patience {model.patience}; "
        f"base trained in {result.models['base'].time_s:.1f} s"
    )
    print(table(result))
    print(PUBLISHED)
    out = json.loads(result.to_json(include_topk=False))
    out["cpu_seconds"] = {k: dict(v) for k, v in CPU.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="ml-100k,ml-1m", help="comma list: demo, ml-100k, ml-1m")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--request", default="users:random:0.05")
    parser.add_argument("--model", default="bpr", choices=("bpr", "lightgcn"))
    parser.add_argument("--lr", type=float, default=ModelConfig().lr)
    parser.add_argument("--dim", type=int, default=ModelConfig().dim)
    parser.add_argument("--epochs", type=int, default=ModelConfig().epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--no-cache", action="store_true", help="retrain the base model even if cached")
    parser.add_argument("--out", help="write the run results as JSON here")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if "retrain" not in args.methods:
        args.methods.insert(0, "retrain")
    if args.threads:
        torch.set_num_threads(args.threads)
    for name in args.methods:
        REGISTRY[get_method(name).name] = _cpu_timed(get_method(name))
    gpu = torch.cuda.is_available() and args.device != "cpu"
    results = {}
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        if dataset == "ml-1m" and not gpu:
            print("note: ML-1M is benchmarked only where torch sees a GPU; skipped on this CPU-only machine")
            continue
        try:
            results[dataset] = run_one(dataset, args)
        except DatasetError as exc:
            print(f"note: {dataset} skipped: {exc}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, default=str))
        print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
