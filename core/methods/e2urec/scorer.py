"""E2URec as a Scorer: the LLM re-ranks the base recommender's top-N for each user.

Scores: the base recommender's scores for every item, then each of the N candidates
(the base's best items once the user's retained training items are masked, as the
evaluator masks them) lifted above every other item and ordered by P(" Yes"). Items
outside the candidates keep the base order below them, so the grouped hit/NDCG apply.

The LLM is slow on a CPU: it only scores the ``sampled`` users (the evaluation sample:
the runner measures this model on those users alone, and base/retrain on the very same
users); any other user gets the base order unchanged. LLM scores are computed on first request and kept.
"""

from __future__ import annotations

import numpy as np
import torch

from core.evaluation.full_sort import RowSets, score_with_fallback
from core.events import NULL_REPORTER, Reporter
from core.methods.common.rerank import lift_candidates
from core.methods.e2urec import answers
from core.methods.e2urec.llm_rec import candidate_logits
from core.methods.e2urec.prompts import PromptBuilder
from core.models.base import Scorer


class E2URecScorer:
    def __init__(
        self,
        llm: torch.nn.Module,
        prompts: PromptBuilder,
        answer_ids: tuple[int, int],
        pad_id: int,
        base: Scorer,
        mask: RowSets,
        n_candidates: int,
        sampled: np.ndarray | None,
        llm_device: torch.device,
        reporter: Reporter = NULL_REPORTER,
        weights: bytes | None = None,
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.answer_ids = answer_ids
        self.pad_id = pad_id
        self.base = base
        self.mask = mask
        self.n_candidates = n_candidates
        self.llm_device = llm_device
        self.reporter = reporter
        self.weights = weights  # digest of the scoring adapter: answers under it are remembered across runs
        self.n_users = base.n_users
        self.n_items = base.n_items
        self._llm_users = np.zeros(self.n_users, dtype=bool)
        self._llm_users[np.arange(self.n_users) if sampled is None else np.asarray(sampled, dtype=np.int64)] = True
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # user -> (candidates, P(yes))

    @property
    def device(self) -> torch.device:
        return self.base.device

    @property
    def known_users(self) -> torch.Tensor | None:
        return self.base.known_users

    @property
    def popularity(self) -> torch.Tensor:
        return self.base.popularity

    def candidates(self, users: np.ndarray) -> np.ndarray:
        """``[B, N]`` the base's best items per user, retained training items masked."""
        users_t = torch.as_tensor(users, device=self.device, dtype=torch.long)
        with torch.no_grad():
            scores = score_with_fallback(self.base, users_t)
            scores = scores.masked_fill(self.mask.dense(users, self.device), float("-inf"))
            return torch.topk(scores, min(self.n_candidates, self.n_items), dim=1).indices.cpu().numpy()

    def llm_scores(self, user: int, items: np.ndarray) -> np.ndarray:
        """P(" Yes") for each candidate of ``user`` under the active (student) adapter."""
        self.reporter.check()
        prefix = self.prompts.prefix(int(user))
        suffixes = [self.prompts.suffix(int(i)) for i in items]
        key = answers.prompt_key(self.weights, prefix, *suffixes) if self.weights is not None else None
        probs = answers.recall(key) if key is not None else None
        if probs is None:
            logits = candidate_logits(self.llm, prefix, suffixes, self.answer_ids, self.pad_id, self.llm_device)
            probs = torch.softmax(logits, -1)[:, 1].cpu().numpy()
            if key is not None:
                answers.remember(key, probs)
        return probs

    def precompute(self, users: np.ndarray) -> None:
        """Run the LLM for ``users`` not scored yet (the slow part)."""
        todo = np.asarray(
            [u for u in np.unique(users) if self._llm_users[u] and int(u) not in self._cache], dtype=np.int64
        )
        if len(todo) == 0:
            return
        cands = self.candidates(todo)
        for k, (user, items) in enumerate(zip(todo, cands)):
            self._cache[int(user)] = (items, self.llm_scores(int(user), items))
            self.reporter.progress((k + 1) / len(todo), f"LLM re-ranking {k + 1}/{len(todo)} users")
        answers.flush()

    @torch.no_grad()
    def score(self, users: torch.Tensor) -> torch.Tensor:
        users_np = users.cpu().numpy().astype(np.int64)
        scores = self.base.score(users.to(self.device)).float().clone()
        self.precompute(users_np)
        for row, user in enumerate(users_np):
            hit = self._cache.get(int(user))
            if hit is not None:
                lift_candidates(scores, row, *hit)
        return scores
