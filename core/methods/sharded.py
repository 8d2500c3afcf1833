"""Batched training of K shard sub-models, shared by SISA and RecEraser.

The K shards' embedding tables are stacked into one ``[K, n, d]`` parameter per side and
trained together: every step takes one mini-batch *per shard* (``[K, B]`` triples),
gathers each shard's rows from its own slice, and sums the shards' mean BPR losses.
Adam is element-wise, so one optimizer over the stack is exactly K independent
optimizers; no term couples two shards (no global gradient clipping, no shared
parameter). Per epoch every shard sees its own rows once, with a per-shard batch size
chosen so all shards finish the epoch in the same number of steps: K shards cost about
one model's epochs, on the GPU and the CPU alike.

Batch size: by default each shard takes ``batch_size / K`` rows per step, so a shard
holding 1/K of the data takes as many optimizer steps per epoch as the full model and
converges in about as many epochs (with the full batch per shard it needs several
times more epochs: measured 192 vs 62 on ML-100K). ``scale_batch=False`` keeps the
experiment's batch size for every shard.

LightGCN shards propagate over a block-diagonal graph (shard k's nodes occupy their own
index range), so one sparse product serves every shard.

Early stopping is on the sharded model's validation NDCG@10 as a whole — the mean of
the shards' NDCG@10 on their own users, weighted by users, which is the ensemble's
figure when each user is scored by their own shard — with the experiment's patience,
as a single model stops. Per-shard stopping was tried and measured worse: a shard's
validation set is 1/K of the users, its noise keeps resetting the patience, and the
slowest of K shards sets the pace (114 epochs vs 37 for retraining on ML-100K).

:func:`train_shards_from_params`, :func:`retrain_touched_shards`, :func:`shard_extras` and
the ``*_param`` builders are the method-side wiring SISA and RecEraser share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.evaluation.full_sort import evaluate_users
from core.events import NULL_REPORTER, Reporter
from core.methods.registry import ParamSpec, UnlearnContext
from core.models.base import ModelConfig
from core.models.lightgcn import normalized_adjacency
from core.models.negative_sampling import NegativeSampler
from core.models.training import row_sets

CHECK_EVERY_BATCHES = 50


def shard_seed(seed: int, shard: int) -> int:
    """Init seed of one shard: retraining shard k from scratch starts where it first started."""
    return int(seed) * 1_000_003 + 7_919 * (int(shard) + 1)


@dataclass
class ShardStack:
    """Trained shards (a subset of the K, listed in ``shards``), all tensors ``[len(shards), ...]``."""

    shards: np.ndarray  # global shard indices
    users0: torch.Tensor  # layer-0 user tables [S, n_users, d]
    items0: torch.Tensor  # layer-0 item tables [S, n_items, d]
    users: torch.Tensor  # final (propagated) user embeddings [S, n_users, d]
    items: torch.Tensor  # final item embeddings [S, n_items, d]
    user_known: torch.Tensor  # bool [S, n_users]: users with training rows in the shard
    item_known: torch.Tensor  # bool [S, n_items]
    popularity: torch.Tensor  # float [S, n_items]: item counts in the shard's rows
    epochs: int = 0


def _init_tables(shards: np.ndarray, n: int, dim: int, seed: int, device: torch.device) -> torch.Tensor:
    """Xavier-normal per shard table, drawn on the CPU (as :class:`Recommender`) so devices agree."""
    out = torch.empty(len(shards), n, dim)
    for k, shard in enumerate(shards):  # loop over shards (≤ 64), not users
        generator = torch.Generator().manual_seed(shard_seed(seed, shard))
        nn.init.xavier_normal_(out[k], generator=generator)
    return out.to(device)


class _Propagation:
    """Final embeddings of a shard stack: identity for BPR-MF, block-diagonal LightGCN otherwise."""

    def __init__(self, config: ModelConfig, local_shard: torch.Tensor, users: torch.Tensor,
                 items: torch.Tensor, n_shards: int, n_users: int, n_items: int) -> None:
        self.layers = int(config.layers) if config.name == "lightgcn" else 0
        self.n_users, self.n_items, self.n_shards = n_users, n_items, n_shards
        self.adjacency = None
        if self.layers:
            self.adjacency = normalized_adjacency(
                local_shard * n_users + users, local_shard * n_items + items,
                n_shards * n_users, n_shards * n_items,
            )

    def __call__(self, users0: torch.Tensor, items0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.layers:
            return users0, items0
        dim = users0.shape[-1]
        x = torch.cat([users0.reshape(-1, dim), items0.reshape(-1, dim)])
        total = x
        for _ in range(self.layers):
            x = torch.sparse.mm(self.adjacency, x)
            total = total + x
        final = total / (self.layers + 1)
        split = self.n_shards * self.n_users
        return (final[:split].reshape(self.n_shards, self.n_users, dim),
                final[split:].reshape(self.n_shards, self.n_items, dim))


class _ShardView:
    """One shard of a stack as a :class:`Scorer`, for the validation code path."""

    def __init__(self, users: torch.Tensor, items: torch.Tensor) -> None:
        self.users, self.items = users, items
        self.n_users, self.n_items = users.shape[0], items.shape[0]
        self.known_users = None
        self.popularity = torch.zeros(self.n_items, device=items.device)

    @property
    def device(self) -> torch.device:
        return self.items.device

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.users[users.to(self.device)] @ self.items.T


def train_shards(
    config: ModelConfig,
    n_users: int,
    n_items: int,
    user_shard: np.ndarray,
    train_users: np.ndarray,
    train_items: np.ndarray,
    shards: np.ndarray,
    device: torch.device,
    *,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    reporter: Reporter = NULL_REPORTER,
    series: str = "shards",
    epochs: int | None = None,
    scale_batch: bool = True,
) -> ShardStack:
    """Train the listed ``shards`` from scratch, together, on their users' rows.

    ``user_shard[u]`` is user u's shard (−1: none); a row belongs to its user's shard.
    Rows of shards not listed are ignored. Hyper-parameters are ``config``'s (optimizer
    Adam, ``config.batch_size`` rows per step — divided among the K shards of the whole
    partition when ``scale_batch`` — and ``config.reg``), ``epochs``
    overriding ``config.epochs``; with ``valid`` rows training stops early on the
    shards' user-weighted validation NDCG@10 and the best epoch's state is kept.
    """
    config.validate()
    device = torch.device(device)
    shards = np.unique(np.asarray(shards, dtype=np.int64))
    n_shards = len(shards)
    user_shard = np.asarray(user_shard, dtype=np.int64)
    train_users = np.asarray(train_users, dtype=np.int64)
    train_items = np.asarray(train_items, dtype=np.int64)
    row_shard = user_shard[train_users]
    keep = np.isin(row_shard, shards)
    train_users, train_items = train_users[keep], train_items[keep]
    local = np.searchsorted(shards, row_shard[keep])
    n_epochs = int(epochs if epochs is not None else config.epochs)
    reporter.check()

    users0 = nn.Parameter(_init_tables(shards, n_users, config.dim, config.seed, device))
    items0 = nn.Parameter(_init_tables(shards, n_items, config.dim, config.seed, device))
    local_t = torch.as_tensor(local, device=device)
    users_t = torch.as_tensor(train_users, device=device)
    items_t = torch.as_tensor(train_items, device=device)
    propagate = _Propagation(config, local_t, users_t, items_t, n_shards, n_users, n_items)

    user_known = torch.zeros(n_shards, n_users, dtype=torch.bool, device=device)
    item_known = torch.zeros(n_shards, n_items, dtype=torch.bool, device=device)
    popularity = torch.zeros(n_shards, n_items, dtype=torch.float32, device=device)
    if len(local):
        user_known[local_t, users_t] = True
        item_known[local_t, items_t] = True
        popularity.index_put_((local_t, items_t), torch.ones(len(local), device=device), accumulate=True)

    counts = np.bincount(local, minlength=n_shards).astype(np.int64)
    n_rows = int(counts.sum())
    validator = _ShardValidator(valid, user_shard, shards, train_users, train_items, n_users, n_items)
    best_users, best_items = users0.detach().clone(), items0.detach().clone()
    epochs_run = 0
    partition_size = max(1, int(user_shard.max()) + 1)
    batch = math.ceil(config.batch_size / partition_size) if scale_batch else int(config.batch_size)
    if n_rows and n_epochs:
        epochs_run = _fit(config, batch, n_epochs, users0, items0, propagate, local_t, users_t, items_t, counts,
                          n_items, n_users, device, validator, best_users, best_items, reporter, series)
    with torch.no_grad():
        final_users, final_items = propagate(best_users, best_items)
    return ShardStack(
        shards=shards,
        users0=best_users,
        items0=best_items,
        users=final_users.detach(),
        items=final_items.detach(),
        user_known=user_known,
        item_known=item_known,
        popularity=popularity,
        epochs=epochs_run,
    )


class _ShardValidator:
    """Validation NDCG@10 per shard on the shard's own users, training items masked."""

    def __init__(self, valid, user_shard, shards, train_users, train_items, n_users, n_items) -> None:
        self.per_shard: list[np.ndarray] = [np.zeros(0, np.int64) for _ in shards]
        self.active = False
        if valid is None:
            return
        v_users, v_items = (np.asarray(a, dtype=np.int64) for a in valid)
        trained = np.zeros(n_users, dtype=bool)
        trained[train_users] = True
        keep = trained[v_users] & np.isin(user_shard[v_users], shards)
        v_users, v_items = v_users[keep], v_items[keep]
        self.truth = row_sets(v_users, v_items, n_users, n_items)
        self.mask = row_sets(train_users, train_items, n_users, n_items)
        users = np.unique(v_users)
        local = np.searchsorted(shards, user_shard[users])
        self.per_shard = [users[local == k] for k in range(len(shards))]
        self.active = any(len(u) for u in self.per_shard)

    @property
    def weights(self) -> np.ndarray:
        """Validation users per shard."""
        return np.asarray([len(u) for u in self.per_shard], dtype=np.float64)

    @torch.no_grad()
    def __call__(self, users: torch.Tensor, items: torch.Tensor) -> np.ndarray:
        out = np.full(len(self.per_shard), np.nan)
        for k, shard_users in enumerate(self.per_shard):  # loop over shards, not users
            if len(shard_users):
                values = evaluate_users(_ShardView(users[k], items[k]), shard_users, self.truth, self.mask, ks=(10,))
                values = values["ndcg@10"][~np.isnan(values["ndcg@10"])]
                out[k] = float(values.mean()) if len(values) else np.nan
        return out


