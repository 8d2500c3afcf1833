"""The one training loop: epochs of seeded mini-batches, cancel checks, curves, early stopping.

Every trainable thing in ``core`` (base recommenders, retraining, fine-tuning, NegGrad and
reverse BPR, SISA/RecEraser shards and aggregator, UnlearnRec's encoder, the LLM
methods' adapters) trains through :func:`fit`. The caller supplies what differs — the
loss of one mini-batch — and the loop owns what must be the same everywhere:

- a ``torch.Generator`` seeded per call (``seed``), handed to every step, so the same
  inputs and seed give the same numbers on the same device, and two calls never share
  a random stream;
- shuffled mini-batches over ``n_rows`` (a fresh permutation each epoch);
- cancel checks by *time* (every :data:`CHECK_SECONDS`, and at every epoch boundary), so
  a Stop click is honoured within a fraction of a second whatever a batch costs;
- progress and one curve point per epoch through the reporter: ``loss`` (row-weighted
  mean objective), the step's own loss parts, ``valid_ndcg10`` when validated, and
  whatever ``after_epoch`` adds — the keys a method declares as its curves;
- early stopping on a validation callable with ``patience``, restoring the best state;
  without one, a fixed epoch count and the last state.

Optimiser: ``torch.optim.Adam`` (or the caller's). Building the first torch optimiser of a
process imports ``torch._dynamo`` (measured 2.0–2.2 s on the 2-core CPU, torch 2.13; the
steps themselves cost nothing extra): :func:`warm_up` pays that once, outside any timed
step: the runner (and a request stream) call it once when a run starts. It also keeps freed
tensor memory in the process (:mod:`core.memory_reuse`: no page faults for every step's
temporaries), which changes no number.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

import torch

from core.device import small_step_threads
from core.events import Reporter
from core.memory_reuse import keep_freed_memory

CHECK_SECONDS = 0.2
"""Longest time between two cancel checks (and progress updates) inside an epoch."""

StepResult = Union[torch.Tensor, tuple[torch.Tensor, dict[str, float]]]
EpochStart = Callable[[torch.Tensor, torch.Generator], None]
"""``epoch_start(order, generator)``: called with an epoch's row order before its first batch
(the batches are ``order``'s consecutive slices), so a step can gather or draw for the
whole epoch at once."""
Step = Callable[[torch.Tensor, torch.Generator], StepResult]
"""``step(batch_indices, generator) -> objective`` or ``(objective, parts)``: the scalar loss of
one mini-batch (the loop calls ``backward`` and the optimiser) and optional named parts,
averaged over the epoch and reported beside ``loss``. Draw any extra randomness (negatives,
retained rows) from ``generator``."""


@dataclass(frozen=True)
class EpochEnd:
    """What ``after_epoch`` returns: extra curve values, and a reason to stop (empty: go on)."""

    values: dict[str, float] = field(default_factory=dict)
    stop: str = ""


@dataclass(frozen=True)
class FitResult:
    """How a fit went: epochs run, best validation epoch and score (NaN without
    validation), the last epoch's mean loss and why it stopped (``""``: budget spent)."""

    epochs: int
    best_epoch: int
    best_score: float
    loss: float
    stopped: str = ""


@dataclass(frozen=True)
class FitPlan:
    """The schedule of one fit. ``epochs``: budget (an epoch is one pass over ``n_rows``).
    ``patience``/``eval_every``: validations without improvement before stopping, and
    epochs between validations. ``metric_every``: epochs between curve points.
    ``clip_norm``: gradient-norm clip of every step (None: none). ``shuffle``: False
    hands the batches in row order (the generator is still the step's to use)."""

    epochs: int
    batch_size: int
    seed: int
    stage: str = "train"
    patience: int = 10
    eval_every: int = 1
    metric_every: int = 1
    clip_norm: float | None = None
    shuffle: bool = True


class CancelClock:
    """Calls ``reporter.check()`` when :data:`CHECK_SECONDS` have passed since the last one:
    cheap enough for every batch, bounded in latency whatever a batch costs."""

    def __init__(self, reporter: Reporter, every: float = CHECK_SECONDS) -> None:
        self.reporter, self.every = reporter, every
        self.last = time.monotonic()

    def due(self) -> bool:
        """Check now if it is time; True when a check was made (callers may report progress then)."""
        now = time.monotonic()
        if now - self.last < self.every:
            return False
        self.reporter.check()
        self.last = now
        return True


_warmed = False


def warm_up() -> None:
    """Pay torch's one-off optimiser import (``torch._dynamo``, ~2 s on a small CPU) now, and
    keep freed memory for reuse (:func:`core.memory_reuse.keep_freed_memory`).

    Idempotent and cheap after the first call; a run calls it when it starts so the cost
    never lands in a timed unlearning step.
    """
    global _warmed
    keep_freed_memory()
    if not _warmed:
        weight = torch.nn.Parameter(torch.zeros(1))
        weight.grad = torch.ones(1)
        torch.optim.Adam([weight]).step()
        torch.nn.utils.clip_grad_norm_([weight], 1.0)
        _warmed = True


def make_generator(seed: int, device: torch.device | str) -> torch.Generator:
    """A fresh generator on ``device`` seeded with ``seed``: one random stream per fit."""
    return torch.Generator(device=torch.device(device)).manual_seed(int(seed))


def fit(
    step: Step,
    params: Sequence[torch.Tensor],
    n_rows: int,
    plan: FitPlan,
    reporter: Reporter,
    *,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    validate: Callable[[], float] | None = None,
    after_epoch: Callable[[int], EpochEnd] | None = None,
    module: torch.nn.Module | None = None,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    epoch_start: EpochStart | None = None,
    small_steps: bool = False,
) -> FitResult:
    """Train ``params`` for up to ``plan.epochs`` passes over ``n_rows`` rows.

    ``params``: the tensors being trained (the optimiser's, and what best-state restore
    copies). ``optimizer``: defaults to ``torch.optim.Adam(params, lr)``. ``validate()``:
    a score to maximise (validation NDCG@10), measured every ``plan.eval_every`` epochs
    and at the last one; training stops after ``plan.patience`` validations without
    improvement and the best state is restored. ``after_epoch(epoch)`` runs after each
    epoch (before validation) and may add curve values or stop the fit. ``module`` is put
    in train mode for the steps and eval mode for validation and at the end.
    ``device``: where the generator lives (default: the first parameter's device).
    ``generator``: continue a stream the caller has already drawn from (e.g. fixed probe
    negatives drawn before training); by default a fresh one seeded with ``plan.seed``.
    ``epoch_start(order, generator)``: see :data:`EpochStart`.
    ``small_steps``: each step is a batch of embedding rows, run on one CPU thread
    (:func:`core.device.small_step_threads`).
    Runs with gradients enabled even if the caller holds ``no_grad``.
    Raises :class:`~core.errors.Cancelled` when the reporter's stop flag is set.
    """
    params = list(params)
    device = torch.device(device) if device is not None else params[0].device
    generator = generator if generator is not None else make_generator(plan.seed, device)
    if optimizer is None:
        optimizer = torch.optim.Adam(params, lr=lr)
    loop = _Loop(step, params, n_rows, plan, reporter, optimizer, generator, module, device)
    loop.epoch_start = epoch_start
    with torch.enable_grad(), small_step_threads(device) if small_steps else nullcontext():
        return loop.run(validate, after_epoch)


class _Loop:
    """The state of one :func:`fit` call (kept in an object so each part stays short)."""

    def __init__(self, step, params, n_rows, plan, reporter, optimizer, generator, module, device) -> None:
        self.step, self.params, self.n_rows, self.plan = step, params, int(n_rows), plan
        self.reporter, self.optimizer, self.generator = reporter, optimizer, generator
        self.module, self.device = module, device
        self.clock = CancelClock(reporter)
        self.best_state: list[torch.Tensor] | None = None
        self.epoch_start: EpochStart | None = None

    def run(self, validate, after_epoch) -> FitResult:
        plan, reporter = self.plan, self.reporter
        reporter.check()
        best_score, best_epoch, stale, epoch, loss, stopped = float("-inf"), 0, 0, 0, float("nan"), ""
        if self.n_rows <= 0 or plan.epochs <= 0:
            return self._finish(FitResult(0, 0, float("nan"), loss))
        for epoch in range(1, plan.epochs + 1):
            reporter.check()
            values = self._epoch(epoch)
            loss = values["loss"]
            end = after_epoch(epoch) if after_epoch is not None else EpochEnd()
            values.update(end.values)
            stopped = end.stop
            if validate is not None and (epoch % plan.eval_every == 0 or epoch == plan.epochs or stopped):
                score = self._validate(validate)
                values["valid_ndcg10"] = score
                if score > best_score:
                    best_score, best_epoch, stale = score, epoch, 0
                    self.best_state = [p.detach().clone() for p in self.params]
                else:
                    stale += 1
                    if stale >= plan.patience and not stopped:
                        stopped = (
                            f"early stop at epoch {epoch}: best valid ndcg@10 {best_score:.4f} at epoch {best_epoch}"
                        )
            self._report(epoch, values)
            if stopped:
                reporter.log(f"{plan.stage}: {stopped}")
                break
        score = best_score if validate is not None and best_epoch else float("nan")
        return self._finish(FitResult(epoch, best_epoch, score, loss, stopped))

    def _epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the rows; returns the row-weighted mean loss and parts."""
        plan, n = self.plan, self.n_rows
        if self.module is not None:
            self.module.train()
        if plan.shuffle:
            order = torch.randperm(n, generator=self.generator, device=self.device)
        else:
            order = torch.arange(n, device=self.device)
        if self.epoch_start is not None:
            self.epoch_start(order, self.generator)
        total = torch.zeros((), device=self.device)
        parts_total: dict[str, float] = {}
        n_batches = -(-n // plan.batch_size)
        for b, start in enumerate(range(0, n, plan.batch_size)):
            if self.clock.due():
                self.reporter.progress((epoch - 1 + b / n_batches) / plan.epochs, f"{plan.stage} epoch {epoch}")
            idx = order[start : start + plan.batch_size]
            objective, parts = _split(self.step(idx, self.generator))
            self.optimizer.zero_grad(set_to_none=True)
            objective.backward()
            if plan.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.params, plan.clip_norm)
            self.optimizer.step()
            total += objective.detach() * len(idx)
            for key, value in parts.items():
                parts_total[key] = parts_total.get(key, 0.0) + float(value) * len(idx)
        values = {key: value / n for key, value in parts_total.items()}
        values["loss"] = float(total) / n
        return values

    def _validate(self, validate: Callable[[], float]) -> float:
        if self.module is not None:
            self.module.eval()
        with torch.no_grad():
            return float(validate())

    def _report(self, epoch: int, values: dict[str, float]) -> None:
        plan = self.plan
        if epoch % plan.metric_every == 0 or epoch == plan.epochs or "valid_ndcg10" in values:
            self.reporter.metric(plan.stage, epoch, **values)
        text = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        self.reporter.progress(epoch / plan.epochs, f"{plan.stage} epoch {epoch}: {text}")

    def _finish(self, result: FitResult) -> FitResult:
        if self.best_state is not None:
            with torch.no_grad():
                for param, best in zip(self.params, self.best_state):
                    param.copy_(best)
        if self.module is not None:
            self.module.eval()
        return result


def _split(result: StepResult) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(result, tuple):
        return result[0], result[1]
    return result, {}
