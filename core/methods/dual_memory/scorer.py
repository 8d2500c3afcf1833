"""The served dual-memory model: each request routed by the router, never by an ID list."""

from __future__ import annotations

import torch

from core.methods.dual_memory.generative import ContextScorer, beam_top_k, item_log_probs
from core.methods.dual_memory.router import Router


class DualMemoryScorer(ContextScorer):
    """A :class:`~core.models.base.Scorer`: main memory (adapter off) or side memory
    (adapter on) per user, as the router decides from the request's features.

    ``contexts [n_users, n+1]`` are the inputs each user's request carries and
    ``features [n_users, f]`` the router's view of those requests.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        contexts: torch.Tensor,
        features: torch.Tensor,
        router: Router,
        known: torch.Tensor,
        popularity: torch.Tensor,
    ) -> None:
        super().__init__(model.eval(), contexts, known, popularity)
        self.features = features
        self.router = router.to(contexts.device)

    @torch.no_grad()
    def routes(self, users: torch.Tensor) -> torch.Tensor:
        """Bool per user: True when the router sends the request to the side memory."""
        return self.router.route(self.features[users.to(self.device)])

    @torch.no_grad()
    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Item log-probabilities ``[B, n_items]`` from whichever memory each user is routed to."""
        users = users.to(self.device)
        side = self.routes(users)
        ctx = self.contexts[users]
        out = torch.empty(len(users), self.n_items, device=self.device)
        if bool((~side).any()):
            with self.model.disable_adapter():
                out[~side] = item_log_probs(self.model, ctx[~side])
        if bool(side.any()):
            out[side] = item_log_probs(self.model, ctx[side])
        return out

    @torch.no_grad()
    def recommend(self, users: torch.Tensor, k: int, masked: torch.Tensor | None = None) -> torch.Tensor:
        """Top-``k`` items by beam search (the published decoding), routed like :meth:`score`."""
        users = users.to(self.device)
        side = self.routes(users)
        ctx = self.contexts[users]
        out = torch.full((len(users), k), -1, dtype=torch.long, device=self.device)
        for chosen, adapter_on in ((~side, False), (side, True)):
            if not bool(chosen.any()):
                continue
            sub_mask = masked[chosen] if masked is not None else None
            if adapter_on:
                out[chosen] = beam_top_k(self.model, ctx[chosen], k, sub_mask)
            else:
                with self.model.disable_adapter():
                    out[chosen] = beam_top_k(self.model, ctx[chosen], k, sub_mask)
        return out
