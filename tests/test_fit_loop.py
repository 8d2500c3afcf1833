"""The one fit loop: seeded streams, fixed budgets, early stopping with best-state restore,
timed cancel checks, declared curve values."""

from __future__ import annotations

import time

import pytest
import torch

from core.errors import Cancelled
from core.events import MetricEvent, Reporter
from core.fit_loop import EpochEnd, FitPlan, fit


def _regression(seed: int = 0, n: int = 64):
    """A tiny least-squares problem: the step draws noise from the loop's generator."""
    x = torch.randn(n, 3, generator=torch.Generator().manual_seed(123))
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    weight = torch.zeros(3, requires_grad=True)

    def step(idx, generator):
        noise = 0.01 * torch.randn(len(idx), generator=generator)
        return ((x[idx] @ weight - y[idx] - noise) ** 2).mean()

    return weight, step


def test_same_seed_same_numbers_other_seed_other_numbers():
    results = []
    for seed in (0, 0, 1):
        weight, step = _regression()
        fit(step, [weight], 64, FitPlan(epochs=3, batch_size=8, seed=seed), Reporter(), lr=0.05)
        results.append(weight.detach().clone())
    assert torch.equal(results[0], results[1])
    assert not torch.equal(results[0], results[2])


def test_fixed_budget_without_validation_runs_every_epoch_and_reports_loss():
    events = []
    weight, step = _regression()
    result = fit(
        step,
        [weight],
        64,
        FitPlan(epochs=4, batch_size=16, seed=0, stage="train"),
        Reporter(events.append).for_model("m"),
        lr=0.05,
    )
    points = [e for e in events if isinstance(e, MetricEvent)]
    assert result.epochs == 4 and result.stopped == ""
    assert [p.step for p in points] == [1, 2, 3, 4]
    assert all(p.series == "m/train" and set(p.values) == {"loss"} for p in points)
    assert points[-1].values["loss"] < points[0].values["loss"]


def test_early_stopping_restores_the_best_state():
    weight, step = _regression()
    scores = iter([0.1, 0.5, 0.3, 0.2, 0.4, 0.9])
    states = []

    def validate():
        states.append(weight.detach().clone())
        return next(scores)

    result = fit(
        step, [weight], 64, FitPlan(epochs=6, batch_size=16, seed=0, patience=3), Reporter(), lr=0.05, validate=validate
    )
    assert result.epochs == 5 and result.best_epoch == 2 and result.best_score == 0.5
    assert "early stop at epoch 5" in result.stopped
    assert torch.equal(weight.detach(), states[1])


def test_after_epoch_adds_values_and_can_stop():
    events = []
    weight, step = _regression()
    result = fit(
        step,
        [weight],
        64,
        FitPlan(epochs=10, batch_size=16, seed=0, stage="unlearn"),
        Reporter(events.append),
        lr=0.05,
        after_epoch=lambda epoch: EpochEnd({"probe": float(epoch)}, "enough" if epoch == 2 else ""),
    )
    points = [e for e in events if isinstance(e, MetricEvent)]
    assert result.epochs == 2 and result.stopped == "enough"
    assert [p.values["probe"] for p in points] == [1.0, 2.0]


def test_step_parts_are_row_weighted_means():
    events = []
    weight = torch.zeros(1, requires_grad=True)

    def step(idx, _generator):
        return (weight**2).sum() + 0.0, {"rows": float(len(idx))}

    fit(step, [weight], 10, FitPlan(epochs=1, batch_size=4, seed=0), Reporter(events.append))
    point = next(e for e in events if isinstance(e, MetricEvent))
    assert point.values["rows"] == pytest.approx((4 * 4 + 4 * 4 + 2 * 2) / 10)


def test_cancel_is_checked_by_time_not_by_batch_count():
    """A slow batch (50 ms): a stop requested mid-epoch is honoured within ~0.25 s."""
    weight = torch.zeros(1, requires_grad=True)
    asked = {"at": None}

    def step(idx, _generator):
        time.sleep(0.05)
        if asked["at"] is None:
            asked["at"] = time.monotonic()
        return (weight**2).sum()

    reporter = Reporter(should_stop=lambda: asked["at"] is not None)
    with pytest.raises(Cancelled):
        fit(step, [weight], 1000, FitPlan(epochs=1, batch_size=1, seed=0), reporter)
    assert time.monotonic() - asked["at"] < 0.5


def test_nothing_to_train_returns_at_once():
    weight = torch.zeros(1, requires_grad=True)
    result = fit(lambda idx, g: weight.sum(), [weight], 0, FitPlan(epochs=5, batch_size=4, seed=0), Reporter())
    assert result.epochs == 0


def test_a_given_generator_continues_the_callers_stream():
    from core.fit_loop import make_generator

    results = []
    for draws_before in (1, 1, 0):
        weight, step = _regression()
        generator = make_generator(0, "cpu")
        torch.rand(draws_before, generator=generator)
        fit(step, [weight], 64, FitPlan(epochs=2, batch_size=8, seed=0), Reporter(), lr=0.05, generator=generator)
        results.append(weight.detach().clone())
    assert torch.equal(results[0], results[1])
    assert not torch.equal(results[0], results[2])  # the fresh stream (seed 0) is another one
