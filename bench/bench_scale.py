"""Scale run of issue 16: time and peak memory of every stage, from 100k to 10M interactions.

A seeded synthetic catalogue in the demo's shape (``core.data.synthetic``) goes through
load, split, request, groups, one BPR epoch, evaluation (retain / forget / similar)
and the attacks (record-level, fold-in, calibration, with their bootstrap intervals).
Per stage: seconds, peak RSS during the stage (the kernel's high-water mark, reset as
the stage starts) and the process's peak so far (stages and stop runs alike).
``--cancel`` also measures, per stage, how long a stop request raised 0.3 s into the
stage takes to end it (``Reporter.check`` / ``core.cancel``).

    .venv/bin/python bench/bench_scale.py                          # 100k and 1M interactions
    .venv/bin/python bench/bench_scale.py --sizes 10000000 --cancel

Catalogue: one item per 200 interactions up to :data:`MAX_ITEMS` (5k items at 1M rows,
20k at 10M — MovieLens-20M has 27k movies, ML-10M 10.7k): users × items is what
full-sort evaluation and the fold-in attack pay for, so an uncapped 50k-item catalogue
would measure an unusual shop rather than the engine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
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
from core.fit_loop import warm_up  # noqa: E402
from core.forget_request import ForgetRequest, resolve_request  # noqa: E402
from core.groups import make_groups  # noqa: E402
from core.models.base import ModelConfig  # noqa: E402
from core.models.training import train_recommender  # noqa: E402
from core.split import make_split  # noqa: E402

USERS_PER_ROW = 0.1  # 1M users at 10M interactions, as the issue asks
ROWS_PER_ITEM = 200
MAX_ITEMS = 20_000


class PeakRss:
    """Peak resident memory of this process while a block runs.

    The kernel's own high-water mark (``VmHWM``), reset on entry through
    ``/proc/self/clear_refs``: exact, and no sampling thread (one waking every 20 ms to
    read ``/proc`` slowed a BPR epoch up to 2x by contending for the GIL). Where the reset
    is refused, the peak since the process started is reported instead (``exact`` False)."""

    def __enter__(self) -> "PeakRss":
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.exact = True
        except OSError:
            self.exact = False
        return self

    def __exit__(self, *exc) -> None:
        with open("/proc/self/status") as f:
            self.peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))


def stages(n_rows: int, seed: int, row_wise: bool = False):
    """(name, function of the state dict) in pipeline order; each stores what it makes."""
    n_users = max(1000, int(n_rows * USERS_PER_ROW))
    n_items = min(MAX_ITEMS, max(400, n_rows // ROWS_PER_ITEM))
    config = ModelConfig(name="bpr", dim=64, batch_size=8192, epochs=1, seed=seed)

    def train(s, reporter):
        ds = s["ds"]
        rows = s["request"].retained_rows
        s["model"] = train_recommender(
            config,
            ds.n_users,
            ds.n_items,
            ds.users[rows],
            ds.items[rows],
            "cpu",
            reporter=reporter,
            epochs=1,
            row_wise=row_wise,
        )

    def evaluate(s, _):
        s["targets"] = make_targets(s["ds"], s["split"], s["request"], s["groups"])
        measured = evaluate_model(s["model"], s["targets"])
        s["ndcg"] = {
            g: bootstrap_mean(measured.per_user[g]["ndcg@10"], seed=seed) for g in ("retain", "forget", "similar")
        }

    def attacks(s, _):
        ds, split, request, model = s["ds"], s["split"], s["request"], s["model"]
        out = {}
        for probe in (record_probe(ds, split, request), calibration_probe(ds, split, request, seed=seed)):
            out[probe.name] = attack_result(probe, record_scores(model, probe), seed=seed)
        probe = fold_in_probe(ds, split, request, seed=seed)
        out[probe.name] = attack_result(probe, fold_in_scores(model, probe), seed=seed)
        s["attacks"] = out

    return [
        ("load", lambda s, _: s.update(ds=synthetic_dataset(seed, n_users, n_rows, n_items))),
        ("split", lambda s, _: s.update(split=make_split(s["ds"]))),
        (
            "request",
            lambda s, _: s.update(
                request=resolve_request(s["ds"], s["split"], ForgetRequest.parse("users:random:0.05"))
            ),
        ),
        ("groups", lambda s, _: s.update(groups=make_groups(s["ds"], s["split"], s["request"]))),
        ("bpr epoch", train),
        ("evaluation", evaluate),
        ("attacks", attacks),
    ]


def run_size(n_rows: int, seed: int, cancel: bool, process_peak: list[int], row_wise: bool = False) -> list[str]:
    state: dict = {}
    lines = []
    for name, fn in stages(n_rows, seed, row_wise):
        latency = None
        if cancel:
            with PeakRss() as stopped:
                latency = _cancel_latency(fn, dict(state))
            process_peak[0] = max(process_peak[0], stopped.peak)
        started = time.perf_counter()
        with PeakRss() as rss:
            fn(state, Reporter())
        seconds = time.perf_counter() - started
        process_peak[0] = max(process_peak[0], rss.peak)  # the reset clears the kernel's own process peak
        line = (
            f"{n_rows:>10,} {name:<11} {seconds:8.2f} s  stage peak {rss.peak / 2**30:6.2f} GiB"
            f"{'' if rss.exact else ' (since start)'}  process peak {process_peak[0] / 2**30:6.2f} GiB"
        )
        if cancel:
            line += f"  cancel {latency:5.2f} s" if latency is not None else "  cancel  (ended before the request)"
        print(line, flush=True)
        lines.append(line)
    ds, groups = state["ds"], state["groups"]
    summary = (
        f"{n_rows:>10,} data: {ds.n_users:,} users, {ds.n_items:,} items, {ds.n_interactions:,} rows; "
        f"groups retain {len(groups.retain):,} forget {len(groups.forget):,} similar {len(groups.similar):,} "
        f"({groups.similar_rule}); retain NDCG@10 {state['ndcg']['retain'].value:.4f}; "
        + ", ".join(f"{k} AUC {v.auc:.3f}" for k, v in state["attacks"].items())
    )
    print(summary, flush=True)
    return lines + [summary]


def _cancel_latency(fn, state: dict, delay: float = 0.3) -> float | None:
    """Seconds from a stop request (``delay`` into the stage) to the stage ending; None
    when the stage ended before the request.

    Measured from when the request was *due*, not from when the timer thread got to
    run: a long call that holds the GIL delays the thread setting the flag exactly as
    it would delay a window's Stop button, and that wait belongs in the figure."""
    stop = threading.Event()

    def check() -> None:
        if stop.is_set():
            raise Cancelled("cancelled by the bench")

    timer = threading.Timer(delay, stop.set)
    started = time.perf_counter()
    timer.start()
    try:
        with cancellable(check):
            fn(state, Reporter(should_stop=stop.is_set))
    except Cancelled:
        pass
    ended = time.perf_counter()
    timer.cancel()
    return ended - (started + delay) if ended > started + delay else None


