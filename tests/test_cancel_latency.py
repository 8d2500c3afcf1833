"""Cancel within a second at every step, for every registered method.

Each method runs through the whole experiment (base model, preparation, unlearning, its
evaluation, the forgetting evidence) on the demo data with small settings and a tiny
LLM. An uncancelled run records every cancel check: the longest gap between two checks
is the worst cancel latency anywhere in the run. Then the run is cancelled at several
points of its own duration and the delay from the stop flag to ``Cancelled`` is measured.
"""

from __future__ import annotations

import copy
import sys
import threading
import time

import pytest

import core.llm.local as local_llm
from core.config import ExperimentConfig, MethodChoice
from core.errors import Cancelled
from core.experiment import run_experiment
from core.forget_request import ForgetRequest
from core.methods.registry import list_methods
from core.models.base import ModelConfig
from tests.tiny_llm import tiny_llm

LIMIT_S = 1.0
"""The target. A gap counts as too long only if it is over the limit both in wall time
and in process CPU time: on a machine whose cores are busy with other jobs, wall time
measures the neighbours, while the CPU time spent between two checks is the work this
run did without looking at the stop flag (what an idle machine's wall time would be)."""
SMALL = {  # small data settings per method (defaults elsewhere)
    "cragru": {
        "eval_users_per_group": 4,
        "knapsack_values": "llm",
        "knapsack_users": 2,
        "knapsack_levels": 2,
        "fusion_users": 4,
        "w2v_epochs": 3,
        "use_cache": False,
    },
    "dual_memory": {"main_epochs": 2, "side_epochs": 2, "use_cache": False},
    "e2urec": {
        "rec_samples": 32,
        "forget_samples": 16,
        "retain_samples": 16,
        "test_samples": 16,
        "eval_users_per_group": 3,
        "candidates": 10,
        "lora_rank": 4,
        "use_cache": False,
    },
    "sisa": {"n_shards": 3, "epochs": 4},
    "receraser": {"n_shards": 3, "epochs": 4, "agg_epochs": 2},
    "unlearnrec": {"cache": False, "pretrain_steps": 20},
}
MODEL = ModelConfig(dim=32, lr=0.01, epochs=6, patience=3, batch_size=1024)


@pytest.fixture(autouse=True, scope="module")
def _tiny_llm():
    from core.fit_loop import warm_up

    warm_up()  # a once-per-process import (~2 s, torch._dynamo), not a step of any method
    llm = tiny_llm()
    patch = pytest.MonkeyPatch()
    # fresh=True (a method that wraps the model with adapters) gets its own copy, as it does for real
    patch.setattr(local_llm, "load_local_llm", lambda *a, **k: copy.deepcopy(llm) if k.get("fresh") else llm)
    yield
    patch.undo()


def _config(name: str) -> ExperimentConfig:
    return ExperimentConfig(
        model=MODEL,
        request=ForgetRequest.parse("users:random:0.05"),
        methods=(MethodChoice(name, SMALL.get(name, {})),),
    )


class Flag:
    """The stop flag: records when it was read, and when it was set."""

    def __init__(self) -> None:
        self.reads: list[float] = []
        self.cpu: list[float] = []
        self.where: list[str] = []
        self.set_at: float | None = None
        self.set_cpu: float | None = None

    def __call__(self) -> bool:
        self.reads.append(time.perf_counter())
        self.cpu.append(time.process_time())
        caller = sys._getframe(2)  # Reporter.check's caller
        self.where.append(f"{caller.f_code.co_filename.rsplit('/', 1)[-1]}:{caller.f_lineno}")
        return self.set_at is not None


def _cancelled_after(name: str, delay: float) -> tuple[float, float] | None:
    """(wall, CPU) seconds from the flag being set (``delay`` s after start) to
    ``Cancelled``; None when the run ended before the flag was set."""
    flag, outcome = Flag(), {}

    def work() -> None:
        try:
            run_experiment(_config(name), None, flag)
        except Cancelled:
            outcome["at"], outcome["cpu"] = time.perf_counter(), time.process_time()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(delay)
    if not thread.is_alive():
        return None
    flag.set_at, flag.set_cpu = time.perf_counter(), time.process_time()
    thread.join(30.0)
    assert "at" in outcome, f"{name}: not cancelled within 30 s"
    return outcome["at"] - flag.set_at, outcome["cpu"] - flag.set_cpu


KNOWN_SLOW_STEPS: dict[str, str] = {}
"""Methods with a single step longer than the limit, and why (none now: measured on the idle
2-core CPU, the longest gap is dual memory's T5 step, 0.57 s; every other method < 0.4 s)."""


@pytest.mark.slow
@pytest.mark.parametrize("name", [m.name for m in list_methods()])
def test_every_step_checks_for_cancel_within_a_second(name):
    if name in KNOWN_SLOW_STEPS:
        pytest.xfail(KNOWN_SLOW_STEPS[name])
    flag = Flag()
    start = time.perf_counter()
    run_experiment(_config(name), None, flag)
    total = time.perf_counter() - start
    marks = [start, *flag.reads, time.perf_counter()]
    cpu = [flag.cpu[0] if flag.cpu else time.process_time(), *flag.cpu, time.process_time()]
    places = ["start", *flag.where, "end"]
    gaps = [(min(b - a, cb - ca), b - a, i) for i, (a, b, ca, cb) in enumerate(zip(marks, marks[1:], cpu, cpu[1:]))]
    gap, wall, i = max(gaps)
    assert gap < LIMIT_S, (
        f"{name}: {wall:.2f} s ({gap:.2f} s of CPU) without a cancel check between {places[i]} "
        f"and {places[i + 1]} ({(marks[i] - start) / total:.0%} into a {total:.1f} s run)"
    )
    delay = _cancelled_after(name, 0.5 * total)
    if delay is not None:  # None: this run was faster than the reference one
        assert min(delay) < LIMIT_S, f"{name}: cancel took {delay[0]:.2f} s ({delay[1]:.2f} s of CPU)"
