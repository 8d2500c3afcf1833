"""What the reference ensemble costs: the same experiment at each R, first with an empty model
cache (cold) and then again (warm), wall and CPU seconds of the run and of the ensemble alone.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_references.py --data demo --methods all --r 4,0
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_references.py --data /work/shared/data/ml-100k --r 0,4

The cache is a fresh temporary folder (the bundled LLM's converted copy is read from the usual
place), so the first R's cold run trains everything; a later R's cold run finds the base model,
the methods' set-ups and the references of the seeds an earlier R trained. References train in
this process; the machine load is printed beside every line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="demo")
    parser.add_argument("--forget", default="users:random:0.05")
    parser.add_argument("--methods", default="retrain,ids_only", help="comma-separated, or 'all'")
    parser.add_argument("--r", default="0,4", help="comma-separated R values, each run cold then warm")
    args = parser.parse_args(argv)
    os.environ["CRAGRU_CACHE_DIR"] = tempfile.mkdtemp(prefix="cragru-bench-references-")
    os.environ["CRAGRU_REFERENCES_EXECUTOR"] = "serial"
    import platformdirs

    llm = os.path.join(platformdirs.user_cache_dir("cragru-studio", appauthor=False), "llm")
    os.environ.setdefault("CRAGRU_LLM_CACHE", llm)
    import core.references.evidence as evidence
    from core.config import DataConfig, ExperimentConfig, MethodChoice
    from core.experiment import run_experiment
    from core.forget_request import ForgetRequest
    from core.methods.registry import list_methods

    spent: dict[str, float] = {}
    measured = evidence.reference_evidence

    def timed(*a, **k):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return measured(*a, **k)
        finally:
            spent["wall"], spent["cpu"] = time.perf_counter() - wall, time.process_time() - cpu

    evidence.reference_evidence = timed  # the run's hook imports it when it runs
    names = [m.name for m in list_methods()] if args.methods == "all" else args.methods.split(",")
    config = ExperimentConfig(
        data=DataConfig(path=args.data),
        request=ForgetRequest.parse(args.forget),
        methods=tuple(MethodChoice(n) for n in names),
    )
    for r in (int(x) for x in args.r.split(",")):
        for label in ("cold", "warm"):
            spent.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            result = run_experiment(replace(config, references=r))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{args.data} {len(names)} methods R={r} {label}: run {wall:.1f} s wall / {cpu:.1f} s CPU; ensemble "
                f"{spent.get('wall', 0.0):.1f} s wall / {spent.get('cpu', 0.0):.1f} s CPU; base "
                f"{result.timings['base_train_s']:.2f} s; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
