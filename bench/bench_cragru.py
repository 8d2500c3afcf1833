"""Benchmark of issue 4: CRAGRU (each retrieval strategy) vs base vs retrain.

    .venv/bin/python bench/bench_cragru.py                        # ML-100K (+ ML-1M on a GPU)
    .venv/bin/python bench/bench_cragru.py --users 20 --strategies diversity,recent
    .venv/bin/python bench/bench_cragru.py --datasets demo --users 3 --strategies recent   # smoke run
    .venv/bin/python bench/bench_cragru.py --datasets ml-1m --users 20 --forget-fraction 0.1   # ML-1M on a CPU

One split, one request (5 % of users, user-level), one evaluator for every model, as in
``core.experiment``; the pieces are driven here so that base, retrain and the LLM are built
once and shared by the four strategies. The LLM ranks a seeded sample of users per
group (``--users``); base and retrain are measured on the very same users beside it
(and on every user, for reference). For each strategy we report the fused ranking
(λ chosen on validation) and the pure LLM order (λ = 1, from the same cached answers).
By default ML-1M runs only where torch sees a GPU (the 135M LLM ranks about 0.5 users/s
on a 2-core CPU); with an explicit ``--users N`` it runs on a CPU too, on that sample.

Before the request, every user's candidates, retrieved history and prompt are built
(``--warm-prompts``, on by default), as a server that has already served everyone would
hold them: the timed deletion then purges a full cache and the audit walks all of it.

The paper's figures (BPR, its own protocol and a far larger LLM) are printed beside.
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

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.tuned import tuned_model  # noqa: E402
from core.config import DataConfig, ExperimentConfig  # noqa: E402
from core.device import describe_device, resolve_device  # noqa: E402
from core.evaluation.grouped import evaluate_model  # noqa: E402
from core.events import LogEvent, Reporter, StageEvent  # noqa: E402
from core.experiment import prepare_data  # noqa: E402
from core.experiment.base_model import Trainer, train_base  # noqa: E402
from core.forget_request import ForgetRequest  # noqa: E402
from core.methods.registry import UnlearnContext, get_method  # noqa: E402

PAPER = {
    "ml-100k": {"cragru": (0.7116, 0.2801), "retrain": (0.7845, 0.2910)},
    "ml-1m": {"cragru": (0.6412, 0.2127), "retrain": (0.7403, 0.2555)},
}
PAPER_UNLEARN_S = "14-15 s"
GROUPS = ("retain", "forget", "similar")


def log_sink(start: float):
    def on_event(event) -> None:
        if isinstance(event, (StageEvent, LogEvent)):
            text = event.name if isinstance(event, StageEvent) else event.text
            print(f"[{time.perf_counter() - start:7.1f}s] {text}", flush=True)

    return on_event


def row(measured) -> dict:
    out = {g: {m: float(measured.groups[g][m]) for m in ("hit@10", "ndcg@10")} for g in GROUPS}
    out["forgotten_recall@10"] = float(measured.forgotten_recall["forgotten_recall@10"])
    return out


def fmt(values: dict) -> str:
    cells = [f"{values[g]['hit@10']:.4f}/{values[g]['ndcg@10']:.4f}" for g in GROUPS]
    return "  ".join(f"{c:>15}" for c in cells) + f"  {values['forgotten_recall@10']:>8.4f}"


def run_dataset(name: str, args, device: torch.device) -> dict:
    start = time.perf_counter()
    reporter = Reporter(log_sink(start))
    if name == "demo":
        data = DataConfig(path="demo")
    else:
        from core.data.paths import real_dataset_path

        data = DataConfig(path=str(real_dataset_path(name)))
    config = ExperimentConfig(
        data=data,
        model=tuned_model(name, args.model),
        request=ForgetRequest("users", "random", args.forget_fraction, seed=args.seed),
        mia=False,
    )
    prepared = prepare_data(config)
    ds = prepared.dataset
    print(
        f"{name}: {ds.n_users} users, {ds.n_items} items, {ds.n_interactions} interactions; "
        f"forgetting {len(prepared.request.target_users)} users ({len(prepared.request.removed_rows)} rows); "
        f"groups retain {len(prepared.groups.retain)}, forget {len(prepared.groups.forget)}, "
        f"similar {len(prepared.groups.similar)}",
        flush=True,
    )
    base, base_s, cached = train_base(config, prepared, device, reporter)
    print(f"base {args.model}: {'from cache' if cached else f'{base_s:.1f} s'}", flush=True)
    trainer = Trainer(config, prepared, device)  # the runner's own retraining (same hyper-parameters)
    t = time.perf_counter()
    retrain = trainer(prepared.request.retained_rows, stage="retrain", reporter=reporter)
    retrain_s = time.perf_counter() - t
    print(f"retrain: {retrain_s:.1f} s", flush=True)

    sample = None  # the methods' own sample (the shared one, minus λ's tuning users when everyone is ranked)
    results: dict = {
        "dataset": name,
        "device": describe_device(device),
        "users_per_group": args.users,
        "retrain_s": retrain_s,
        "models": {},
    }
    results["models"]["base (all users)"] = row(evaluate_model(base, prepared.targets))
    results["models"]["retrain (all users)"] = row(evaluate_model(retrain, prepared.targets))

    spec = get_method("cragru")
    for strategy in args.strategies:
        params = spec.validate(
            {
                "strategy": strategy,
                "eval_users_per_group": args.users,
                "mode": args.mode,
                "candidates": args.candidates,
                "history_budget": args.budget,
            }
        )
        ctx = UnlearnContext(
            prepared.dataset,
            prepared.split,
            prepared.request,
            prepared.groups,
            base_model=base,
            model_config=config.model,
            device=device,
            reporter=reporter,
            seed=args.seed,
            train_model=trainer,
            targets=prepared.targets,
            retrain_valid_rows=prepared.retrain_valid_rows,
        )
        t = time.perf_counter()
        prep = spec.prepare(ctx, params)
        prep_s = time.perf_counter() - t
        warm = warm_every_prompt(prep.state) if args.warm_prompts else {}
        t = time.perf_counter()
        outcome = spec.unlearn(ctx, params, prep)
        unlearn_s = time.perf_counter() - t
        scorer = outcome.model
        if sample is None:
            sample = outcome.eval_sample
            results["sample"] = {k: len(v) for k, v in sample.items()}
            results["models"]["base"] = row(evaluate_model(base, prepared.targets, sample))
            results["models"]["retrain"] = row(evaluate_model(retrain, prepared.targets, sample))
        assert {k: v.tolist() for k, v in outcome.eval_sample.items()} == {k: v.tolist() for k, v in sample.items()}
        t = time.perf_counter()
        fused = row(evaluate_model(scorer, prepared.targets, sample))
        eval_s = time.perf_counter() - t
        weight = prep.state.fusion_weight
        prep.state.fusion_weight = 1.0  # the same cached answers, LLM order only
        pure = row(evaluate_model(scorer, prepared.targets, sample))
        prep.state.fusion_weight = weight
        late = scorer.late_extras()
        key = f"cragru-{strategy}"
        results["models"][f"{key} (λ={weight:g})"] = fused
        results["models"][f"{key} (LLM only)"] = pure
        results[key] = {
            "prepare_s": prep_s,
            "unlearn_s": unlearn_s,
            "eval_s": eval_s,
            "fusion_weight": weight,
            **{k: v for k, v in outcome.extras.items() if not k.startswith("valid_")},
            **{k: v for k, v in outcome.extras.items() if k.startswith("valid_")},
            **late,
            **warm,
        }
        print(
            f"{key}: prepare {prep_s:.1f} s, unlearn {unlearn_s * 1000:.1f} ms "
            f"(deletion {outcome.extras['deletion_ms']:.2f} ms of {outcome.extras['rows_deleted']:.0f} rows, "
            f"{outcome.extras['cache_entries_purged']:.0f} cache entries purged; audit "
            f"{outcome.extras['audit_ms']:.2f} ms over {warm.get('warm_prompts', 0):.0f} cached prompts), "
            f"LLM {late['llm_users_ranked']:.0f} users at "
            f"{late['llm_users_per_s']:.3f} users/s, λ={weight:g}; fused {fmt(fused)}; LLM only {fmt(pure)}; "
            f"lists from {paths(late)}",
            flush=True,
        )
    return results


def paths(late: dict) -> str:
    """Which path produced the LLM lists (scoring, parsed JSON, repaired, fallback), non-zero only."""
    counts = {k.split("/", 1)[1]: int(v) for k, v in late.items() if k.startswith("paths/") and v}
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def warm_every_prompt(state) -> dict[str, float]:
    """Build every user's candidates, retrieved history and prompt (no LLM call)."""
    t = time.perf_counter()
    users = np.arange(state.store.n_users)
    for start in range(0, len(users), 1024):
        state.candidates(users[start : start + 1024])
    for user in users.tolist():
        state.prompt(user)
    return {"warm_prompts": float(len(state.prompt_cache)), "warm_s": time.perf_counter() - t}


