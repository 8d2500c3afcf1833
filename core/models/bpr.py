"""BPR-MF (Rendle et al., 2009): plain matrix factorisation trained with the BPR loss."""

from __future__ import annotations

from core.models.recommender import Recommender


class BPRMF(Recommender):
    """Scores are dot products of the raw user and item embeddings."""

    kind = "bpr"

    def item_sides(self) -> list:
        """:class:`core.models.item_side.HasItemSide`: the item table scores are dot products with."""
        return [self.item_embedding.weight.detach()]
