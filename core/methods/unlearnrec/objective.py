"""UnlearnRec's training objective for the influence encoder, on either backbone.

One step sees one deletion request (simulated during pre-training, the real one when
fine-tuning) and minimises a weighted sum of four terms, all computed with the
*updated* embeddings ``E0 + ΔE0`` pushed through the backbone over the *remaining*
graph (LightGCN) — exactly what the unlearned model will score with:

- **model**: the backbone's own BPR loss on a batch of remaining edges, so the update
  keeps the model a good recommender on what it is allowed to know;
- **unlearn**: pushes the deleted edges' scores down — the paper's ``−log σ(−ŷ(u, i))``,
  or (our default) down to the level of an item drawn by popularity, see
  :class:`LossConfig`;
- **preserve**: KL divergence between the original model's and the updated model's
  score distributions (softmax over an item set holding the affected items) for users
  of remaining edges, so collateral damage on retained users stays small;
- **contrast**: InfoNCE between the encoder's outputs on two edge-dropped views of the
  influence-dependency matrix, a small term that makes the update depend on the
  request's structure rather than on any single edge. (Views of the request rather than
  of the whole interaction graph: BPR-MF has no graph to drop edges from, and the
  encoder is the only thing being trained.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.methods.unlearnrec.influence import InfluenceEncoder, InfluenceGraph
from core.models.base import GraphModel
from core.models.lightgcn import normalized_adjacency, propagate, to_csr

CONTRAST_TEMPERATURE = 0.2
CONTRAST_DROP = 0.2
CONTRAST_NODES = 256
PRESERVE_USERS = 256
PRESERVE_ITEMS = 512


class Backbone:
    """Final embeddings from layer-0 tables, the way the base model computes them.

    BPR-MF scores with the tables themselves; LightGCN averages ``L`` propagations over
    its normalised adjacency (:func:`core.models.lightgcn.propagate`, called on the tables
    rather than through ``embeddings()`` because the tables are the encoder's
    differentiable output, not the model's parameters, and the graph changes with every
    simulated request).
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self.n_users = int(model.n_users)
        self.n_items = int(model.n_items)
        self.layers = int(getattr(model, "layers", 0)) if isinstance(model, GraphModel) else 0

    def adjacency(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor | None:
        """The normalised adjacency of these rows, or None for a backbone with no graph."""
        if self.layers == 0:
            return None
        return to_csr(normalized_adjacency(users, items, self.n_users, self.n_items))

    def final(
        self, user0: torch.Tensor, item0: torch.Tensor, adjacency: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if adjacency is None or self.layers == 0:
            return user0, item0
        return propagate(adjacency, user0, item0, self.layers)


@dataclass(frozen=True)
class LossConfig:
    """Weights of the four terms, and where the unlearning term pushes deleted edges.

    ``target = "zero"`` is the paper's ``−log σ(−ŷ)``: it has no minimum, and nothing
    opposes it for a user whose whole history is deleted, so that user's vector is
    driven to point *away* from its old items until they rank last — a trace as telling
    as remembering them (the membership attack reads it: AUC 0.31–0.38 against
    retrain's 0.54 in our ML-100K BPR-MF runs, with retain NDCG@10 5–11 % below
    retrain's). ``target = "popularity"`` makes a deleted edge indistinguishable
    from an item drawn by popularity from the remaining graph, for the same user:
    ``−½ log σ(d) − ½ log σ(−d)`` with ``d = û · (e_deleted − e_drawn)``, zero-gradient
    when the two are level on average. That is where a model that never saw the edge
    puts it — our protocol ranks a user it knows nothing about by popularity. ``û`` is
    the user's *unit* vector: with raw scores, shrinking a forgotten user's vector to
    zero would level everything and satisfy the loss while ranking nothing like
    popularity; with the direction only, the loss can be met only by turning the vector.
    The drawn item is detached (a yardstick, not something to move).
    """

    model: float = 1.0
    unlearn: float = 5.0
    preserve: float = 1.0
    contrast: float = 0.01
    target: str = "popularity"


@dataclass
class Objective:
    """Everything a step needs that does not change between steps.

    ``user0``/``item0`` are the base model's layer-0 tables and ``orig_user``/
    ``orig_item`` its final embeddings on its own training graph (all detached).
    """

    backbone: Backbone
    user0: torch.Tensor
    item0: torch.Tensor
    orig_user: torch.Tensor
    orig_item: torch.Tensor
    loss: LossConfig

    @classmethod
    def from_model(cls, model: torch.nn.Module, loss: LossConfig) -> "Objective":
        with torch.no_grad():
            user0, item0 = (t.detach().clone() for t in model.layer0())
            orig_user, orig_item = (t.detach().clone() for t in model.embeddings())
        return cls(Backbone(model), user0, item0, orig_user, orig_item, loss)

    def __call__(
        self,
        encoder: InfluenceEncoder,
        graph: InfluenceGraph,
        adjacency: torch.Tensor | None,
        batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        generator: torch.Generator,
        remaining_items: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """``(total loss, {term: value})`` for one request.

        ``graph`` is the request's influence graph (:func:`influence_graph` of the deleted
        edges); ``adjacency`` the remaining graph's (None for BPR-MF); ``batch`` holds
        (user, positive, negative) triples drawn from the remaining edges;
        ``remaining_items`` the item of every remaining edge (a uniform draw from it is a
        draw by popularity), needed for the popularity target.
        """
        w = self.loss
        new_user0, new_item0, delta = encoder.updated(graph, self.user0, self.item0)
        user, item = self.backbone.final(new_user0, new_item0, adjacency)

        users, pos, neg = batch
        u = user.index_select(0, users)
        gap = (u * (item.index_select(0, pos) - item.index_select(0, neg))).sum(1)
        model_loss = -F.logsigmoid(gap).mean()

        forgotten_users = user.index_select(0, graph.users[graph.edge_users])
        forgotten = (forgotten_users * item.index_select(0, graph.items[graph.edge_items])).sum(1)
        if w.target == "popularity" and remaining_items is not None and len(remaining_items) and graph.n_edges:
            pick = torch.randint(
                0, len(remaining_items), (graph.n_edges,), generator=generator, device=forgotten.device
            )
            reference = item.index_select(0, remaining_items[pick]).detach()  # a yardstick, not moved
            direction = F.normalize(forgotten_users, dim=1, eps=1e-6)
            level = (direction * (item.index_select(0, graph.items[graph.edge_items]) - reference)).sum(1)
            unlearn_loss = 0.5 * (F.softplus(level) + F.softplus(-level)).mean() - math.log(2.0)
            above = (level > 0).float().mean()
        else:
            unlearn_loss = F.softplus(forgotten).mean() if graph.n_edges else forgotten.sum()  # −log σ(−ŷ)
            above = (forgotten > 0).float().mean() if graph.n_edges else forgotten.new_zeros(())
        preserve_loss = self._preservation(user, item, users, graph.items, generator)
        contrast_loss = self._contrast(encoder, graph, generator) if w.contrast > 0 else delta.new_zeros(())

        total = (
            w.model * model_loss + w.unlearn * unlearn_loss + w.preserve * preserve_loss + w.contrast * contrast_loss
        )
        parts = {
            "loss": float(total.detach()),
            "model": float(model_loss.detach()),
            "unlearn": float(unlearn_loss.detach()),
            "preserve": float(preserve_loss.detach()),
            "contrast": float(contrast_loss.detach()),
            "forgotten_score": float(forgotten.detach().mean()) if graph.n_edges else 0.0,
            "forgotten_above_reference": float(above),
        }
        return total, parts

    def _preservation(
        self,
        user: torch.Tensor,
        item: torch.Tensor,
        batch_users: torch.Tensor,
        affected_items: torch.Tensor,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """KL(original ‖ updated) of per-user softmax scores over affected + random items."""
        device = user.device
        users = torch.unique(batch_users)
        if len(users) > PRESERVE_USERS:
            users = users[torch.randperm(len(users), generator=generator, device=device)[:PRESERVE_USERS]]
        if len(affected_items) > PRESERVE_ITEMS:
            affected_items = affected_items[
                torch.randperm(len(affected_items), generator=generator, device=device)[:PRESERVE_ITEMS]
            ]
        extra = torch.randint(0, self.backbone.n_items, (PRESERVE_ITEMS,), generator=generator, device=device)
        items = torch.unique(torch.cat([affected_items, extra]))
        original = self.orig_user.index_select(0, users) @ self.orig_item.index_select(0, items).T
        updated = user.index_select(0, users) @ item.index_select(0, items).T
        return F.kl_div(F.log_softmax(updated, 1), F.log_softmax(original, 1), log_target=True, reduction="batchmean")

    def _contrast(self, encoder: InfluenceEncoder, graph, generator: torch.Generator) -> torch.Tensor:
        """InfoNCE between a node's update under two edge-dropped views of the request."""
        if graph.n_nodes < 2:
            return self.user0.new_zeros(())
        one = encoder(graph, self.user0, self.item0, graph.dropped_view(CONTRAST_DROP, generator))
        two = encoder(graph, self.user0, self.item0, graph.dropped_view(CONTRAST_DROP, generator))
        if graph.n_nodes > CONTRAST_NODES:
            pick = torch.randperm(graph.n_nodes, generator=generator, device=one.device)[:CONTRAST_NODES]
            one, two = one[pick], two[pick]
        logits = F.normalize(one, dim=1) @ F.normalize(two, dim=1).T / CONTRAST_TEMPERATURE
        return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))
