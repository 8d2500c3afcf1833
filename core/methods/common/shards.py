"""User shards for SISA and RecEraser, each trained on its own rows only (exact shards).

A shard is an ordinary recommender of the experiment's architecture trained from scratch
by :func:`core.models.training.fit_recommender` on the rows of its users, with

- its own seed (:func:`shard_seed`: experiment model seed and shard index) for its
  initialisation, shuffling and negatives;
- its own negative sampler, popularity and (LightGCN) graph, all from its own rows;
- its own early stopping, on the validation rows of its own users, or its own fixed
  epoch budget; its own step count (its rows / its batch).

So a shard's weights depend only on its own rows: adding or removing rows in shard j
leaves shard i bit-identical (``tests/test_exact_shards.py``), and "retrain the touched
shards" is exactly "retrain on the retained rows" for every shard.

Shards train one after the other. An earlier version trained all K stacked in one
batched pass with one random stream, one stopping rule and a step count set by the
largest shard, which coupled them; one by one costs about the same on ML-100K with
BPR (10 shards: 3.5 s one by one, 2.6–3.5 s stacked, 1 CPU thread), since a shard with
``batch_size / K`` rows per step takes as many steps as the full model and the tables
are small. The trained shards are stacked into :class:`ShardedEmbeddings` for scoring.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.events import NULL_REPORTER, Reporter
from core.methods.registry import UnlearnContext
from core.models.base import ModelConfig


def shard_seed(seed: int, shard: int) -> int:
    """Seed of one shard: retraining shard k from scratch starts where it first started."""
    return int(seed) * 1_000_003 + 7_919 * (int(shard) + 1)


@dataclass(frozen=True)
class ShardPlan:
    """How every shard of one partition trains. ``user_shard[u]``: user u's shard (−1: none);
    a row belongs to its user's shard. ``epochs``: budget per shard (None: the config's).
    ``scale_batch``: each shard takes ``batch_size / K`` rows per step, so a shard holding
    1/K of the data takes as many steps per epoch as the full model (with the full batch
    it needs several times more epochs: measured 192 vs 62 on ML-100K)."""

    config: ModelConfig
    n_users: int
    n_items: int
    user_shard: np.ndarray
    epochs: int | None = None
    scale_batch: bool = True

    @property
    def n_shards(self) -> int:
        return max(1, int(np.max(self.user_shard, initial=-1)) + 1)

    def shard_config(self, shard: int) -> ModelConfig:
        """The experiment's config with this shard's seed and batch size."""
        batch = math.ceil(self.config.batch_size / self.n_shards) if self.scale_batch else self.config.batch_size
        return dataclasses.replace(self.config, seed=shard_seed(self.config.seed, shard), batch_size=int(batch))


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
    epochs: np.ndarray  # epochs each shard ran


def train_shards(
    plan: ShardPlan,
    users: np.ndarray,
    items: np.ndarray,
    shards: np.ndarray,
    device: torch.device,
    *,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    reporter: Reporter = NULL_REPORTER,
    stage: str = "shards",
) -> ShardStack:
    """Train the listed ``shards`` from scratch, one by one, each on its own users' rows.

    Rows of shards not listed are ignored. With ``valid`` rows each shard stops early on
    its own users' rows (users it was trained on) and keeps its best epoch; curves go to
    stage ``"{stage} {k}"``.
    """
    from core.models.training import fit_recommender

    shards = np.unique(np.asarray(shards, dtype=np.int64))
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    row_shard = plan.user_shard[users]
    models, epochs = [], []
    for index, shard in enumerate(shards):  # loop over shards (≤ 64), never users
        own = row_shard == shard
        own_valid = _own_valid(valid, plan.user_shard, shard, users[own]) if valid is not None else None
        model, result = fit_recommender(
            plan.shard_config(int(shard)),
            plan.n_users,
            plan.n_items,
            users[own],
            items[own],
            device,
            valid=own_valid,
            reporter=reporter.sub(index / len(shards), (index + 1) / len(shards)),
            stage=f"{stage} {shard}",
            epochs=plan.epochs,
        )
        models.append(model)
        epochs.append(result.epochs)
    return _stack(shards, models, np.asarray(epochs, dtype=np.int64))


def _own_valid(valid, user_shard: np.ndarray, shard: int, trained_users: np.ndarray):
    """The validation rows of the shard's users that it trains on."""
    v_users, v_items = (np.asarray(a, dtype=np.int64) for a in valid)
    keep = (user_shard[v_users] == shard) & np.isin(v_users, trained_users)
    return v_users[keep], v_items[keep]