def report(results: dict) -> None:
    name = results["dataset"]
    print(
        f"\n=== {name} on {results['device']}: hit@10/NDCG@10 per group, forgotten recall@10; LLM sample "
        f"{results['sample']} ==="
    )
    print(f"{'model':34s}  {'retain':>15}  {'forget':>15}  {'similar':>15}  {'f-rec@10':>8}")
    for model, values in results["models"].items():
        print(f"{model:34s}  {fmt(values)}")
    retrain = results["models"]["retrain"]
    print("\nunlearning bias |method − retrain| on the sample (hit@10 / NDCG@10), unlearning time, LLM speed:")
    print(f"  retrain: {results['retrain_s']:.1f} s")
    for model, values in results["models"].items():
        if not model.startswith("cragru"):
            continue
        key = model.split(" ")[0]
        info = results[key]
        bias = "  ".join(
            f"{g} {abs(values[g]['hit@10'] - retrain[g]['hit@10']):.4f}/"
            f"{abs(values[g]['ndcg@10'] - retrain[g]['ndcg@10']):.4f}"
            for g in ("retain", "similar")
        )
        print(
            f"  {model:34s} {bias}  unlearn {info['unlearn_s'] * 1000:.1f} ms (deletion "
            f"{info['deletion_ms']:.2f} ms, {results['retrain_s'] / max(info['unlearn_s'], 1e-9):,.0f}× faster "
            f"than retrain)  LLM {info['llm_users_per_s']:.3f} users/s"
        )
    paper = PAPER.get(name)
    if paper:
        print(
            f"\npaper (BPR, own protocol, larger LLM): CRAGRU HR@10 {paper['cragru'][0]} / NDCG@10 "
            f"{paper['cragru'][1]}; retrain {paper['retrain'][0]} / {paper['retrain'][1]}; unlearning "
            f"time {PAPER_UNLEARN_S}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="ml-100k,ml-1m")
    parser.add_argument("--strategies", default="diversity,preference,attention,recent,none")
    parser.add_argument(
        "--users", type=int, default=-1, help="users per group the LLM ranks (-1: 20 on a CPU, all on a GPU)"
    )
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--budget", type=int, default=10, help="history items per prompt")
    parser.add_argument("--mode", default="scoring", choices=("scoring", "generate"))
    parser.add_argument("--model", default="bpr", choices=("bpr", "lightgcn"))
    parser.add_argument("--forget-fraction", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--warm-prompts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="build every user's prompt before the request, so deletion purges a full cache",
    )
    parser.add_argument("--out", help="write all figures as JSON here")
    args = parser.parse_args(argv)
    args.strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    device = resolve_device("auto")
    auto_sample = args.users < 0
    if auto_sample:
        args.users = 0 if device.type == "cuda" else 20
    all_results = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        if name == "ml-1m" and device.type != "cuda" and auto_sample:
            print("ml-1m: skipped — no GPU here; pass --users N to rank a sample of N users per group on the CPU")
            continue
        results = run_dataset(name, args, device)
        report(results)
        all_results.append(results)
    if args.out:
        Path(args.out).write_text(json.dumps(all_results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
