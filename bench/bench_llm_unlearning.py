"""Benchmark of issue 6: dual memory and E2URec vs base vs retrain, under our protocol.

Every figure comes from ``core.experiment.run_experiment`` (one split, one request, one
evaluator, one membership-inference attack for every model):

    .venv/bin/python bench/bench_llm_unlearning.py                 # ML-100K (+ ML-1M on a GPU)
    .venv/bin/python bench/bench_llm_unlearning.py --datasets demo --quick
    .venv/bin/python bench/bench_llm_unlearning.py --methods dual_memory --out /tmp/bench.json

ML-1M runs only where torch sees a GPU (a note says so otherwise): the LLM recommender
on a CPU scores a few users per minute. E2URec is measured on a user sample per group
(``eval_users_per_group``); base and retrain are re-measured on the same users
(``ModelReport.same_sample``) so its row compares like with like.

The published dual-memory README (its own protocol: hit@10 on the forgotten
interactions, a single retained-user figure) reports forget hit@10 0.4867 → 0.1400
with retain hit@10 unchanged at 0.35. Our forgotten-item recall@10 is the closest
measure; the target under our protocol is the retrained model's value, not zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from bench.console import event_printer, fmt  # noqa: E402
from core.config import DataConfig, ExperimentConfig, MethodChoice  # noqa: E402
from core.experiment import run_experiment  # noqa: E402
from core.forget_request import ForgetRequest  # noqa: E402
from core.models.base import ModelConfig  # noqa: E402
from core.split import SplitConfig  # noqa: E402

PUBLISHED = "published dual-memory README (own protocol): forget hit@10 0.4867 → 0.1400, retain hit@10 0.35 → 0.35"

# CPU-sized settings per dataset; a GPU run scales the LLM samples up.
DUAL_GPU = {"reference_retrain": True}
DUAL_CPU = {"reference_retrain": True, "main_epochs": 8}  # ~40 s per T5 epoch on ML-100K, 2-core CPU
E2U_CPU = {"eval_users_per_group": 8, "rec_samples": 64, "forget_samples": 32, "retain_samples": 32, "test_samples": 32}
E2U_GPU = {
    "eval_users_per_group": 200,
    "rec_samples": 4096,
    "rec_epochs": 2,
    "forget_samples": 0,
    "retain_samples": 2048,
    "test_samples": 1024,
    "batch_size": 32,
    "unlearn_epochs": 2,
}
QUICK_DUAL = {"main_epochs": 4, "side_epochs": 5, "model_dim": 32, "history_len": 10}


def method_choices(names: list[str], gpu: bool, quick: bool) -> tuple[MethodChoice, ...]:
    out = [MethodChoice("retrain")]
    for name in names:
        if name == "dual_memory":
            out.append(MethodChoice(name, {**(DUAL_GPU if gpu else DUAL_CPU), **(QUICK_DUAL if quick else {})}))
        elif name == "e2urec":
            params = dict(E2U_GPU if gpu else E2U_CPU)
            if quick:
                params.update(
                    eval_users_per_group=4, rec_samples=32, forget_samples=16, retain_samples=16, test_samples=16
                )
            out.append(MethodChoice(name, params))
        else:
            out.append(MethodChoice(name))
    return tuple(out)


def table(result) -> str:
    cols = ("retain/hit@10", "retain/ndcg@10", "forget/hit@10", "similar/hit@10", "forgotten_recall@10")
    attacks = ("record-level", "fold-in")
    lines = [f"{'model':<12} " + " ".join(f"{c:>20}" for c in cols + attacks) + f" {'time_s':>9} {'prep_s':>9}"]
    for name, report in result.models.items():
        flat = report.flat()
        lines.append(
            f"{name:<12} "
            + " ".join(f"{fmt(flat.get(c)):>20}" for c in cols)
            + " "
            + " ".join(f"{_attack(report, a):>20}" for a in attacks)
            + f" {report.time_s:9.1f} {report.prep_time_s:9.1f}"
        )
    return "\n".join(lines)


def _attack(report, name: str) -> str:
    """``AUC [low, high]`` of one attack (the evidence the runner attaches), or –."""
    found = report.attacks.get(name)
    if found is None:
        return "–"
    return f"{found.auc:.3f} [{found.interval.low:.2f},{found.interval.high:.2f}]"


def extras_block(result) -> str:
    lines = []
    for name in ("dual_memory", "e2urec"):
        report = result.models.get(name)
        if report is None:
            continue
        lines.append(f"-- {name} extras")
        extras = report.to_dict()["extras"]  # as stored: the same-sample figures among them
        for key in sorted(extras):
            if key.startswith(("side_loss/", "student_loss/")):
                continue
            lines.append(f"   {key:<45} {extras[key]:.4f}")
        lines.extend(f"   note: {n}" for n in report.notes)
    return "\n".join(lines)


def run_one(dataset: str, names: list[str], args) -> dict:
    gpu = torch.cuda.is_available()
    model = ModelConfig(name="bpr", seed=args.seed, epochs=args.base_epochs)
    config = ExperimentConfig(
        data=DataConfig(path=dataset),
        split=SplitConfig(seed=args.seed),
        model=model,
        request=ForgetRequest.parse(args.forget, seed=args.seed),
        methods=method_choices(names, gpu, args.quick),
        device="auto",
        label=f"bench_llm_unlearning {dataset}",
    )
    print(
        f"\n##### {dataset} on {'GPU ' + torch.cuda.get_device_name(0) if gpu else 'CPU'} — {args.forget}", flush=True
    )
    started = time.perf_counter()
    result = run_experiment(config, event_printer(args.verbose))
    print(table(result))
    print(extras_block(result))
    print(f"total wall time {time.perf_counter() - started:.0f} s")
    return {"dataset": dataset, "result": json.loads(result.to_json()) if hasattr(result, "to_json") else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=None, help="comma-separated (default: ml-100k, plus ml-1m on a GPU)")
    parser.add_argument("--methods", default="dual_memory,e2urec")
    parser.add_argument("--forget", default="users:random:0.05")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base-epochs", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="tiny settings (smoke run)")
    parser.add_argument("--verbose", action="store_true", help="print loss curves")
    parser.add_argument("--out", default=None, help="write every run's result JSON here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.methods.split(",") if n.strip()]
    if args.datasets:
        datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    else:
        datasets = ["ml-100k"]
        if torch.cuda.is_available():
            datasets.append("ml-1m")
        else:
            print(
                "note: no GPU here — ML-1M is skipped (the LLM recommender needs a GPU at that size); "
                "ML-100K runs on the CPU with CPU-sized settings",
                flush=True,
            )
    print(PUBLISHED)
    runs = [run_one(d, names, args) for d in datasets]
    if args.out:
        Path(args.out).write_text(json.dumps(runs, indent=1))
        print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