def _fit(config, batch, n_epochs, users0, items0, propagate, local_t, users_t, items_t, counts, n_items, n_users,
         device, validator, best_users, best_items, reporter, series) -> int:
    n_shards = len(counts)
    steps = max(1, math.ceil(counts.max() / batch))
    per_step = np.maximum(1, np.ceil(counts / steps)).astype(np.int64)  # every shard: one pass in `steps`
    width = int(per_step.max())
    offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(counts)[:-1]]), device=device)
    counts_t = torch.as_tensor(counts, device=device)
    per_step_t = torch.as_tensor(per_step, device=device)
    column = torch.arange(width, device=device)
    shard_rows = torch.arange(n_shards, device=device).unsqueeze(1).expand(n_shards, width)
    sampler = NegativeSampler(users_t.cpu().numpy(), items_t.cpu().numpy(), n_users, n_items, device)
    generator = torch.Generator(device=device).manual_seed(int(config.seed) + 104_729)
    optimizer = _adam([users0, items0], config.lr)

    weights = validator.weights
    best, stale = -np.inf, 0
    epoch = 0
    for epoch in range(1, n_epochs + 1):
        reporter.check()
        # rows grouped by shard, in a fresh random order inside each shard
        keys = local_t.double() + torch.rand(len(local_t), generator=generator, device=device, dtype=torch.float64)
        order = torch.argsort(keys)
        total = torch.zeros((), device=device)
        for step in range(steps):
            if step and step % CHECK_EVERY_BATCHES == 0:
                reporter.check()
            position = step * per_step_t.unsqueeze(1) + column
            mask = (column < per_step_t.unsqueeze(1)) & (position < counts_t.unsqueeze(1))
            rows = order[(offsets.unsqueeze(1) + torch.minimum(position, (counts_t - 1).clamp(min=0).unsqueeze(1)))
                         .clamp(max=len(order) - 1)]
            users = users_t[rows]
            pos = items_t[rows]
            neg = sampler.sample(users.reshape(-1), generator).reshape(users.shape)
            weight = mask.float() / mask.sum(1, keepdim=True).clamp(min=1)
            u0 = users0[shard_rows, users]
            p0, n0 = items0[shard_rows.repeat(1, 2), torch.cat([pos, neg], 1)].split(width, dim=1)
            if propagate.layers:
                final_users, final_items = propagate(users0, items0)
                u, p, n = final_users[shard_rows, users], final_items[shard_rows, pos], final_items[shard_rows, neg]
            else:  # BPR-MF: the final embeddings are the tables, gather once
                u, p, n = u0, p0, n0
            diff = (u * (p - n)).sum(-1)
            loss = -(F.logsigmoid(diff) * weight).sum()
            reg = (u0.pow(2).sum(-1) + p0.pow(2).sum(-1) + n0.pow(2).sum(-1)) / 2
            objective = loss + config.reg * (reg * weight).sum()
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            optimizer.step()
            total += objective.detach()
        mean_loss = float(total) / steps / max(1, n_shards)

        if not validator.active:
            best_users.copy_(users0.detach())
            best_items.copy_(items0.detach())
            reporter.metric(series, epoch, loss=mean_loss)
            reporter.progress(epoch / n_epochs, f"epoch {epoch}: loss {mean_loss:.4f}")
            continue
        if epoch % config.eval_every and epoch != n_epochs:
            reporter.metric(series, epoch, loss=mean_loss)
            continue
        with torch.no_grad():
            final_users, final_items = propagate(users0, items0)
        scores = validator(final_users, final_items)
        seen = np.isfinite(scores)
        score = float((scores[seen] * weights[seen]).sum() / weights[seen].sum()) if seen.any() else float("nan")
        reporter.metric(series, epoch, loss=mean_loss, valid_ndcg10=score)
        reporter.progress(epoch / n_epochs, f"epoch {epoch}: loss {mean_loss:.4f}, valid ndcg@10 {score:.4f}")
        if score > best:
            best, stale = score, 0
            with torch.no_grad():
                best_users.copy_(users0.detach())
                best_items.copy_(items0.detach())
        else:
            stale += 1
            if stale >= config.patience:
                reporter.log(f"{series}: early stop at epoch {epoch}: best valid ndcg@10 {best:.4f}")
                break
    return epoch


