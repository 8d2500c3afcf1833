"""torch's threads sized to the usable cores, and OpenMP told not to spin (issue 23)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import core.device as device


@pytest.fixture
def clean(monkeypatch):
    """No user choice in the environment, torch at its default, no earlier sizing; restored after."""
    before = torch.get_num_threads()
    for name in device.THREADS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(device, "_last", {})
    monkeypatch.setattr(device, "usable_cores", lambda: 4)
    torch.set_num_threads(device._TORCH_DEFAULT)
    yield monkeypatch
    torch.set_num_threads(before)


def test_threads_follow_the_usable_cores_not_the_load(clean):
    """Passive OpenMP threads cost nothing while they wait: the count is the affinity's, whatever the load."""
    clean.setattr(os, "getloadavg", lambda: (3.0, 0.0, 0.0))
    assert device.size_threads() == 4
    assert torch.get_num_threads() == 4
    assert str(device.resolve_device("cpu")) == "cpu"
    clean.setattr(device, "usable_cores", lambda: 2)  # a container's share shrank: sized again
    assert device.size_threads() == 2


def test_a_chosen_thread_count_is_left_alone(clean):
    clean.setattr(os, "getloadavg", lambda: (3.0, 0.0, 0.0))
    clean.setenv("OMP_NUM_THREADS", "3")
    torch.set_num_threads(3)
    assert device.size_threads() == 3
    clean.delenv("OMP_NUM_THREADS")
    assert device.size_threads() == 3  # set by code (a bench's --threads): not the default, kept
    clean.setenv("CRAGRU_THREADS", "2")
    assert device.size_threads() == 2 and torch.get_num_threads() == 2


def test_importing_core_asks_openmp_not_to_spin():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = "import core, os; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"  # a user's own choice wins
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ACTIVE"


def test_methods_all_ticks_every_registered_method():
    """``cragru-run --methods all``: every unlearning method, as Tick all in the window; the
    controls are named when wanted (issue 23)."""
    from core.cli import build_parser, config_from_args
    from core.methods.registry import list_methods

    config = config_from_args(build_parser().parse_args(["--methods", "ALL"]))
    assert [m.name for m in config.methods] == [s.name for s in list_methods() if not s.has("control")]
    assert "retrain" in [m.name for m in config.methods] and "ids_only" not in [m.name for m in config.methods]


def test_small_steps_run_on_one_thread_and_give_the_count_back(clean):
    """A recommender's fit runs its tiny steps on one CPU thread; the count comes back after,
    also when the fit fails; a GPU device or a count the user chose is left alone."""
    from core.device import small_step_threads

    torch.set_num_threads(2)
    with small_step_threads(torch.device("cpu")):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), small_step_threads(torch.device("cpu")):
        raise RuntimeError("a failed fit")
    assert torch.get_num_threads() == 2
    with small_step_threads(torch.device("cuda")):
        assert torch.get_num_threads() == 2
    clean.setenv("CRAGRU_THREADS", "2")
    with small_step_threads(torch.device("cpu")):
        assert torch.get_num_threads() == 2


def test_a_recommender_fit_sees_one_thread(clean):
    from core.events import Reporter
    from core.fit_loop import FitPlan, fit

    torch.set_num_threads(2)
    seen = []
    weight = torch.nn.Parameter(torch.zeros(4))

    def step(rows, generator):
        seen.append(torch.get_num_threads())
        return (weight - 1).pow(2).sum()

    fit(step, [weight], 8, FitPlan(epochs=1, batch_size=4, seed=0), Reporter(), small_steps=True)
    assert seen and set(seen) == {1} and torch.get_num_threads() == 2