@torch.no_grad()
def _stack(shards: np.ndarray, models: list, epochs: np.ndarray) -> ShardStack:
    layer0 = [m.layer0() for m in models]
    final = [m.embeddings() for m in models]
    popularity = torch.stack([m.popularity for m in models])
    return ShardStack(
        shards=shards,
        users0=torch.stack([u.detach() for u, _ in layer0]),
        items0=torch.stack([i.detach() for _, i in layer0]),
        users=torch.stack([u.detach() for u, _ in final]),
        items=torch.stack([i.detach() for _, i in final]),
        user_known=torch.stack([m.known_users for m in models]),
        item_known=popularity > 0,
        popularity=popularity,
        epochs=epochs,
    )


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

    def item_sides(self) -> list[torch.Tensor]:
        """Each shard's item table (:class:`core.models.item_side.HasItemSide`): the fold-in
        attack folds a user into every shard and averages, as the ensemble does."""
        return [self.items[k].detach() for k in range(self.n_shards)]


def random_user_shards(train_users: np.ndarray, n_users: int, n_shards: int, seed: int) -> np.ndarray:
    """Users with training rows dealt at random into ``n_shards`` groups of equal size (±1)."""
    users = np.unique(train_users)
    rng = np.random.default_rng([int(seed), 0x5151])
    out = np.full(n_users, -1, dtype=np.int64)
    out[rng.permutation(users)] = np.arange(len(users)) % n_shards
    return out


def rows_of_shards(user_shard: np.ndarray, users_of_rows: np.ndarray) -> np.ndarray:
    """Shards holding at least one of the given rows (−1, no shard, left out)."""
    shards = np.unique(np.asarray(user_shard)[np.asarray(users_of_rows, dtype=np.int64)])
    return shards[shards >= 0]


# -- method-side wiring shared by SISA and RecEraser -------------------------------------
def train_shards_from_params(
    ctx: UnlearnContext,
    params: dict,
    user_shard: np.ndarray,
    rows: np.ndarray,
    shards: np.ndarray,
    valid_rows: np.ndarray,
    reporter: Reporter,
    stage: str,
) -> ShardStack:
    """:func:`train_shards` on dataset rows, with the form's ``epochs`` (0: the experiment's)
    and ``scale_batch`` (see :func:`core.methods.common.forms.shard_training_params`)."""
    ds = ctx.dataset
    plan = ShardPlan(
        ctx.model_config, ds.n_users, ds.n_items, user_shard, params["epochs"] or None, params["scale_batch"]
    )
    return train_shards(
        plan,
        ds.users[rows],
        ds.items[rows],
        shards,
        ctx.device,
        valid=(ds.users[valid_rows], ds.items[valid_rows]),
        reporter=reporter,
        stage=stage,
    )


def retrain_touched_shards(
    ctx: UnlearnContext,
    params: dict,
    user_shard: np.ndarray,
    reporter: Reporter,
    stage: str,
) -> tuple[np.ndarray, ShardStack]:
    """Retrain the shards holding removed rows on their retained rows: the exact unlearning
    step. Validation is :attr:`UnlearnContext.retrain_valid_rows` (no forgotten user).
    Returns the retrained shards and the trained stack."""
    affected = rows_of_shards(user_shard, ctx.dataset.users[ctx.removed_rows])
    stack = train_shards_from_params(
        ctx, params, user_shard, ctx.retained_rows, affected, ctx.retrain_valid_rows, reporter, stage
    )
    return affected, stack


def shard_extras(affected: np.ndarray, n_shards: int, stack: ShardStack) -> dict[str, float]:
    """The run figures every sharded method reports about one unlearning retrain."""
    epochs = stack.epochs if len(stack.epochs) else np.zeros(1)
    return {
        "shards_retrained": float(len(affected)),
        "n_shards": float(n_shards),
        "retrained_share": len(affected) / n_shards,
        "shard_epochs": float(epochs.mean()),
        "shard_epochs_max": float(epochs.max()),
    }
