"""Benchmark of issue 7: UnlearnRec (pre-trained influence encoder) vs retraining.

Every figure comes from ``core.experiment.run_experiment`` with methods retrain and
unlearnrec (one split, one request, one evaluator, one membership-inference attack for
every model). The unlearning time excludes pre-training, which is reported apart
(``prep s``) as the protocol asks:

    .venv/bin/python bench/bench_unlearnrec.py                       # ML-100K (+ ML-1M on a GPU)
    .venv/bin/python bench/bench_unlearnrec.py --models bpr,lightgcn --threads 2
    .venv/bin/python bench/bench_unlearnrec.py --datasets demo --epochs 40
    .venv/bin/python bench/bench_unlearnrec.py --params '{"finetune_epochs": 0}' --out /tmp/u.json

Target (issue 7): unlearning ≥ 10× faster than our own retrain in the same run, with
retain NDCG@10 within 5 % of retrain's. The script prints whether each run met it.
ML-1M runs only where torch sees a GPU (a note says so otherwise).

Published reference (UnlearnRec paper, SIGIR 2025, their protocol and hardware, so only
orders of magnitude compare): a forward pass of the encoder plus a brief fine-tune takes
seconds where retraining takes minutes to hours on ML-1M / Gowalla / Yelp2018.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

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
from core.models.base import ModelConfig, model_config  # noqa: E402

SPEEDUP_TARGET = 10.0
RETAIN_TOLERANCE = 0.05


def table(result) -> str:
    """One row per model: utility per group, memorisation, MIA, cost, bias vs retrain."""
    head = f"{'model':<11} {QUALITY_HEADER} {'time s':>8} {'prep s':>7} {'speed-up':>8} {BIAS_HEADER}"
    lines = [head, "-" * len(head)]
    for name, m in result.models.items():
        lines.append(
            f"{name:<11} {quality_cells(m)} "
            f"{_fmt(m.time_s, 2):>8} {_fmt(m.prep_time_s, 1):>7} {_fmt(m.speedup_vs_retrain, 1):>8} "
            f"{bias_cells(result, name)}"
        )
    return "\n".join(lines + extras_footer(result))


def verdict(result) -> str:
    """Whether the run met the issue's target, with the two numbers it rests on."""
    retrain, ours = result.models["retrain"], result.models["unlearnrec"]
    speedup = ours.speedup_vs_retrain or 0.0
    ref = retrain.groups["retain"]["ndcg@10"]
    gap = abs(ours.groups["retain"]["ndcg@10"] - ref) / ref if ref > 0 else float("nan")
    fast, close = speedup >= SPEEDUP_TARGET, gap <= RETAIN_TOLERANCE
    return (
        f"target: speed-up {speedup:.1f}x (≥ {SPEEDUP_TARGET:.0f}x: {'met' if fast else 'NOT met'}); "
        f"retain NDCG@10 within {gap:.1%} of retrain (≤ {RETAIN_TOLERANCE:.0%}: {'met' if close else 'NOT met'})"
    )


def run_one(dataset: str, model_name: str, args) -> dict:
    path = "demo" if dataset == "demo" else str(real_dataset_path(dataset))
    model = model_config(model_name, epochs=args.epochs)
    config = ExperimentConfig(
        data=DataConfig(path=path),
        model=model,
        request=ForgetRequest.parse(args.request, seed=args.seed),
        methods=(MethodChoice("retrain"), MethodChoice("unlearnrec", args.params)),
        device=args.device,
        use_cache=not args.no_cache,
        label=f"bench_unlearnrec {dataset} {model_name}",
    )
    started = time.perf_counter()
    result = run_experiment(config, event_printer(args.verbose, every=25))
    wall = time.perf_counter() - started
    print()
    print(
        f"== {dataset} / {model_name}: {result.dataset['n_users']} users, {result.dataset['n_items']} items, "
        f"{result.dataset['n_interactions']} interactions; request {args.request} → "
        f"{result.request['n_removed_rows']} rows of {result.request['n_forget_users']} users; "
        f"device {result.environment['device']}; torch threads {torch.get_num_threads()}; wall {wall:.0f} s"
    )
    print(
        f"model {model.name} dim {model.dim} lr {model.lr} epochs≤{model.epochs} patience {model.patience}; "
        f"base trained in {result.models['base'].time_s:.1f} s; unlearnrec params {args.params or 'defaults'}"
    )
    print(table(result))
    print(verdict(result))
    return json.loads(result.to_json(include_topk=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="ml-100k,ml-1m", help="comma list: demo, ml-100k, ml-1m")
    parser.add_argument("--models", default="bpr", help="comma list: bpr, lightgcn")
    parser.add_argument("--request", default="users:random:0.05")
    parser.add_argument("--params", type=json.loads, default={}, help="unlearnrec parameters as JSON")
    parser.add_argument("--epochs", type=int, default=ModelConfig().epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--no-cache", action="store_true", help="retrain the base model even if cached")
    parser.add_argument("--out", help="write the run results as JSON here")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = torch.cuda.is_available() and args.device != "cpu"
    results = {}
    for dataset in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        if dataset == "ml-1m" and not gpu:
            print("note: ML-1M is benchmarked only where torch sees a GPU; skipped on this CPU-only machine")
            continue
        for model_name in [m.strip() for m in args.models.split(",") if m.strip()]:
            try:
                results[f"{dataset}/{model_name}"] = run_one(dataset, model_name, args)
            except DatasetError as exc:
                print(f"note: {dataset} skipped: {exc}")
                break
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, default=str))
        print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
