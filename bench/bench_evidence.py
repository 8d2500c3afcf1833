"""Benchmark of issue 12: which methods really forget, measured by evidence that cannot be fooled.

For each base model and request kind, one ordinary experiment (``core.experiment``) with
every method, and per model: the fold-in and record-level attack AUCs with their 95 %
user-bootstrap intervals and their paired difference against retrain, top-10 agreement
with retrain (Jaccard) per group, forgotten-item recall, retain NDCG@10 against
retrain (paired difference), the known-user count, and the cost (set-up + request).

    .venv/bin/python bench/bench_evidence.py                       # ML-100K, BPR + LightGCN, 3 request kinds
    .venv/bin/python bench/bench_evidence.py --models bpr --requests users:random:0.05 --cragru-users 5
    .venv/bin/python bench/bench_evidence.py --datasets demo --methods retrain,ids_only,finetune

``ids_only`` is the protocol's control (base parameters, forgotten users merely marked
unknown): a row that cannot be told from retrain's means the measure is blind.
CRAGRU's LLM ranks a seeded user sample per group on a CPU (``--cragru-users``); its
attacks and agreement are measured on that sample (record-level) or through the base
model it keeps (fold-in), as the table notes.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from bench.console import event_printer, fmt  # noqa: E402
from core.config import DataConfig, ExperimentConfig, MethodChoice  # noqa: E402
from core.data.paths import real_dataset_path  # noqa: E402
from core.evaluation.estimates import Estimate  # noqa: E402
from core.experiment import run_experiment  # noqa: E402
from core.forget_request import ForgetRequest  # noqa: E402
from core.models.base import model_config  # noqa: E402

DEFAULT_METHODS = (
    "retrain",
    "ids_only",
    "finetune",
    "neggrad",
    "reverse_bpr",
    "sisa",
    "receraser",
    "unlearnrec",
    "cragru",
)
DEFAULT_REQUESTS = ("users:random:0.05", "items:random:0.02", "interactions:random:0.01")
HEADER = (
    f"{'model':<12} {'fold-in AUC [95% CI]':>22} {'Δ retrain':>20} {'record AUC [95% CI]':>22} "
    f"{'Δ retrain':>20} {'Jacc forget/retain/sim':>23} {'forgot rec@10':>13} {'Δ retain ndcg@10':>22} "
    f"{'known':>7} {'prep s':>7} {'time s':>7}"
)


def _ci(found) -> str:
    """``value [low, high]`` of an Estimate, or – where there is none."""
    if found is None:
        return "–"
    return f"{fmt(found.value, 3)} [{fmt(found.low, 3)}, {fmt(found.high, 3)}]"


def _attack_cells(report, attack: str) -> tuple[str, str]:
    found = report.attacks.get(attack)
    if found is None:
        return "n/a", "–"
    return _ci(Estimate(found.auc, found.interval.low, found.interval.high)), _ci(found.vs_retrain)


def row(name: str, report) -> str:
    fold, fold_d = _attack_cells(report, "fold-in")
    rec, rec_d = _attack_cells(report, "record-level")
    jac = "/".join(
        fmt(found.jaccard.value if (found := report.agreement.get(g)) and found.jaccard else None, 2)
        for g in ("forget", "retain", "similar")
    )
    known = report.known_users
    known_cell = f"{known.n_known}/{known.n_users}" if known is not None else "–"
    d_ret = _ci(report.differences.get("retrain", {}).get("retain/ndcg@10"))
    return (
        f"{name:<12} {fold:>22} {fold_d:>20} {rec:>22} {rec_d:>20} {jac:>23} "
        f"{fmt(report.forgotten_recall.get('forgotten_recall@10')):>13} {d_ret:>22} {known_cell:>7} "
        f"{report.prep_time_s:>7.1f} {report.time_s:>7.1f}"
    )


def one_run(data: str, model: str, request: str, methods: list[str], args) -> list[str]:
    path = "demo" if data == "demo" else str(real_dataset_path(data))
    choices = tuple(
        MethodChoice(m, {"eval_users_per_group": args.cragru_users} if m == "cragru" else {}) for m in methods
    )
    config = ExperimentConfig(
        data=DataConfig(path=path),
        model=model_config(model),
        request=ForgetRequest.parse(request),
        methods=choices,
        device=args.device,
        references=args.references,
    )
    started = time.perf_counter()
    result = run_experiment(config, event_printer(args.verbose))
    lines = [
        f"== {data} · {model} · {request}: {len(result.groups['forget_users_all'])} forgotten users, "
        f"{result.request['n_removed_rows']} removed rows "
        f"({time.perf_counter() - started:.0f} s wall)",
        HEADER,
    ]
    lines += [row(name, report) for name, report in result.models.items()]
    notes = sorted(
        {f"  {name}: {found.via}" for name, r in result.models.items() for found in r.attacks.values() if found.via}
    )
    notes += [f"  {name}: {note}" for name, r in result.models.items() for note in r.notes if "sample" in note]
    neutral = {a: f.neutral_note for r in result.models.values() for a, f in r.attacks.items() if f.neutral_note}
    lines += ["notes:"] + notes + [f"  neutral point, {a}: {n}" for a, n in neutral.items()]
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        name = f"{data}_{model}_{request.replace(':', '_')}.json"
        (Path(args.out) / name).write_text(result.to_json(include_topk=False))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="ml-100k")
    parser.add_argument("--models", default="bpr,lightgcn")
    parser.add_argument("--requests", default=",".join(DEFAULT_REQUESTS))
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--cragru-users", type=int, default=10, help="users per group the LLM ranks (0: all)")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--references", type=int, default=0, help="reference ensemble R (default 0: the evidence needs none)"
    )
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", help="folder for one JSON result per run")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    for name in methods:  # every method's code loaded now: a run of half an hour never meets a half-edited file
        module = f"core.methods.{name}.method"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    for data in args.datasets.split(","):
        for model in args.models.split(","):
            for request in args.requests.split(","):
                print("\n".join(one_run(data, model, request, methods, args)), flush=True)
                print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
