"""Choices CRAGRU makes on validation interactions, never on test ones.

- The diversity-aware strategy's per-cluster ratios: for each cluster ``c`` and ratio
  level ``r`` we measure validation hit@10 when the prompt's history is cluster ``c``'s
  items at ``r`` of the budget, then the knapsack (:mod:`.knapsack`) picks one level per
  cluster within the budget. The measuring ranker is the LLM itself (``llm``: exact, one
  LLM call per user × cluster × level — meant for a GPU) or a cheap stand-in (``proxy``:
  the candidates' mean Word2Vec similarity to that history, blended half-and-half with
  the base order — minutes → milliseconds on a CPU).
- The fusion weight λ, on the same users' validation items.

Tuning users are retained users with validation rows; users the request forgets are
left out (as the retrained reference's early stopping leaves them out).
"""

from __future__ import annotations

import numpy as np

from core.data.dataset import Dataset
from core.methods.cragru.fusion import choose_weight, fuse, hit_ndcg_at
from core.methods.cragru.knapsack import grouped_knapsack
from core.methods.cragru.state import CragruState

RATIO_STEP = 0.05  # ratio levels are multiples of 5 % of the budget, as in the paper


def truth_sets(dataset: Dataset, rows: np.ndarray, users: np.ndarray) -> list[set[int]]:
    """Items of ``rows`` per user of ``users`` (validation ground truth)."""
    rows = np.asarray(rows, dtype=np.int64)
    by_user: dict[int, set[int]] = {}
    for u, i in zip(dataset.users[rows].tolist(), dataset.items[rows].tolist()):
        by_user.setdefault(u, set()).add(i)
    return [by_user.get(int(u), set()) for u in users]


def tuning_users(dataset: Dataset, valid_rows: np.ndarray, exclude: np.ndarray, n: int, seed: int,
                 has_history: np.ndarray | None = None) -> np.ndarray:
    """A seeded sample of ``n`` users with validation rows (0 = all), minus ``exclude``."""
    users = np.setdiff1d(np.unique(dataset.users[valid_rows]), exclude)
    if has_history is not None:
        users = users[has_history[users]]
    if 0 < n < len(users):
        users = np.sort(np.random.default_rng([int(seed), 11]).choice(users, size=n, replace=False))
    return users.astype(np.int64)


def ratio_levels(n_levels: int) -> np.ndarray:
    return RATIO_STEP * np.arange(1, n_levels + 1)


def _cluster_positions(labels: np.ndarray, k: int) -> list[np.ndarray]:
    """Per cluster, positions of the history (oldest first) newest first."""
    newest_first = np.arange(len(labels) - 1, -1, -1)
    return [newest_first[labels[newest_first] == c] for c in range(k)]


def proxy_value_table(state: CragruState, users: np.ndarray, truth: list[set[int]], n_levels: int) -> np.ndarray:
    """``[k, levels]`` validation hit@10 of the proxy ranker per (cluster, ratio level)."""
    k = state.clusters.k
    ratios = ratio_levels(n_levels)
    quotas = np.maximum(1, np.floor(ratios * state.budget + 1e-9).astype(np.int64))
    vectors = state.clusters.vectors
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    hits = np.zeros((k, n_levels))
    counted = 0
    for user, true in zip(users.tolist(), truth):
        if not true:
            continue
        counted += 1
        cands, base = state.candidates([user])[0]
        items = state.store.user_items(user)
        base_order = cands[np.argsort(-base, kind="stable")]
        base_hit = float(np.isin(base_order[:10], list(true)).any())
        sims = unit[cands] @ unit[items].T  # [N, n_hist]
        for c, pos in enumerate(_cluster_positions(state.clusters.labels[items], k)):
            if len(pos) == 0:
                hits[c] += base_hit
                continue
            running = np.cumsum(sims[:, pos], axis=1)  # [N, len(pos)]
            for level, q in enumerate(quotas):
                q = min(int(q), len(pos))
                affinity = running[:, q - 1] / q
                fused = fuse(affinity[None], base[None], 0.5)[0]
                top = cands[np.argsort(-fused, kind="stable")[:10]]
                hits[c, level] += float(np.isin(top, list(true)).any())
    return hits / max(1, counted)


def llm_value_table(state: CragruState, users: np.ndarray, truth: list[set[int]], n_levels: int) -> np.ndarray:
    """``[k, levels]`` validation hit@10 of the LLM's own order per (cluster, ratio level)."""
    k = state.clusters.k
    quotas = np.maximum(1, np.floor(ratio_levels(n_levels) * state.budget + 1e-9).astype(np.int64))
    hits = np.zeros((k, n_levels))
    counted = 0
    for user, true in zip(users.tolist(), truth):
        if not true:
            continue
        counted += 1
        items = state.store.user_items(user)
        prompts, cells = [], []
        for c, pos in enumerate(_cluster_positions(state.clusters.labels[items], k)):
            for level, q in enumerate(quotas):
                prompts.append(state.prompt_with_history(user, pos[: min(int(q), len(pos))]))
                cells.append((c, level))
        state.reporter.check()
        for (c, level), answer in zip(cells, state.ask(prompts, tuning=True)):
            top = answer.candidates[np.argsort(-answer.scores, kind="stable")[:10]]
            hits[c, level] += float(np.isin(top, list(true)).any())
    return hits / max(1, counted)


def choose_ratios(state: CragruState, users: np.ndarray, truth: list[set[int]], n_levels: int,
                  how: str) -> tuple[np.ndarray, np.ndarray, float]:
    """``(ratios [k], value table [k, levels], best summed value)`` for the diversity strategy.

    Capacity = the whole budget (100 % = 1 / RATIO_STEP units); every cluster takes one
    level; weights are the levels' units.
    """
    table = (llm_value_table if how == "llm" else proxy_value_table)(state, users, truth, n_levels)
    weights = np.arange(1, n_levels + 1)
    capacity = int(round(1.0 / RATIO_STEP))
    if weights[0] * state.clusters.k > capacity:  # too many clusters for 5 % each: scale the unit
        capacity = weights[0] * state.clusters.k
    picks, value = grouped_knapsack(table, weights, capacity)
    return ratio_levels(n_levels)[picks], table, value


def choose_fusion(state: CragruState, users: np.ndarray, truth: list[set[int]]) -> tuple[float, dict]:
    """λ on validation: LLM answers for ``users`` (cached, so evaluation reuses them)."""
    users = np.asarray([u for u, t in zip(users.tolist(), truth) if t], dtype=np.int64)
    if len(users) == 0:
        return 1.0, {}
    truth = [t for t in truth if t]
    answers = state.answers(users)
    cands = np.stack([answers[int(u)].candidates for u in users])
    llm = np.stack([answers[int(u)].scores for u in users])
    base = np.stack([state.candidates([int(u)])[0][1] for u in users])
    weight, table = choose_weight(llm, base, cands, truth)
    return weight, table


__all__ = ["truth_sets", "tuning_users", "choose_ratios", "choose_fusion", "hit_ndcg_at"]
