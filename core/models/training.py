"""Mini-batch BPR training with early stopping on validation NDCG@10.

One loop serves base training, retraining and fine-tuning (``model=``): Adam, one
uniformly sampled negative per positive, objective ``bpr + reg · emb_l2`` where
``emb_l2 = (‖u‖² + ‖i‖² + ‖j‖²) / 2 / batch`` on the batch's raw embeddings (RecBole's
EmbLoss). The epochs, batches, seeded generator, cancel checks, curves and early
stopping are :func:`core.fit_loop.fit`'s: the same inputs and seed give the same numbers
on the same device.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from core.errors import ConfigError
from core.evaluation.full_sort import RowSets
from core.events import NULL_REPORTER, Reporter
from core.fit_loop import FitPlan, FitResult, fit
from core.models.base import ModelConfig
from core.models.factory import create_model
from core.models.negative_sampling import NegativeSampler
from core.models.recommender import Recommender
from core.models.validation import ValidationRanking

VALID_METRIC = "ndcg@10"


def build_model(
    config: ModelConfig,
    n_users: int,
    n_items: int,
    train_users: np.ndarray,
    train_items: np.ndarray,
    device: torch.device | str,
) -> Recommender:
    """A fresh model of ``config.name`` with its init seeded by ``config.seed``."""
    config.validate()
    return create_model(config, n_users, n_items, train_users, train_items, device)


def row_sets(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> RowSets:
    """Per-user item sets of (users, items) arrays, for masks and ground truths."""
    data = np.ones(len(users), dtype=np.float32)
    matrix = sp.csr_matrix((data, (np.asarray(users), np.asarray(items))), shape=(n_users, n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return RowSets(matrix)


class _Batches:
    """Each step's (users, positives, negatives).

    On the CPU an epoch's rows and negatives are gathered in one go when it starts
    (:data:`core.fit_loop.EpochStart`) and a step takes the next slice: the same numbers,
    since nothing else draws from the fit's generator between the steps and torch's CPU
    generator gives ``rand(a)`` then ``rand(b)`` exactly as ``rand(a + b)``; it spares
    about ten small tensor ops per step. Elsewhere (a CUDA generator's draws depend on how
    they are split) each step gathers and draws its own, as before.
    """

    def __init__(self, users_t: torch.Tensor, items_t: torch.Tensor, sampler: NegativeSampler) -> None:
        self.users_t, self.items_t, self.sampler = users_t, items_t, sampler
        self.whole_epoch = users_t.device.type == "cpu"
        self.epoch: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self.at = 0

    def epoch_start(self, order: torch.Tensor, generator: torch.Generator) -> None:
        if self.whole_epoch:
            users = self.users_t[order]
            self.epoch = (users, self.items_t[order], self.sampler.sample(users, generator))
            self.at = 0

    def __call__(self, idx: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        if self.epoch is None:
            users = self.users_t[idx]
            return users, self.items_t[idx], self.sampler.sample(users, generator)
        part = slice(self.at, self.at + len(idx))
        self.at += len(idx)
        return tuple(t[part] for t in self.epoch)


class _Validator:
    """Valid NDCG@10 with the training items masked, on users that have valid rows."""

    def __init__(self, valid, train_users, train_items, n_users: int, n_items: int) -> None:
        v_users, v_items = (np.asarray(a, dtype=np.int64) for a in valid)
        self.users = np.unique(v_users)
        self.truth = row_sets(v_users, v_items, n_users, n_items)
        self.mask = row_sets(train_users, train_items, n_users, n_items)
        self.ranking: ValidationRanking | None = None  # built on the first call, on the model's device

    def __call__(self, model: Recommender) -> float:
        """Mean valid NDCG@10 (:data:`VALID_METRIC`; as ``evaluate_users``, bit for bit)."""
        model.eval()
        if self.ranking is None:
            self.ranking = ValidationRanking(self.users, self.truth, self.mask, model.device)
        values = self.ranking.ndcg(model)
        values = values[~np.isnan(values)]
        return float(values.mean()) if len(values) else float("nan")


def train_recommender(
    config: ModelConfig,
    n_users: int,
    n_items: int,
    train_users: np.ndarray,
    train_items: np.ndarray,
    device: torch.device | str,
    *,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    reporter: Reporter = NULL_REPORTER,
    stage: str = "train",
    model: Recommender | None = None,
    epochs: int | None = None,
    row_wise: bool = False,
) -> Recommender:
    """Train (or, with ``model=``, continue training) on the given rows.

    With ``valid`` rows, NDCG@10 is measured every ``config.eval_every`` epochs and
    training stops after ``config.patience`` evaluations without improvement; the best
    state is restored. ``epochs`` overrides ``config.epochs``. A continued model keeps
    its ``known_users``/``popularity`` and (LightGCN) its graph: the caller decides
    what it should know. Raises :class:`~core.errors.Cancelled` when the reporter's
    stop flag is set (checked at least every 0.2 s).

    ``row_wise`` (BPR-MF only): sparse gradients and ``torch.optim.SparseAdam``, which
    updates only the rows a batch touches — a step costs the batch, not the tables, so an
    epoch grows with the rows instead of users × steps. Not the default: its moments
    differ from Adam's (untouched rows keep theirs), so every published figure uses Adam.
    """
    return fit_recommender(
        config,
        n_users,
        n_items,
        train_users,
        train_items,
        device,
        valid=valid,
        reporter=reporter,
        stage=stage,
        model=model,
        epochs=epochs,
        row_wise=row_wise,
    )[0]


def fit_recommender(
    config: ModelConfig,
    n_users: int,
    n_items: int,
    train_users: np.ndarray,
    train_items: np.ndarray,
    device: torch.device | str,
    *,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    reporter: Reporter = NULL_REPORTER,
    stage: str = "train",
    model: Recommender | None = None,
    epochs: int | None = None,
    row_wise: bool = False,
) -> tuple[Recommender, FitResult]:
    """:func:`train_recommender`, also returning how the fit went (epochs run, best epoch)."""
    config.validate()
    if row_wise and config.name != "bpr":
        raise ConfigError(f"row-wise updates need raw embedding tables (BPR-MF), not {config.name}")
    device = torch.device(device)
    train_users = np.asarray(train_users, dtype=np.int64)
    train_items = np.asarray(train_items, dtype=np.int64)
    reporter.check()
    if model is None:
        model = build_model(config, n_users, n_items, train_users, train_items, device)
    else:
        model = model.to(device)
    reporter.check()  # building a model of 1M users and its sampler take ~1 s each: a stop lands between
    validator = _Validator(valid, train_users, train_items, n_users, n_items) if valid is not None else None
    if validator is not None and len(validator.users) == 0:
        validator = None  # nothing to stop on: train the full epoch budget
    if len(train_users) == 0:
        return model.eval(), FitResult(0, 0, float("nan"), float("nan"))
    sampler = NegativeSampler(train_users, train_items, n_users, n_items, device)
    batches = _Batches(
        torch.as_tensor(train_users, device=device), torch.as_tensor(train_items, device=device), sampler
    )

    def step(idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        loss, reg = model.bpr_loss(*batches(idx, generator), sparse=row_wise)
        return loss + config.reg * reg

    plan = FitPlan(
        epochs=int(epochs if epochs is not None else config.epochs),
        batch_size=int(config.batch_size),
        seed=int(config.seed),
        stage=stage,
        patience=config.patience,
        eval_every=config.eval_every,
    )
    params = list(model.parameters())
    optimizer = torch.optim.SparseAdam(params, lr=config.lr) if row_wise else None
    result = fit(
        step,
        params,
        len(train_users),
        plan,
        reporter,
        lr=config.lr,
        module=model,
        device=device,
        optimizer=optimizer,
        validate=(lambda: validator(model)) if validator is not None else None,
        epoch_start=batches.epoch_start,
        small_steps=True,
    )
    return model.eval(), result
