"""CRAGRU as a :class:`~core.models.base.Scorer`, so the shared evaluator applies.

``score(users)`` starts from the base order (the base recommender's scores, or the
retained popularity for users it does not know and, when configured, for users a
user-level request forgot). For a user in the LLM sample, the N candidates are lifted
above every other item in the LLM's (fused) order; everything else keeps the base
order below them. Hit/NDCG@K for K <= N therefore measure the LLM's ranking.

The LLM is slow on a CPU, so it only runs for the users of the evaluation sample (the
runner measures this model on exactly those users, and base/retrain on the same users
beside it); anyone else gets the base order. Answers are computed on first request and cached
in the state; ``late_extras()`` reports afterwards which path produced each list.
"""

from __future__ import annotations

import numpy as np
import torch

from core.evaluation.grouped import EvalSample
from core.methods.common.rerank import lift_candidates
from core.methods.cragru.state import PATHS, CragruState


class CragruScorer:
    def __init__(self, state: CragruState, eval_users: EvalSample | None) -> None:
        self.state = state
        self.n_users = state.store.n_users
        self.n_items = state.store.n_items
        sampled = (
            np.concatenate([np.asarray(v, np.int64) for v in eval_users.values()])
            if eval_users
            else np.arange(self.n_users)
        )
        self._llm_users = np.zeros(self.n_users, dtype=bool)
        self._llm_users[sampled] = True
        self._base_served: set[int] = set()
        self._llm_served: set[int] = set()

    @property
    def device(self) -> torch.device:
        return self.state.device

    @property
    def known_users(self) -> torch.Tensor | None:
        return None  # score() applies the popularity rule itself

    @property
    def popularity(self) -> torch.Tensor:
        return self.state.popularity_tensor()

    @torch.no_grad()
    def score(self, users: torch.Tensor) -> torch.Tensor:
        users_np = users.detach().cpu().numpy().astype(np.int64)
        scores = self.state.base_scores(users_np)
        chosen = users_np[self._llm_users[users_np]]
        answers = self.state.answers(chosen) if len(chosen) else {}
        for row, user in enumerate(users_np.tolist()):
            answer = answers.get(user)
            if answer is None:
                self._base_served.add(user)
                continue
            self._llm_served.add(user)
            items, fused = self.state.ranking(user, answer)
            lift_candidates(scores, row, items, fused)
        return scores

    def late_extras(self) -> dict[str, float]:
        """Figures only known after evaluation: paths taken, LLM throughput, prompt sizes."""
        s = self.state
        out = {f"paths/{p}": float(s.path_counts.get(p, 0)) for p in PATHS}
        out["paths/base_order_outside_sample"] = float(len(self._base_served - self._llm_served))
        out["llm_users_ranked"] = float(s.llm_prompts)
        out["llm_seconds"] = float(s.llm_seconds)
        out["llm_users_per_s"] = float(s.llm_prompts / s.llm_seconds) if s.llm_seconds > 0 else float("nan")
        if s.prompt_tokens:
            out["prompt_tokens_mean"] = float(np.mean(s.prompt_tokens))
            out["prompt_tokens_max"] = float(np.max(s.prompt_tokens))
        return out
