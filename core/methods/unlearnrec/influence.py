"""UnlearnRec's influence encoder: a deletion request in, a layer-0 embedding update out.

For a request (a set of user–item edges to delete) the *influence-dependency matrix*
links the users and items the request touches: one entry per deleted edge in both
directions plus a self-loop per node, symmetrically normalised
(``D^-1/2 (A_Δ + I) D^-1/2``). It is built over the affected nodes only, in local
indices, so its size is that of the request — never ``(n_users + n_items)²``, which is
what the unofficial re-implementations allocate densely and what stops them from
scaling past toy graphs.

The encoder (Chen, Xia & Huang, "Pre-training for Recommendation Unlearning", SIGIR
2025) holds a learnable influence vector ``H0[v]`` and a learnable weight ``η[v]`` per
node. For the affected nodes it propagates ``H0 − η ⊙ E0`` (the learnt influence
combined with the node's current embedding) over the normalised matrix for ``L``
layers, averages the layers 0..L as LightGCN does (a forgotten user with 100 deleted
edges keeps 1/101 of its own signal after one layer; layer 0 in the mean lets the
encoder rewrite a node's own vector, which erasing a whole user needs) and passes the
result through a residual MLP: ``ΔE0 = Z + MLP(Z)``. The
unlearned model uses ``E0 + ΔE0``; nodes outside the request get exactly zero (not
``MLP(0)``), so an empty request leaves the model untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.models.lightgcn import symmetric_spmm


@dataclass(frozen=True)
class InfluenceGraph:
    """The affected nodes of one request and its normalised influence-dependency matrix.

    ``users``/``items`` are the sorted global indices of the affected nodes; local node
    ``k`` is ``users[k]`` for ``k < len(users)`` and ``items[k − len(users)]`` after.
    ``edge_users``/``edge_items`` are the deduplicated deleted edges in local indices
    (kept to build edge-dropped views). ``matrix`` is a coalesced sparse COO tensor.
    """

    users: torch.Tensor
    items: torch.Tensor
    edge_users: torch.Tensor
    edge_items: torch.Tensor
    matrix: torch.Tensor

    @property
    def n_nodes(self) -> int:
        return int(len(self.users) + len(self.items))

    @property
    def n_edges(self) -> int:
        return int(len(self.edge_users))

    def dropped_view(self, drop: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """The normalised matrix with each deleted edge dropped with probability ``drop``.

        The node set is kept, so a view's output lines up row by row with the full one.
        """
        if self.n_edges == 0 or drop <= 0:
            return self.matrix
        device = self.edge_users.device
        keep = torch.rand(self.n_edges, generator=generator, device=device) >= drop
        return normalised_matrix(self.edge_users[keep], self.edge_items[keep], len(self.users), len(self.items))


def normalised_matrix(local_users: torch.Tensor, local_items: torch.Tensor, n_users: int, n_items: int) -> torch.Tensor:
    """``D^-1/2 (A + I) D^-1/2`` as sparse COO over ``n_users + n_items`` local nodes.

    The self-loops keep an isolated node's own signal (a view may drop all its edges)
    and make every degree ≥ 1, so there is no division by zero to guard against.
    """
    device = local_users.device
    n = n_users + n_items
    loops = torch.arange(n, device=device)
    item_nodes = local_items + n_users
    rows = torch.cat([local_users, item_nodes, loops])
    cols = torch.cat([item_nodes, local_users, loops])
    degree = torch.bincount(rows, minlength=n).to(torch.float32)
    inv_sqrt = degree.pow(-0.5)
    values = inv_sqrt[rows] * inv_sqrt[cols]
    return torch.sparse_coo_tensor(
        torch.stack([rows, cols]), values, (n, n), device=device, check_invariants=False
    ).coalesce()


def influence_graph(
    users: torch.Tensor, items: torch.Tensor, device: torch.device | str | None = None
) -> InfluenceGraph:
    """The influence-dependency graph of deleting the edges ``(users[k], items[k])``.

    Cost is O(E log E) in the number of deleted edges E, whatever the catalogue size.
    Duplicate edges count once.
    """
    device = torch.device(device) if device is not None else users.device
    users = torch.as_tensor(users, device=device).long().reshape(-1)
    items = torch.as_tensor(items, device=device).long().reshape(-1)
    if len(users) != len(items):
        raise ValueError(f"{len(users)} users but {len(items)} items in the deleted edges")
    if len(users):
        span = int(items.max()) + 1  # pair keys without needing n_items; no overflow below ~3e9 nodes a side
        keys = torch.unique(users * span + items)
        users, items = keys // span, keys % span
    user_nodes, local_users = torch.unique(users, return_inverse=True)
    item_nodes, local_items = torch.unique(items, return_inverse=True)
    matrix = normalised_matrix(local_users, local_items, len(user_nodes), len(item_nodes))
    return InfluenceGraph(user_nodes, item_nodes, local_users, local_items, matrix)


class InfluenceEncoder(nn.Module):
    """Maps a request's influence graph and the current layer-0 embeddings to ``ΔE0``.

    Parameters: ``influence`` (``H0``, one vector per node, small random init so each
    node starts distinguishable), ``weight`` (``η``, one scalar per node, zero init) and
    a two-layer residual MLP whose last layer starts at zero. At initialisation the
    update is therefore ``Ã^L H0``: tiny, so an untrained encoder barely moves a model.
    """

    def __init__(self, n_users: int, n_items: int, dim: int, layers: int = 2, seed: int = 0) -> None:
        super().__init__()
        self.n_users = int(n_users)
        self.n_items = int(n_items)
        self.dim = int(dim)
        self.layers = int(layers)
        generator = torch.Generator().manual_seed(int(seed))
        n = self.n_users + self.n_items
        self.influence = nn.Parameter(torch.randn(n, self.dim, generator=generator) * 0.01)
        self.weight = nn.Parameter(torch.zeros(n))
        self.hidden = nn.Linear(self.dim, self.dim)
        self.out = nn.Linear(self.dim, self.dim)
        with torch.no_grad():
            bound = 1.0 / self.dim**0.5
            self.hidden.weight.uniform_(-bound, bound, generator=generator)
            self.hidden.bias.zero_()
            self.out.weight.zero_()
            self.out.bias.zero_()

    def node_ids(self, graph: InfluenceGraph) -> torch.Tensor:
        """Global node indices of the graph's local nodes (items follow the users)."""
        return torch.cat([graph.users, graph.items + self.n_users])

    def forward(
        self,
        graph: InfluenceGraph,
        user0: torch.Tensor,
        item0: torch.Tensor,
        matrix: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``ΔE0`` rows ``[graph.n_nodes, dim]`` for the affected nodes (users first).

        ``matrix`` replaces the graph's own matrix (an edge-dropped view).
        """
        if graph.n_nodes == 0:
            return user0.new_zeros((0, self.dim))
        ids = self.node_ids(graph)
        e0 = torch.cat([user0.index_select(0, graph.users), item0.index_select(0, graph.items)])
        x = self.influence.index_select(0, ids) - self.weight.index_select(0, ids).unsqueeze(1) * e0
        adjacency = graph.matrix if matrix is None else matrix
        total = x
        for _ in range(self.layers):
            x = symmetric_spmm(adjacency, x)  # the matrix is symmetric: cheap backward
            total = total + x
        z = total / (self.layers + 1)
        return z + self.out(F.leaky_relu(self.hidden(z), 0.1))

    def updated(
        self, graph: InfluenceGraph, user0: torch.Tensor, item0: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(E0_user + ΔE0_user, E0_item + ΔE0_item, ΔE0 rows)``, differentiable.

        The tables are new tensors (``index_add``, not in place) so gradients reach the
        encoder; rows outside the request are copies of the input.
        """
        delta = self(graph, user0, item0)
        k = len(graph.users)
        new_user = user0.index_add(0, graph.users, delta[:k])
        new_item = item0.index_add(0, graph.items, delta[k:])
        return new_user, new_item, delta
