"""Issue 14: is the demo live-ready? Start-up times, the demo run per method (cold, warm),
and CRAGRU's LLM users/s before/after next to the model's arithmetic limit on this CPU.

    .venv/bin/python bench/bench_demo.py                 # everything
    .venv/bin/python bench/bench_demo.py --only llm      # LLM users/s (before/after, breakdown)
    .venv/bin/python bench/bench_demo.py --only demo     # the demo run, cold then warm
    .venv/bin/python bench/bench_demo.py --only startup  # splash and window times (offscreen Qt)

Wall times are only meaningful on an idle machine; CPU times (``process_time``) are printed
beside them, because on a shared machine wall time counts the other jobs too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_flops(seconds: float = 2.0) -> float:
    """Measured fp32 matmul FLOP/s with torch's threads (the ceiling an LLM forward can reach)."""
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        a @ b
        n += 1
    return 2 * 1024**3 * n / (time.perf_counter() - t)


def _cragru_state(n_users: int):
    """The demo's CRAGRU serving state (real bundled LLM), its users and their prompts."""
    import numpy as np

    from core.methods.cragru.method import build_state
    from core.methods.registry import get_method
    from tests.test_cragru_common import make_context

    ctx = make_context(epochs=0)
    params = get_method("cragru").validate({"strategy": "recent", "fusion_weight": 1.0})
    params["llm_batch_size"] = 4
    state, _, _ = build_state(ctx, params)
    users = np.asarray(ctx.groups.retain[:n_users])
    return state, users


def bench_llm(n_users: int, threads: int) -> None:
    """Users/s of CRAGRU's scoring: the packed batch (before) and the cached prefill (after)."""
    import numpy as np
    import torch

    from core.methods.cragru.scoring import CachedScorer

    torch.set_num_threads(threads)
    t = time.perf_counter()
    state, users = _cragru_state(n_users)
    print(f"LLM loaded in {time.perf_counter() - t:.1f} s; torch threads {torch.get_num_threads()}")
    backend = state.backend
    t = time.perf_counter()
    prompts = [state.prompt(int(u)) for u in users]
    build_s = time.perf_counter() - t
    encode = lambda s: backend.tokenizer.encode(s, add_special_tokens=False)  # noqa: E731
    t = time.perf_counter()
    ids = [encode(backend.format(p.text)) for p in prompts]
    cands = [[encode(c) for c in p.candidate_texts] for p in prompts]
    tok_s = time.perf_counter() - t
    tokens = sum(len(i) for i in ids) + sum(len(c) + 1 for cs in cands for c in cs)
    print(f"{len(users)} users: prompt building {build_s:.2f} s (tokenising for the budget included), "
          f"tokenisation {tok_s:.3f} s, {tokens / len(users):.0f} tokens a user")
    backend.score([prompts[0].text], [prompts[0].candidate_texts])  # first call: one-off kernel set-up
    w0, c0 = time.perf_counter(), time.process_time()
    before = backend.score([p.text for p in prompts], [p.candidate_texts for p in prompts])
    b_wall, b_cpu = time.perf_counter() - w0, time.process_time() - c0
    scorer = CachedScorer(backend.model, backend.pad_id, backend.device)
    from core.methods.cragru.state import _common_prefix

    scorer.set_prefix(_common_prefix(ids))
    keep = backend.max_candidate_tokens - len(backend.end_ids)
    w0, c0 = time.perf_counter(), time.process_time()
    after = np.stack([scorer.score(i, [c[:keep] + backend.end_ids for c in cs]) for i, cs in zip(ids, cands)])
    a_wall, a_cpu = time.perf_counter() - w0, time.process_time() - c0
    same = float(np.abs(before - after).max())
    params = sum(p.numel() for p in backend.model.parameters())
    flops = cpu_flops()
    limit = flops / (2 * params * tokens / len(users))
    print(f"before (packed batches of {backend.batch_size}): {len(users) / b_wall:.3f} users/s wall, "
          f"{b_cpu / len(users):.2f} CPU s a user")
    print(f"after  (one chunked prefill, shared prefix, candidates from the cache): {len(users) / a_wall:.3f} users/s "
          f"wall, {a_cpu / len(users):.2f} CPU s a user; prefill {scorer.timing['prefill_s']:.1f} s, candidates "
          f"{scorer.timing['candidates_s']:.1f} s, prefix tokens reused {scorer.timing['prefix_tokens_saved']:.0f}; "
          f"largest score difference {same:.2e}")
    print(f"arithmetic limit: {params / 1e6:.0f}M parameters × 2 FLOP × {tokens / len(users):.0f} tokens a user "
          f"÷ {flops / 1e9:.1f} GFLOP/s measured = {limit:.3f} users/s")


def bench_demo() -> None:
    """The demo dataset with every registered method ticked (their defaults), run twice."""
    from core.config import ExperimentConfig, MethodChoice
    from core.methods.registry import list_methods
    from core.runner import run_experiment

    config = ExperimentConfig(methods=tuple(MethodChoice(m.name) for m in list_methods()))
    for label in ("cold", "warm"):
        w0, c0 = time.perf_counter(), time.process_time()
        result = run_experiment(config)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(f"demo run ({label}): {wall:.1f} s wall, {cpu:.1f} s CPU")
        for name, report in result.models.items():
            sample = report.extras.get("eval_users_per_group")
            extra = f"  (LLM ranks {int(sample)} users a group)" if sample else ""
            print(f"  {name:>12}: prep {report.prep_time_s or 0:6.2f} s, step {report.time_s:6.2f} s{extra}")


def bench_startup() -> None:
    """Seconds to the splash and to a usable window, from a fresh process (offscreen Qt)."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), CRAGRU_STARTUP_PROBE="1")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "cragru_gui", "--demo"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    total = time.perf_counter() - t
    marks = dict(line.split("=", 1) for line in out.stdout.splitlines() if line.startswith(("splash=", "window=")))
    print(f"start-up: splash on screen after {float(marks.get('splash', 'nan')):.2f} s, window usable after "
          f"{float(marks.get('window', 'nan')):.2f} s (process {total:.1f} s incl. interpreter and exit)")
    if out.returncode:
        print(out.stderr[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("llm", "demo", "startup"), default=None)
    parser.add_argument("--users", type=int, default=8, help="users for the LLM users/s figures")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="torch threads for the LLM figures (1 on a busy machine: a second thread waits)")
    args = parser.parse_args()
    if args.only in (None, "startup"):
        bench_startup()
    if args.only in (None, "llm"):
        bench_llm(args.users, args.threads)
    if args.only in (None, "demo"):
        bench_demo()


if __name__ == "__main__":
    main()