def _adam(params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """Adam, fused where this torch build supports it for the device (same update, one kernel).

    The stacked tables are K times a model's size and dense Adam touches all of them every
    step, so the optimizer step is a visible share of the cost on a CPU.
    """
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


class ShardedEmbeddings(nn.Module):
    """All K shards' tables as buffers (frozen once trained), with per-shard knowledge masks."""

    def __init__(self, n_shards: int, n_users: int, n_items: int, dim: int, device: torch.device) -> None:
        super().__init__()
        self.n_shards, self.n_users, self.n_items = int(n_shards), int(n_users), int(n_items)
        for name, n in (("users0", n_users), ("users", n_users)):
            self.register_buffer(name, torch.zeros(n_shards, n, dim, device=device))
        for name, n in (("items0", n_items), ("items", n_items)):
            self.register_buffer(name, torch.zeros(n_shards, n, dim, device=device))
        self.register_buffer("user_known", torch.zeros(n_shards, n_users, dtype=torch.bool, device=device))
        self.register_buffer("item_known", torch.zeros(n_shards, n_items, dtype=torch.bool, device=device))
        self.register_buffer("shard_popularity", torch.zeros(n_shards, n_items, device=device))

    @torch.no_grad()
    def replace(self, stack: ShardStack) -> None:
        """Put freshly trained shards in place; every other shard's tensors are left untouched."""
        index = torch.as_tensor(stack.shards, device=self.users0.device)
        for name in ("users0", "items0", "users", "items", "user_known", "item_known"):
            getattr(self, name)[index] = getattr(stack, name).to(self.users0.device)
        self.shard_popularity[index] = stack.popularity.to(self.users0.device)

    @property
    def device(self) -> torch.device:
        return self.users0.device

    @property
    def known_users(self) -> torch.Tensor:
        """A user is known when at least one shard was trained on their rows."""
        return self.user_known.any(0)

    @property
    def popularity(self) -> torch.Tensor:
        return self.shard_popularity.sum(0)


def rows_of_shards(user_shard: np.ndarray, users_of_rows: np.ndarray) -> np.ndarray:
    """Shards holding at least one of the given rows (−1, no shard, left out)."""
    shards = np.unique(np.asarray(user_shard)[np.asarray(users_of_rows, dtype=np.int64)])
    return shards[shards >= 0]


# -- method-side wiring shared by SISA and RecEraser -------------------------------------
def train_shards_from_params(
    ctx: UnlearnContext, params: dict, user_shard: np.ndarray, rows: np.ndarray, shards: np.ndarray,
    valid_rows: np.ndarray, reporter: Reporter, series: str,
) -> ShardStack:
    """:func:`train_shards` on dataset rows, with the form's ``epochs`` (0: the experiment's) and
    ``scale_batch``."""
    ds = ctx.dataset
    return train_shards(
        ctx.model_config, ds.n_users, ds.n_items, user_shard, ds.users[rows], ds.items[rows],
        shards, ctx.device, valid=(ds.users[valid_rows], ds.items[valid_rows]),
        reporter=reporter, series=series, epochs=params["epochs"] or None, scale_batch=params["scale_batch"],
    )


def retrain_touched_shards(
    ctx: UnlearnContext, params: dict, user_shard: np.ndarray, reporter: Reporter, series: str,
) -> tuple[np.ndarray, np.ndarray, ShardStack]:
    """Retrain the shards holding removed rows on their retained rows: the exact unlearning step.

    Validation leaves out the forgotten users (they are no longer anyone's to fit).
    Returns the retrained shards, the validation rows used and the trained stack.
    """
    ds, split = ctx.dataset, ctx.split
    affected = rows_of_shards(user_shard, ds.users[ctx.removed_rows])
    valid = split.valid[~np.isin(ds.users[split.valid], ctx.request.forget_users)]
    stack = train_shards_from_params(ctx, params, user_shard, ctx.retained_rows, affected, valid, reporter, series)
    return affected, valid, stack


def shard_extras(affected: np.ndarray, n_shards: int, stack: ShardStack) -> dict[str, float]:
    """The run figures every sharded method reports about one unlearning retrain."""
    return {"shards_retrained": float(len(affected)), "n_shards": float(n_shards),
            "retrained_share": len(affected) / n_shards, "shard_epochs": float(stack.epochs)}


def n_shards_param() -> ParamSpec:
    """The shard-count field of every sharded method's form."""
    return ParamSpec("n_shards", int, 10, "Number of user shards (one sub-model each).", low=2, high=64,
                     label="Shards")


def shard_training_params(epochs_label: str) -> tuple[ParamSpec, ParamSpec]:
    """The ``epochs`` and ``scale_batch`` fields read by :func:`train_shards_from_params`."""
    return (
        ParamSpec("epochs", int, 0,
                  "Epoch budget per shard; 0 uses the experiment's (with its early stopping).",
                  low=0, high=100_000, label=epochs_label),
        ParamSpec("scale_batch", bool, True,
                  "Split the experiment's batch size among the shards, so each shard takes as many "
                  "steps per epoch as the full model (off: every shard uses the full batch size).",
                  label="Scale batch to shards"),
    )
