"""LightGCN (He et al., 2020) as in RecBole: K propagation layers, mean of layer outputs.

The graph is the symmetric-normalised user–item adjacency ``D^-1/2 A D^-1/2`` of the
training rows. The rows are kept as buffers (``graph_users``, ``graph_items``) so a
saved model rebuilds its own graph, and :meth:`LightGCN.set_graph` lets an unlearning
method propagate over different rows (e.g. the retained ones).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from core.models.base import ModelConfig
from core.models.recommender import Recommender

_DEGREE_EPS = 1e-7  # RecBole adds this so isolated nodes do not divide by zero


def normalized_adjacency(users: torch.Tensor, items: torch.Tensor, n_users: int, n_items: int) -> torch.Tensor:
    """Sparse COO ``[(n_users+n_items)]²`` with entries ``1/sqrt(deg(u)·deg(i))``.

    Users occupy indices ``0..n_users-1`` and items follow; duplicate rows count once.
    """
    device = users.device
    keys = torch.unique(users.long() * n_items + items.long())
    u = keys // n_items
    i = keys % n_items + n_users
    rows = torch.cat([u, i])
    cols = torch.cat([i, u])
    n = n_users + n_items
    degree = torch.bincount(rows, minlength=n).float() + _DEGREE_EPS
    inv_sqrt = degree.pow(-0.5)
    values = inv_sqrt[rows] * inv_sqrt[cols]
    adj = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (n, n), device=device, check_invariants=False)
    return adj.coalesce()


class _SymmetricSpMM(torch.autograd.Function):
    """``adj @ x`` whose backward is ``adj @ grad``: the adjacency is symmetric.

    torch's own backward transposes (and re-sorts) the sparse matrix on every call,
    which costs several times the product itself.
    """

    @staticmethod
    def forward(ctx, adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        return adj @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, ctx.adj @ grad


def symmetric_spmm(adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``adj @ x`` for a symmetric sparse ``adj`` (COO or CSR), differentiable in ``x``."""
    return _SymmetricSpMM.apply(adj, x)


def to_csr(adj: torch.Tensor) -> torch.Tensor:
    """CSR products are about 4x faster than COO ones on the CPU (and fine on CUDA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return adj.to_sparse_csr()


class LightGCN(Recommender):
    """Final embeddings = mean over layers 0..K of ``Â^k · [user; item]`` embeddings."""

    kind = "lightgcn"

    def __init__(
        self,
        config: ModelConfig,
        n_users: int,
        n_items: int,
        train_users: np.ndarray,
        train_items: np.ndarray,
    ) -> None:
        super().__init__(config, n_users, n_items, train_users, train_items)
        self.layers = int(config.layers)
        self.register_buffer("graph_users", torch.zeros(0, dtype=torch.long))
        self.register_buffer("graph_items", torch.zeros(0, dtype=torch.long))
        self._adjacency: torch.Tensor | None = None
        self._cache: tuple[tuple, tuple[torch.Tensor, torch.Tensor]] | None = None
        self.set_graph(train_users, train_items)

    # -- graph ----------------------------------------------------------------------
    def set_graph(self, users, items) -> None:
        """Propagate over these (user, item) rows from now on (arrays or tensors).

        ``known_users`` and ``popularity`` are left alone: whether the model still
        "knows" a user is the calling method's decision, see ``set_training_rows``.
        """
        device = self.graph_users.device
        self.graph_users = _long_tensor(users, device)
        self.graph_items = _long_tensor(items, device)
        self._adjacency = None
        self._cache = None

    def adjacency(self) -> torch.Tensor:
        """The normalised adjacency (CSR) on the model's device, rebuilt after a change."""
        if self._adjacency is None or self._adjacency.device != self.device:
            self._adjacency = to_csr(
                normalized_adjacency(
                    self.graph_users.to(self.device), self.graph_items.to(self.device), self.n_users, self.n_items
                )
            )
            self._cache = None
        return self._adjacency

    def __getstate__(self) -> dict:
        """Copies and pickles drop the derived CSR adjacency and propagation cache
        (sparse CSR tensors cannot be deep-copied); both are rebuilt lazily."""
        state = self.__dict__.copy()
        state["_adjacency"] = None
        state["_cache"] = None
        return state

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Accept graph rows of a different length than the current ones, then rebuild."""
        if "graph_users" in state_dict and "graph_items" in state_dict:
            self.set_graph(state_dict["graph_users"], state_dict["graph_items"])
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self._adjacency = None
        self._cache = None
        return result

    # -- propagation ----------------------------------------------------------------
    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        user0, item0 = self.layer0()
        adj = self.adjacency()
        caching = not torch.is_grad_enabled()
        key = (user0._version, item0._version, user0.data_ptr(), item0.data_ptr(), id(adj))
        if caching and self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        out = propagate(adj, user0, item0, self.layers)
        if caching:
            self._cache = (key, out)
        return out

    def item_sides(self) -> list[torch.Tensor]:
        """:class:`core.models.item_side.HasItemSide`: the *propagated* item embeddings
        (over this model's current graph), the ones its scores are dot products with."""
        with torch.no_grad():
            return [self.embeddings()[1].detach()]


def propagate(
    adjacency: torch.Tensor, user0: torch.Tensor, item0: torch.Tensor, layers: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """LightGCN's final embeddings: the mean of the layer-0 tables and ``layers`` rounds of
    propagation over the normalised adjacency (differentiable in the tables)."""
    x = torch.cat([user0, item0])
    total = x
    for _ in range(layers):
        x = symmetric_spmm(adjacency, x)
        total = total + x
    final = total / (layers + 1)
    return final[: len(user0)], final[len(user0) :]


def _long_tensor(values, device: torch.device) -> torch.Tensor:
    if torch.is_tensor(values):
        return values.detach().to(device, torch.long)
    return torch.as_tensor(np.asarray(values, dtype=np.int64), device=device)
