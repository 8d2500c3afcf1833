"""Full-sort evaluation against the bare arithmetic it cannot avoid (issue 14).

On ML-1M (every user: no outsiders, random 8:1:1 split, BPR dim 64), times

* ``bare``: a batched matmul, an in-place ``-inf`` fill of the training items (index
  pairs built before the clock starts) and ``torch.topk`` — no metrics at all;
* ``ours``: :func:`core.evaluation.full_sort.evaluate_users` — the same work plus
  building the mask from the CSR, looking the ranked items up in the test sets and
  every metric at K = 5, 10, 20;
* ``dense``: the former way (a dense bool mask and ``masked_fill`` out of place, a dense
  bool test matrix gathered, metrics per batch of 1024 users), for reference.

Median of ``--repeats`` runs each, in turns. The model's weights do not change the
cost, so an untrained (seeded) BPR is used unless ``--epochs`` says otherwise.

    .venv/bin/python bench/bench_full_sort.py                   # /work/shared/data/ml-1m
    .venv/bin/python bench/bench_full_sort.py --data PATH --threads 1
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.loaders import load_dataset  # noqa: E402
from core.errors import CragruError  # noqa: E402
from core.evaluation.full_sort import RowSets, batch_rows, evaluate_users  # noqa: E402
from core.evaluation.metrics import ranking_metrics  # noqa: E402
from core.models.base import ModelConfig  # noqa: E402
from core.models.training import build_model, train_recommender  # noqa: E402
from core.split import SplitConfig, make_split  # noqa: E402

KS = (5, 10, 20)


def _bare(user_emb, item_emb, batches, fills) -> None:
    for batch, (rows, cols) in zip(batches, fills):
        scores = user_emb[batch] @ item_emb.T
        scores.index_put_((rows, cols), torch.tensor(float("-inf")))
        torch.topk(scores, max(KS), dim=1)


def _dense(model, users, truth: RowSets, mask: RowSets, step: int) -> None:
    for start in range(0, len(users), step):
        batch = users[start : start + step]
        scores = model.score(torch.as_tensor(batch)).masked_fill(mask.dense(batch, "cpu"), float("-inf"))
        top = torch.topk(scores, max(KS), dim=1).indices
        hits = torch.gather(truth.dense(batch, "cpu"), 1, top)
        ranking_metrics(hits, torch.as_tensor(truth.sizes[batch]), KS)


def _time(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default="ml-1m",
        help="dataset folder or name (default: ml-1m from CRAGRU_DATA_DIR or shared/data beside the checkout)",
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--epochs", type=int, default=0, help="BPR epochs before timing (0: seeded init)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        ds = load_dataset(args.data)
    except CragruError as exc:
        print(
            f"bench_full_sort: cannot load {args.data!r}: {exc}. Pass --data PATH (an ML-1M folder) or set "
            "CRAGRU_DATA_DIR.",
            file=sys.stderr,
        )
        return 2
    split = make_split(ds, SplitConfig(outsider_fraction=0.0))
    mask, truth = RowSets.from_rows(ds, split.train), RowSets.from_rows(ds, split.test)
    config = ModelConfig(name="bpr", dim=64, epochs=max(1, args.epochs), seed=0)
    train = (ds.users[split.train], ds.items[split.train])
    model = (
        train_recommender(config, ds.n_users, ds.n_items, *train, "cpu")
        if args.epochs
        else build_model(config, ds.n_users, ds.n_items, *train, "cpu")
    ).eval()
    users = np.arange(ds.n_users)
    step = batch_rows(ds.n_items)
    batches = [torch.as_tensor(users[s : s + step]) for s in range(0, len(users), step)]
    fills = [tuple(torch.as_tensor(a) for a in mask.entries(b.numpy())) for b in batches]
    user_emb, item_emb = (t.detach() for t in model.embeddings())
    runs = {
        "bare": lambda: _bare(user_emb, item_emb, batches, fills),
        "ours": lambda: evaluate_users(model, users, truth, mask, KS),
        "dense": lambda: _dense(model, users, truth, mask, 1024),
    }
    with torch.no_grad():
        for fn in runs.values():
            fn()  # warm-up
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, fn in runs.items():
                times[name] += _time(fn, 1)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"bench_full_sort: {ds.name} {ds.n_users} users x {ds.n_items} items, {len(split.train)} masked train rows, "
        f"{len(split.test)} test rows; {torch.get_num_threads()} torch threads, "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}; batch {step} users; "
        f"median of {args.repeats}"
    )
    print(f"  bare matmul + in-place mask + top-{max(KS)}   {median['bare'] * 1e3:8.1f} ms")
    print(
        f"  ours (evaluate_users, all metrics)   {median['ours'] * 1e3:8.1f} ms   "
        f"{median['ours'] / median['bare']:.2f}x bare (target <= 1.20x)"
    )
    print(
        f"  dense mask + masked_fill (former)    {median['dense'] * 1e3:8.1f} ms   "
        f"{median['dense'] / median['bare']:.2f}x bare"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
