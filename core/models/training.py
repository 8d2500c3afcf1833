"""Mini-batch BPR training with early stopping on validation NDCG@10.

One loop serves base training, retraining and fine-tuning (``model=``): Adam, one
uniformly sampled negative per positive, objective ``bpr + reg · emb_l2`` where
``emb_l2 = (‖u‖² + ‖i‖² + ‖j‖²) / 2 / batch`` on the batch's raw embeddings (RecBole's
EmbLoss). Shuffling and negatives come from one seeded ``torch.Generator`` on the
device, so the same inputs and seed give the same numbers on the same device.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch

from core.evaluation.full_sort import RowSets, evaluate_users
from core.events import NULL_REPORTER, Reporter
from core.models.base import ModelConfig
from core.models.factory import create_model
from core.models.negative_sampling import NegativeSampler
from core.models.recommender import Recommender

CHECK_EVERY_BATCHES = 50
VALID_METRIC = "ndcg@10"


class Adam:
    """Adam (Kingma & Ba, 2015), the same update as ``torch.optim.Adam`` without decay.

    Why not torch's: its first ``step()`` imports ``torch._dynamo``, which costs several
    seconds on a small CPU, more than training a base model on ML-100K.
    """

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = float(lr), betas, eps
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        correction1 = 1 - beta1**self.steps
        correction2 = math.sqrt(1 - beta2**self.steps)
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - beta1)
            v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            p.addcdiv_(m, (v.sqrt() / correction2).add_(self.eps), value=-self.lr / correction1)


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


class _Validator:
    """Valid NDCG@10 with the training items masked, on users that have valid rows."""

    def __init__(self, valid, train_users, train_items, n_users: int, n_items: int) -> None:
        v_users, v_items = (np.asarray(a, dtype=np.int64) for a in valid)
        self.users = np.unique(v_users)
        self.truth = row_sets(v_users, v_items, n_users, n_items)
        self.mask = row_sets(train_users, train_items, n_users, n_items)

    def __call__(self, model: Recommender) -> float:
        model.eval()
        values = evaluate_users(model, self.users, self.truth, self.mask, ks=(10,))[VALID_METRIC]
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
) -> Recommender:
    """Train (or, with ``model=``, continue training) on the given rows.

    With ``valid`` rows, NDCG@10 is measured every ``config.eval_every`` epochs and
    training stops after ``config.patience`` evaluations without improvement; the best
    state is restored. ``epochs`` overrides ``config.epochs``. A continued model keeps
    its ``known_users``/``popularity`` and (LightGCN) its graph: the caller decides
    what it should know. Raises :class:`~core.errors.Cancelled` when the reporter's
    stop flag is set (checked every epoch and every 50 batches).
    """
    with torch.enable_grad():  # callers may hold no_grad (evaluation code, the GUI)
        return _train(config, n_users, n_items, train_users, train_items, device, valid, reporter,
                      stage, model, epochs)


def _train(config, n_users, n_items, train_users, train_items, device, valid, reporter, stage, model, epochs):
    config.validate()
    device = torch.device(device)
    train_users = np.asarray(train_users, dtype=np.int64)
    train_items = np.asarray(train_items, dtype=np.int64)
    n_epochs = int(epochs if epochs is not None else config.epochs)
    reporter.check()
    if model is None:
        model = build_model(config, n_users, n_items, train_users, train_items, device)
    else:
        model = model.to(device)
    validator = _Validator(valid, train_users, train_items, n_users, n_items) if valid is not None else None
    if validator is not None and len(validator.users) == 0:
        validator = None  # nothing to stop on: train the full epoch budget
    n_rows = len(train_users)
    if n_rows == 0 or n_epochs == 0:
        return model.eval()

    sampler = NegativeSampler(train_users, train_items, n_users, n_items, device)
    users_t = torch.as_tensor(train_users, device=device)
    items_t = torch.as_tensor(train_items, device=device)
    generator = torch.Generator(device=device).manual_seed(int(config.seed))
    optimizer = Adam(model.parameters(), lr=config.lr)
    batch = int(config.batch_size)

    best_score, best_state, best_epoch, stale = -1.0, None, 0, 0
    for epoch in range(1, n_epochs + 1):
        reporter.check()
        model.train()
        order = torch.randperm(n_rows, generator=generator, device=device)
        total = torch.zeros((), device=device)
        for b, start in enumerate(range(0, n_rows, batch)):
            if b and b % CHECK_EVERY_BATCHES == 0:
                reporter.check()
            idx = order[start : start + batch]
            users = users_t[idx]
            negatives = sampler.sample(users, generator)
            loss, reg = model.bpr_loss(users, items_t[idx], negatives)
            objective = loss + config.reg * reg
            optimizer.zero_grad()
            objective.backward()
            optimizer.step()
            total += objective.detach() * len(idx)
        mean_loss = float(total) / n_rows

        evaluate = validator is not None and (epoch % config.eval_every == 0 or epoch == n_epochs)
        if not evaluate:
            reporter.metric(stage, epoch, loss=mean_loss)
            reporter.progress(epoch / n_epochs, f"epoch {epoch}: loss {mean_loss:.4f}")
            continue
        score = validator(model)
        reporter.metric(stage, epoch, loss=mean_loss, valid_ndcg10=score)
        reporter.progress(epoch / n_epochs, f"epoch {epoch}: loss {mean_loss:.4f}, valid ndcg@10 {score:.4f}")
        if score > best_score:
            best_score, best_epoch, stale = score, epoch, 0
            best_state = [p.detach().clone() for p in model.parameters()]
        else:
            stale += 1
            if stale >= config.patience:
                reporter.log(f"early stop at epoch {epoch}: best valid ndcg@10 {best_score:.4f} at epoch {best_epoch}")
                break
    if best_state is not None:
        with torch.no_grad():
            for param, best in zip(model.parameters(), best_state):
                param.copy_(best)
    return model.eval()
