"""Scale run of issue 16: time and peak memory of every stage, from 100k to 10M interactions.

A seeded synthetic catalogue in the demo's shape (``core.data.synthetic``) goes through
load, split, request, groups, one BPR epoch, evaluation (retain / forget / similar)
and the attacks (record-level, fold-in, calibration, with their bootstrap intervals).
Per stage: seconds, peak RSS during the stage (sampled every 20 ms from /proc) and the
process's peak so far. ``--cancel`` also measures, per stage, how long a stop request
raised 0.3 s into the stage takes to end it (``Reporter.check`` / ``core.cancel``).

    .venv/bin/python bench/bench_scale.py                          # 100k and 1M interactions
    .venv/bin/python bench/bench_scale.py --sizes 10000000 --cancel
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.attacks import calibration_probe, fold_in_probe, fold_in_scores, record_probe, record_scores  # noqa: E402
from core.attacks.common import attack_result  # noqa: E402
from core.cancel import cancellable  # noqa: E402
from core.data.synthetic import synthetic_dataset  # noqa: E402
from core.errors import Cancelled  # noqa: E402
from core.evaluation.bootstrap import bootstrap_mean  # noqa: E402
from core.evaluation.grouped import evaluate_model, make_targets  # noqa: E402
from core.events import Reporter  # noqa: E402
from core.forget_request import ForgetRequest, resolve_request  # noqa: E402
from core.groups import make_groups  # noqa: E402
from core.models.base import ModelConfig  # noqa: E402
from core.models.training import train_recommender  # noqa: E402
from core.split import make_split  # noqa: E402

USERS_PER_ROW = 0.1  # 1M users at 10M interactions, as the issue asks
_PAGE = resource.getpagesize()


class PeakRss:
    """Peak resident memory of this process while a block runs (sampled from /proc)."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.peak, self._stop = every, 0, threading.Event()

    @staticmethod
    def now() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE

    def __enter__(self) -> "PeakRss":
        self.peak = self.now()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.now())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def stages(n_rows: int, seed: int):
    """(name, function of the state dict) in pipeline order; each stores what it makes."""
    n_users = max(1000, int(n_rows * USERS_PER_ROW))
    config = ModelConfig(name="bpr", dim=64, batch_size=8192, epochs=1, seed=seed)

    def train(s, reporter):
        ds, split = s["ds"], s["split"]
        rows = s["request"].retained_rows
        s["model"] = train_recommender(config, ds.n_users, ds.n_items, ds.users[rows], ds.items[rows], "cpu",
                                       reporter=reporter, epochs=1)

    def evaluate(s, _):
        s["targets"] = make_targets(s["ds"], s["split"], s["request"], s["groups"])
        measured = evaluate_model(s["model"], s["targets"])
        s["ndcg"] = {g: bootstrap_mean(measured.per_user[g]["ndcg@10"], seed=seed) for g in ("retain", "forget", "similar")}

    def attacks(s, _):
        ds, split, request, model = s["ds"], s["split"], s["request"], s["model"]
        out = {}
        for probe in (record_probe(ds, split, request), calibration_probe(ds, split, request, seed=seed)):
            out[probe.name] = attack_result(probe, record_scores(model, probe), seed=seed)
        probe = fold_in_probe(ds, split, request, seed=seed)
        out[probe.name] = attack_result(probe, fold_in_scores(model, probe), seed=seed)
        s["attacks"] = out

    return [
        ("load", lambda s, _: s.update(ds=synthetic_dataset(seed, n_users, n_rows))),
        ("split", lambda s, _: s.update(split=make_split(s["ds"]))),
        ("request", lambda s, _: s.update(request=resolve_request(
            s["ds"], s["split"], ForgetRequest.parse("users:random:0.05")))),
        ("groups", lambda s, _: s.update(groups=make_groups(s["ds"], s["split"], s["request"]))),
        ("bpr epoch", train),
        ("evaluation", evaluate),
        ("attacks", attacks),
    ]


def run_size(n_rows: int, seed: int, cancel: bool) -> list[str]:
    state: dict = {}
    lines = []
    for name, fn in stages(n_rows, seed):
        latency = _cancel_latency(fn, dict(state)) if cancel else None
        started = time.perf_counter()
        with PeakRss() as rss:
            fn(state, Reporter())
        seconds = time.perf_counter() - started
        process_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        line = f"{n_rows:>10,} {name:<11} {seconds:8.2f} s  stage peak {rss.peak / 2**30:6.2f} GiB" \
               f"  process peak {process_peak / 2**30:6.2f} GiB"
        if latency is not None:
            line += f"  cancel {latency:5.2f} s"
        print(line, flush=True)
        lines.append(line)
    ds, groups = state["ds"], state["groups"]
    summary = (f"{n_rows:>10,} data: {ds.n_users:,} users, {ds.n_items:,} items, {ds.n_interactions:,} rows; "
               f"groups retain {len(groups.retain):,} forget {len(groups.forget):,} similar {len(groups.similar):,} "
               f"({groups.similar_rule}); retain NDCG@10 {state['ndcg']['retain'].value:.4f}; "
               + ", ".join(f"{k} AUC {v.auc:.3f}" for k, v in state["attacks"].items()))
    print(summary, flush=True)
    return lines + [summary]


def _cancel_latency(fn, state: dict, delay: float = 0.3) -> float:
    """Seconds from a stop request (``delay`` into the stage) to the stage ending."""
    stop = threading.Event()
    asked = []

    def check() -> None:
        if stop.is_set():
            raise Cancelled("cancelled by the bench")

    timer = threading.Timer(delay, lambda: (asked.append(time.perf_counter()), stop.set()))
    timer.start()
    try:
        with cancellable(check):
            fn(state, Reporter(should_stop=stop.is_set))
    except Cancelled:
        pass
    ended = time.perf_counter()
    timer.cancel()
    return ended - asked[0] if asked else 0.0  # 0: the stage ended before the request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="interaction counts, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cancel", action="store_true", help="also measure cancel latency per stage")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"bench_scale: {torch.get_num_threads()} torch threads, {np.__version__=}, "
          f"users = {USERS_PER_ROW} × interactions, request users:random:0.05, BPR dim 64", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        run_size(size, args.seed, args.cancel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
