"""Calibration of the verdict words (issue 22): how often each control gets each word.

Per dataset, request and split seed one ordinary experiment (``core.experiment``) with retraining
and the five controls — a second retraining (model seed + 1000), the base unchanged, the base +
1 % noise, the forgotten users' vectors re-drawn, ``ids_only`` — and the run's reference
ensemble (``--references``; the dataset's default when not given). Prints each run's words, then
the rate of each word per control and question (per dataset and request kind, and over all
runs), then the targets (:mod:`core.reporting.calibration`) with the rates measured.

    .venv/bin/python bench/bench_calibration.py                                  # demo, 3 kinds, seeds 0-2
    .venv/bin/python bench/bench_calibration.py --datasets ml-100k --seeds 0,1 --requests users:random:0.05
    .venv/bin/python bench/bench_calibration.py --references 0                   # the one-retraining rules

Every timing line carries the machine load (``os.getloadavg()``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core.config import DataConfig, ExperimentConfig, MethodChoice  # noqa: E402
from core.data.paths import real_dataset_path  # noqa: E402
from core.experiment import run_experiment  # noqa: E402
from core.forget_request import ForgetRequest  # noqa: E402
from core.models.base import model_config  # noqa: E402
from core.reporting.calibration import CONTROLS, SHORT, rates, table_text, targets, words_of  # noqa: E402
from core.split import SplitConfig  # noqa: E402

DEFAULT_REQUESTS = ("users:random:0.05", "items:random:0.02", "interactions:random:0.01")


def _load() -> str:
    return "load " + "/".join(f"{x:.1f}" for x in os.getloadavg())


def one_run(data: str, request: str, seed: int, args) -> dict:
    path = "demo" if data == "demo" else str(real_dataset_path(data))
    config = ExperimentConfig(
        data=DataConfig(path=path),
        split=SplitConfig(seed=seed),
        model=model_config(args.model),
        request=ForgetRequest.parse(request, seed=seed),
        methods=(MethodChoice("retrain"), *(MethodChoice(m) for m in CONTROLS)),
        references=args.references,
        device=args.device,
    )
    started = time.perf_counter()
    result = run_experiment(config)
    wall = time.perf_counter() - started
    refs = result.references
    words = words_of(result)
    if args.save_results:  # the whole result: --tables-from re-reads it with the words of the code at hand
        folder = Path(args.save_results)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{data}_{request.replace(':', '_')}_seed{seed}.json").write_text(result.to_json())
    print(
        f"== {data} · {args.model} · {request} · seed {seed}: R = {refs.r if refs else 0}"
        f"{' (from cache)' if refs is not None and refs.from_cache else ''}, {wall:.0f} s wall, {_load()}",
        flush=True,
    )
    for control in CONTROLS:
        if control in words:
            print(f"  {control:<22} " + "  ".join(f"{SHORT[q]} {w}" for q, w in words[control].items()), flush=True)
    return {"data": data, "request": request, "seed": seed, "r": refs.r if refs else 0, "wall_s": wall, "words": words}


def report(runs: list[dict]) -> None:
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(f"{run['data']} · {run['request'].split(':')[0]}", []).append(run)
    for name, members in groups.items():
        print(f"\n-- {name} ({len(members)} runs, seeds {', '.join(str(r['seed']) for r in members)})")
        print(table_text(rates(r["words"] for r in members), len(members)))
    table = rates(r["words"] for r in runs)
    print(f"\n-- all runs ({len(runs)})")
    print(table_text(table, len(runs)))
    print("\ntargets:")
    for sentence, holds in targets(table):
        print(f"  [{'holds' if holds else 'MISSED'}] {sentence}")


def _stored_runs(path: Path, without_ensemble: bool = False) -> list[dict]:
    if path.is_file():
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    from core.result import RunResult

    runs = []
    for file in sorted(path.glob("*.json")):
        result = RunResult.from_dict(json.loads(file.read_text()))
        if without_ensemble:  # the same runs read by the one-retraining rules (references 0)
            result.references = None
        data, rest = file.stem.split("_", 1)
        request, seed = rest.rsplit("_seed", 1)
        request = request.replace("_", ":")
        r = result.references.r if result.references else 0
        runs.append({"data": data, "request": request, "seed": int(seed), "r": r, "words": words_of(result)})
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="demo")
    parser.add_argument("--requests", default=",".join(DEFAULT_REQUESTS))
    parser.add_argument("--seeds", default="0,1,2", help="split seeds (the request and the models follow them)")
    parser.add_argument("--references", type=int, default=None, help="reference ensemble R (default: the dataset's)")
    parser.add_argument("--model", default="bpr")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="JSON lines file: one line per run (appended)")
    parser.add_argument("--save-results", help="folder: each run's whole result as JSON")
    parser.add_argument(
        "--tables-from",
        help="print the tables of earlier runs: JSON lines files (the words as measured then) or folders of "
        "saved results (the words recomputed by this code); comma list",
    )
    parser.add_argument(
        "--without-ensemble",
        action="store_true",
        help="with --tables-from: read the saved runs by the one-retraining rules (as if references were 0)",
    )
    args = parser.parse_args(argv)
    if args.tables_from:
        report([run for path in args.tables_from.split(",") for run in _stored_runs(Path(path), args.without_ensemble)])
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# bench_calibration {' '.join(argv if argv is not None else sys.argv[1:])}  ({_load()})", flush=True)
    runs = []
    for data in args.datasets.split(","):
        for request in args.requests.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                run = one_run(data, request, seed, args)
                runs.append(run)
                if args.out:
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(run) + "\n")
    report(runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
