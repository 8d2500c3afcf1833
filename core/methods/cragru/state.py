"""Everything CRAGRU holds at serving time, and the deletion that is its unlearning.

:class:`CragruState` owns the retrieval store and every cache derived from it —
candidates, retrieved history, prompts, LLM answers — keyed so that a deletion can
purge exactly the affected users' entries: unlearning touches nothing else, which is
why other users' prompts (and recommendations) stay bit-identical. The LLM answers
are computed lazily, only for users someone asks about, and kept per prompt.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import torch

from core.events import NULL_REPORTER, Reporter
from core.llm.answer_store import AnswerStore
from core.methods.cragru.backends import LLMBackend, LocalBackend
from core.methods.cragru.candidate_logprobs import CachedScorer
from core.methods.cragru.clusters import ItemClusters
from core.methods.cragru.fusion import fuse
from core.methods.cragru.generation_parse import parse_ranking
from core.methods.cragru.prompts import Prompt, PromptBuilder
from core.methods.cragru.store import RetrievalStore
from core.methods.cragru.strategies import select_history
from core.models.base import Scorer

PATHS = ("scoring", "generate_complete", "generate_repaired", "generate_salvaged", "fallback_base")
ANSWER_MEMO: dict[str, dict[str, np.ndarray]] = {}
"""Per in-process LLM (name and weights object), candidate scores keyed by the prompt's hash (which
covers its history, profile and candidates): a run repeated in the same window reuses
them. A deletion purges the affected users' entries here too (:meth:`CragruState.delete`)."""
MEMO_KEYS_BY_USER: dict[tuple[str, int], set[str]] = {}


@dataclass
class LlmAnswer:
    """The LLM's verdict on one prompt: a score per candidate (higher = better)."""

    user: int
    key: str
    candidates: np.ndarray
    scores: np.ndarray
    path: str
    history_rows: np.ndarray


@dataclass
class DeletionReport:
    rows_deleted: int
    users_affected: int
    entries_purged: int
    seconds: float


