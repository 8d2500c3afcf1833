"""The embedding recommender every base model derives from.

A :class:`Recommender` is a :class:`~core.models.base.Scorer`: it ranks items by the dot
product of final user and item embeddings. Unlearning methods work on the raw
embedding tables (:meth:`Recommender.layer0`) and reuse :meth:`Recommender.bpr_loss`,
so fine-tuning, reverse BPR and NegGrad train exactly the objective the base model did.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.models.base import ModelConfig, known_mask, popularity_of


class Recommender(nn.Module):
    """User and item embedding tables plus what evaluation needs to know about training.

    Buffers ``known_users`` (bool ``[n_users]``) and ``popularity`` (float ``[n_items]``)
    describe the rows the model was trained on; they travel with ``state_dict`` and
    ``.to(device)``. Subclasses override :meth:`embeddings` when scoring uses something
    other than the raw tables (LightGCN's propagation).
    """

    kind = "base"

    def __init__(
        self,
        config: ModelConfig,
        n_users: int,
        n_items: int,
        train_users: np.ndarray,
        train_items: np.ndarray,
    ) -> None:
        super().__init__()
        self.config = config
        self.n_users = int(n_users)
        self.n_items = int(n_items)
        self.user_embedding = nn.Embedding(self.n_users, config.dim)
        self.item_embedding = nn.Embedding(self.n_items, config.dim)
        self.register_buffer("known_users", torch.zeros(self.n_users, dtype=torch.bool))
        self.register_buffer("popularity", torch.zeros(self.n_items, dtype=torch.float32))
        self.set_training_rows(train_users, train_items)
        self.reset_parameters(config.seed)

    # -- set-up ---------------------------------------------------------------------
    def reset_parameters(self, seed: int) -> None:
        """Xavier-normal init (as RecBole), drawn on the CPU so every device starts alike."""
        generator = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for table in (self.user_embedding.weight, self.item_embedding.weight):
                fresh = torch.empty(table.shape, dtype=table.dtype)
                nn.init.xavier_normal_(fresh, generator=generator)
                table.copy_(fresh.to(table.device))

    def set_training_rows(self, users: np.ndarray, items: np.ndarray) -> None:
        """Record which users and item counts this model's training data holds.

        Evaluation ranks users outside ``known_users`` by ``popularity`` (the protocol's
        rule for users a model knows nothing about).
        """
        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        device = self.known_users.device
        self.known_users.copy_(known_mask(users, self.n_users, device))
        self.popularity.copy_(popularity_of(items, self.n_items, device))

    # -- Scorer ---------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.user_embedding.weight.device

    def layer0(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The raw embedding tables (``nn.Parameter``s) that training and unlearning update."""
        return self.user_embedding.weight, self.item_embedding.weight

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final ``(user [n_users, d], item [n_items, d])`` embeddings used for scoring."""
        return self.layer0()

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Scores ``[len(users), n_items]``: dot products of final embeddings."""
        user_emb, item_emb = self.embeddings()
        users = users.to(user_emb.device, torch.long)
        return user_emb.index_select(0, users) @ item_emb.T

    # -- training objective ---------------------------------------------------------
    def bpr_loss(
        self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, sparse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loss, reg)`` for a batch of (user, positive, negative) triples.

        ``loss`` is the mean of ``-log σ(s(u,i) − s(u,j))`` on final embeddings; ``reg`` is
        ``(‖u‖² + ‖i‖² + ‖j‖²) / 2 / batch`` on the raw tables (RecBole's EmbLoss), left
        unweighted so the caller multiplies it by its own ``reg``. ``sparse``: the gathers
        give sparse gradients (raw tables only, i.e. BPR-MF), for ``torch.optim.SparseAdam``.
        """
        user_emb, item_emb = self.embeddings()
        batch = len(users)
        both = torch.cat([pos, neg])  # one gather (and one scatter in backward) for i and j
        if sparse:  # gradients of the touched rows only (for a row-wise optimiser on very large tables)
            u, ij = F.embedding(users, user_emb, sparse=True), F.embedding(both, item_emb, sparse=True)
        else:
            u, ij = user_emb.index_select(0, users), item_emb.index_select(0, both)
        diff = (u * (ij[:batch] - ij[batch:])).sum(-1)
        loss = -F.logsigmoid(diff).mean()
        user0, item0 = self.layer0()
        if user_emb is user0 and item_emb is item0:
            u0, ij0 = u, ij
        else:
            u0, ij0 = user0.index_select(0, users), item0.index_select(0, both)
        reg = (u0.pow(2).sum() + ij0.pow(2).sum()) / (2 * max(1, batch))
        return loss, reg