def _header(argv: list[str] | None) -> str:
    """The exact command, the machine and the date, as the results file's first lines."""
    command = " ".join(shlex.quote(a) for a in ["bench/bench_scale.py", *(sys.argv[1:] if argv is None else argv)])
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"# .venv/bin/python {command}\n# {platform.node()}: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"{platform.system()} {platform.release()}; torch {torch.__version__}, numpy {np.__version__}\n"
        f"# {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; load average at start {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="interaction counts, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cancel", action="store_true", help="also measure cancel latency per stage")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument(
        "--row-wise",
        action="store_true",
        help="train the BPR epoch with sparse gradients + SparseAdam (rows a batch touches only)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    warm_up()  # torch's one-off optimiser import (~2 s), as every method's prepare does
    print(_header(argv), flush=True)
    print(
        f"bench_scale: {torch.get_num_threads()} torch threads, users = {USERS_PER_ROW} × interactions, "
        f"items = interactions / {ROWS_PER_ITEM} capped at {MAX_ITEMS:,}, request users:random:0.05, "
        f"BPR dim 64 batch 8192{', row-wise (SparseAdam)' if args.row_wise else ', Adam'}",
        flush=True,
    )
    process_peak = [0]
    for size in (int(s) for s in args.sizes.split(",")):
        run_size(size, args.seed, args.cancel, process_peak, args.row_wise)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