@dataclass
class CragruState:
    store: RetrievalStore
    clusters: ItemClusters
    base: Scorer
    builder: PromptBuilder
    backend: LLMBackend | None
    strategy: str = "diversity"
    budget: int = 10
    n_candidates: int = 20
    mode: str = "scoring"
    ratios: np.ndarray | None = None
    item_embeddings: np.ndarray | None = None
    fusion_weight: float = 1.0
    candidate_source: str = "popularity"  # for users a user-level request forgot
    gen_retries: int = 2
    gen_max_new_tokens: int = 0
    reporter: Reporter = NULL_REPORTER
    forgotten_users: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # caches derived from the store (all purged per user on deletion)
    candidates_cache: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    retrieved_cache: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # positions, rows
    prompt_cache: dict[int, Prompt] = field(default_factory=dict)
    llm_cache: dict[str, LlmAnswer] = field(default_factory=dict)
    llm_keys_by_user: dict[int, set[str]] = field(default_factory=dict)
    # bookkeeping
    path_counts: Counter = field(default_factory=Counter)
    llm_seconds: float = 0.0
    llm_prompts: int = 0
    tuning_llm_seconds: float = 0.0
    tuning_llm_prompts: int = 0
    tuned_users: set[int] = field(default_factory=set)  # users whose prompts served tuning only
    prompt_tokens: list[int] = field(default_factory=list)
    cached_scorer: CachedScorer | None = None
    answer_store: AnswerStore | None = None  # the LLM's answers on disk (a second launch reuses them); None: in-process

    # -- base order and candidates ----------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.base.device

    def popularity_tensor(self) -> torch.Tensor:
        return torch.as_tensor(self.store.popularity, device=self.device)

    def _popularity_users(self, users: np.ndarray) -> np.ndarray:
        """Users ranked by retained popularity: unknown to the base model, or forgotten
        by a user-level request when the candidate source says so."""
        known = self.base.known_users
        out = np.zeros(len(users), dtype=bool)
        if known is not None:
            out |= ~known.detach().cpu().numpy()[users]
        if self.candidate_source == "popularity" and len(self.forgotten_users):
            out |= np.isin(users, self.forgotten_users)
        return out

    @torch.no_grad()
    def base_scores(self, users: np.ndarray) -> torch.Tensor:
        """``[B, n_items]`` float scores of the base order (before any LLM)."""
        users = np.asarray(users, dtype=np.int64)
        users_t = torch.as_tensor(users, device=self.device)
        scores = self.base.score(users_t).float().clone()
        pop = self._popularity_users(users)
        if pop.any():
            scores[torch.as_tensor(np.flatnonzero(pop), device=self.device)] = self.popularity_tensor()[None, :]
        return scores

    def candidates(self, users: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per user ``(items [N], base scores [N])``: the base top-N with the user's stored
        (retained training) items masked — the evaluator masks the same items."""
        users = np.asarray(users, dtype=np.int64)
        todo = np.asarray([u for u in users.tolist() if u not in self.candidates_cache], dtype=np.int64)
        if len(todo):
            scores = self.base_scores(todo)
            batch, items = self.store.items_of(todo)
            if len(batch):
                scores[torch.as_tensor(batch, device=self.device), torch.as_tensor(items, device=self.device)] = float(
                    "-inf"
                )
            top = torch.topk(scores, min(self.n_candidates, scores.shape[1]), dim=1)
            values, indices = top.values.cpu().numpy(), top.indices.cpu().numpy()
            for row, u in enumerate(todo.tolist()):
                self.candidates_cache[u] = (indices[row].astype(np.int64), values[row].astype(np.float64))
        return [self.candidates_cache[int(u)] for u in users]

    # -- retrieval and prompts --------------------------------------------------------
    def retrieve(self, user: int) -> np.ndarray:
        """Positions into the user's stored history, priority order (cached)."""
        if user not in self.retrieved_cache:
            items = self.store.user_items(user)
            cands = self.candidates([user])[0][0] if self.strategy == "attention" else None
            positions = select_history(
                self.strategy,
                items,
                self.budget,
                labels=self.clusters.labels,
                n_clusters=self.clusters.k,
                ratios=self.ratios,
                item_embeddings=self.item_embeddings,
                candidates=cands,
            )
            self.retrieved_cache[user] = (positions, self.store.user_rows(user)[positions])
        return self.retrieved_cache[user][0]

    def prompt(self, user: int) -> Prompt:
        user = int(user)
        if user not in self.prompt_cache:
            span = self.store.span(user)
            cands = self.candidates([user])[0][0]
            p = self.builder.build(
                user,
                self.store.profile(user),
                self.store.rows[span],
                self.store.items[span],
                self.store.ratings[span],
                self.retrieve(user),
                cands,
            )
            self.prompt_cache[user] = p
        return self.prompt_cache[user]

    def prompt_with_history(self, user: int, positions: np.ndarray) -> Prompt:
        """A one-off prompt with chosen history positions (tuning; not cached)."""
        span = self.store.span(user)
        cands = self.candidates([user])[0][0]
        return self.builder.build(
            user,
            self.store.profile(user),
            self.store.rows[span],
            self.store.items[span],
            self.store.ratings[span],
            positions,
            cands,
        )

    # -- the LLM --------------------------------------------------------------------
    def answers(self, users: np.ndarray, chunk: int = 8) -> dict[int, LlmAnswer]:
        """LLM answers for ``users`` (computed for those not cached yet)."""
        users = [int(u) for u in np.unique(np.asarray(users, dtype=np.int64))]
        prompts = {}
        for u in users:  # building a prompt tokenises it (budget): a stop is honoured between users
            self.reporter.check()
            prompts[u] = self.prompt(u)
        todo = [u for u in users if prompts[u].key not in self.llm_cache]
        self.prompt_tokens.extend(prompts[u].n_tokens for u in todo)
        for start in range(0, len(todo), chunk):
            self.reporter.check()
            part = [prompts[u] for u in todo[start : start + chunk]]
            for answer in self.ask(part):
                self.llm_cache[answer.key] = answer
                self.llm_keys_by_user.setdefault(answer.user, set()).add(answer.key)
            done = min(len(todo), start + chunk)
            self.reporter.progress(done / len(todo), f"CRAGRU: LLM ranked {done}/{len(todo)} users")
        return {u: self.llm_cache[prompts[u].key] for u in users}

    def tuning_answers(self, users: np.ndarray, chunk: int = 8) -> list[LlmAnswer]:
        """LLM answers for validation tuning: the serving prompts of ``users``, booked as
        tuning work and not cached (these users are never served during evaluation)."""
        users = [int(u) for u in np.asarray(users, dtype=np.int64)]
        out: list[LlmAnswer] = []
        for start in range(0, len(users), chunk):
            self.reporter.check()
            part = users[start : start + chunk]
            out.extend(self.ask([self.prompt_with_history(u, self.retrieve(u)) for u in part], tuning=True))
            self.reporter.progress(min(len(users), start + chunk) / len(users), "CRAGRU: tuning λ on validation users")
        return out

    def ask(self, prompts: list[Prompt], *, tuning: bool = False) -> list[LlmAnswer]:
        """Run the backend on prompts (no caching): scoring or generation with repair.

        ``tuning=True`` books the work apart (one-off prompts of the knapsack and of
        λ's choice), so the serving figures (paths, users/s) describe recommendation lists only.
        """
        if self.backend is None:
            raise RuntimeError("CRAGRU has no LLM backend")
        t0 = time.perf_counter()
        if self.mode == "scoring":
            if isinstance(self.backend, LocalBackend):
                scores = self._local_scores(prompts)
            else:
                scores = self.backend.score([p.text for p in prompts], [p.candidate_texts for p in prompts])
            out = [self._answer(p, s, "scoring") for p, s in zip(prompts, scores)]
        else:
            out = self._generate(prompts)
        if tuning:
            self.tuning_llm_seconds += time.perf_counter() - t0
            self.tuning_llm_prompts += len(prompts)
            self.tuned_users.update(p.user for p in prompts)
            return out
        self.llm_seconds += time.perf_counter() - t0
        self.llm_prompts += len(prompts)
        for a in out:
            self.path_counts[a.path] += 1
        return out

    def _local_scores(self, prompts: list[Prompt]) -> list[np.ndarray]:
        """An in-process LLM's scores: one chunked prefill per prompt (a stop honoured
        between chunks), the prefix every prompt shares prefilled once, candidates scored
        from the prompt's cache (:class:`~core.methods.cragru.candidate_logprobs.CachedScorer`)."""
        backend = self.backend
        memo = ANSWER_MEMO.setdefault(_memo_name(backend), {})
        disk = self.answer_store
        for p in prompts if disk is not None else ():  # answered in an earlier launch (same model file, prompt)
            hit = None if p.key in memo else disk.get(p.key)
            if hit is not None:
                memo[p.key] = hit
                self._book(p)
        todo = list({p.key: p for p in prompts if p.key not in memo}.values())  # one pass per distinct prompt
        encode = lambda text: backend.tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
        ids = [encode(backend.format(p.text)) for p in todo]
        keep = backend.max_candidate_tokens - len(backend.end_ids)
        if self.cached_scorer is None and todo:
            self.cached_scorer = CachedScorer(backend.model, backend.pad_id, backend.device, self.reporter.check)
            if len(ids) > 1:
                self.cached_scorer.set_prefix(_common_prefix(ids))
        for p, prompt in zip(ids, todo):
            self.cached_scorer.check = self.reporter.check
            memo[prompt.key] = self.cached_scorer.score(
                p, [encode(c)[:keep] + backend.end_ids for c in prompt.candidate_texts]
            )
            owners = [self._book(q) for q in prompts if q.key == prompt.key]  # every user asking it
            if disk is not None:
                disk.put(prompt.key, memo[prompt.key], max(owners))
        if disk is not None and todo:
            disk.flush()
        return [memo[p.key] for p in prompts]

    def _book(self, prompt: Prompt) -> int:
        """Book a memoised answer under the user whose data it derives from, and return that
        user (-1: nobody's, see :meth:`owner`), so a deletion purges exactly those answers."""
        owner = self.owner(prompt)
        if owner >= 0:
            MEMO_KEYS_BY_USER.setdefault((_memo_name(self.backend), owner), set()).add(prompt.key)
        return owner

    def owner(self, prompt: Prompt) -> int:
        """The user whose data ``prompt`` (so its answer) is built from; -1 when it holds
        nothing of anyone: no history, no profile, no stored row masking the candidates,
        and candidates from the retained popularity (a forgotten user's prompt after a
        user-level deletion). Such an answer is not purged by a later deletion: a rerun of
        the same request (or a second launch) reuses it instead of asking the LLM again.
        The answer is a function of the prompt text alone, keyed by its hash."""
        user = int(prompt.user)
        anonymous = (
            len(prompt.history_rows) == 0
            and not prompt.has_profile
            and self.store.count(user) == 0
            and bool(self._popularity_users(np.asarray([user], dtype=np.int64))[0])
        )
        return -1 if anonymous else user

    def _answer(self, p: Prompt, scores: np.ndarray, path: str) -> LlmAnswer:
        return LlmAnswer(p.user, p.key, p.candidates, np.asarray(scores, dtype=np.float64), path, p.history_rows)

    def _generate(self, prompts: list[Prompt]) -> list[LlmAnswer]:
        n = max(len(p.candidates) for p in prompts)
        max_new = self.gen_max_new_tokens or 8 * n + 16
        results: dict[int, LlmAnswer] = {}
        first_text: dict[int, str] = {}
        pending = list(range(len(prompts)))
        for attempt in range(self.gen_retries + 1):
            if not pending:
                break
            texts = self.backend.generate([prompts[i].text for i in pending], max_new, attempt)
            still = []
            for i, text in zip(pending, texts):
                first_text.setdefault(i, text)
                parsed = parse_ranking(text, prompts[i].candidate_ids)
                if parsed.ok:
                    path = "generate_complete" if parsed.complete else "generate_repaired"
                    results[i] = self._answer(prompts[i], _order_scores(parsed.order), path)
                else:
                    still.append(i)
            pending = still
        for i in pending:
            parsed = parse_ranking(first_text.get(i, ""), prompts[i].candidate_ids, lenient=True)
            path = "generate_salvaged" if parsed.ok else "fallback_base"
            results[i] = self._answer(prompts[i], _order_scores(parsed.order), path)
        return [results[i] for i in range(len(prompts))]

    def ranking(self, user: int, answer: LlmAnswer | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(candidates, fused scores)`` for one user (LLM answer fused with the base)."""
        answer = answer or self.answers(np.asarray([user]))[int(user)]
        base = self.candidates([user])[0][1]
        return answer.candidates, fuse(answer.scores[None], base[None], self.fusion_weight)[0]

    # -- unlearning -----------------------------------------------------------------
    def delete(
        self, rows: np.ndarray, forgotten_users: np.ndarray | None = None, forget_profiles: bool = True
    ) -> DeletionReport:
        """Delete rows from the store and purge every cache derived from them."""
        t0 = time.perf_counter()
        before = len(self.store)
        affected = self.store.delete_rows(rows)
        users = set(affected.tolist())
        if forgotten_users is not None and len(forgotten_users):
            forgotten_users = np.asarray(forgotten_users, dtype=np.int64)
            self.forgotten_users = np.union1d(self.forgotten_users, forgotten_users)
            if forget_profiles:
                self.store.delete_profiles(forgotten_users)
            users |= set(forgotten_users.tolist())
        purged = 0
        for u in users:
            for cache in (self.candidates_cache, self.retrieved_cache, self.prompt_cache):
                purged += cache.pop(u, None) is not None
            for key in self.llm_keys_by_user.pop(u, set()):
                purged += self.llm_cache.pop(key, None) is not None
            if self.backend is not None:
                memo = ANSWER_MEMO.get(_memo_name(self.backend), {})
                for key in MEMO_KEYS_BY_USER.pop((_memo_name(self.backend), u), set()):
                    purged += memo.pop(key, None) is not None
        if self.answer_store is not None:  # and the answers about them kept on disk
            purged += self.answer_store.purge_users(users)
            self.answer_store.flush()
        return DeletionReport(before - len(self.store), len(users), purged, time.perf_counter() - t0)


def _memo_name(backend) -> str:
    """The memo's key for a loaded model: its name and the weights object (loaded once per process)."""
    return f"{backend.name}@{id(getattr(backend, 'model', backend))}"


def _common_prefix(ids: list[list[int]]) -> list[int]:
    """The tokens every prompt starts with (the chat template and the instruction's head),
    less the last one (a boundary token may merge differently with what follows)."""
    n = min(len(i) for i in ids)
    first = np.asarray(ids[0][:n])
    same = np.ones(n, dtype=bool)
    for other in ids[1:]:
        same &= first == np.asarray(other[:n])
    length = int(np.argmin(same)) if not same.all() else n
    return ids[0][: max(0, length - 1)]


def _order_scores(order: np.ndarray) -> np.ndarray:
    """Scores that reproduce a ranking: the first position gets the highest."""
    scores = np.empty(len(order), dtype=np.float64)
    scores[np.asarray(order)] = -np.arange(len(order), dtype=np.float64)
    return scores
