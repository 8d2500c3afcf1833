"""Choices CRAGRU makes on validation interactions, never on test ones.

- The diversity-aware strategy's per-cluster ratios: for each cluster ``c`` and ratio
  level ``r`` we measure validation hit@10 when the prompt's history is cluster ``c``'s
  items at ``r`` of the budget, then the knapsack (:mod:`.knapsack`) picks one level per
  cluster within the budget. The measuring ranker is the LLM itself (``llm``: exact, one
  LLM call per user × cluster × level — meant for a GPU) or a cheap stand-in (``proxy``:
  the candidates' mean Word2Vec similarity to that history, blended half-and-half with
  the base order — minutes → milliseconds on a CPU).
- The fusion weight λ, on validation items as well.

Tuning users (:func:`split_tuning_users`) are users with validation rows in
``retrain_valid_rows`` (so nobody the request forgets) and, as the protocol asks, never
a user the method is evaluated on: a choice tuned on the evaluated users' own
validation items would flatter the evaluation.
"""

from __future__ import annotations

import numpy as np

from core.data.dataset import Dataset
from core.evaluation.grouped import EvalSample
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


DEFAULT_HELD_OUT = 200
"""Tuning users held out of the evaluation when it would otherwise cover everyone."""


def split_tuning_users(pool: np.ndarray, sample: EvalSample, n: int, seed: int) -> tuple[np.ndarray, EvalSample]:
    """``(tuning users in seeded order, evaluation sample without them)``.

    ``pool``: users that may be tuned on (validation rows, no forgotten user). Users
    outside ``sample`` are taken first, so the shared sample stays as it is; only when
    fewer than ``n`` remain (everyone is evaluated) are the missing ones held out of the
    sample. ``n <= 0``: every pool user outside the sample, or :data:`DEFAULT_HELD_OUT`
    held out when there is none. Either way no tuning user is evaluated.
    """
    order = np.random.default_rng([int(seed), 11]).permutation(np.unique(np.asarray(pool, dtype=np.int64)))
    evaluated = (
        np.concatenate([np.asarray(v, dtype=np.int64) for v in sample.values()]) if sample else np.zeros(0, np.int64)
    )
    inside = np.isin(order, evaluated)
    free = order[~inside]
    if n <= 0:
        n = len(free) or min(DEFAULT_HELD_OUT, len(order) // 2)
    tuning = np.concatenate([free[:n], order[inside][: max(0, n - len(free))]])
    trimmed = {k: np.setdiff1d(np.asarray(v, dtype=np.int64), tuning) for k, v in sample.items()}
    return tuning.astype(np.int64), trimmed


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
        state.reporter.check()
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
            q = np.minimum(quotas, len(pos))
            affinity = (running[:, q - 1] / q.astype(running.dtype)).T  # [levels, N]: all levels at once
            fused = fuse(affinity, np.broadcast_to(base, affinity.shape), 0.5)
            top = cands[np.argsort(-fused, axis=1, kind="stable")[:, :10]]
            hits[c] += np.isin(top, list(true)).any(axis=1)
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


def choose_ratios(
    state: CragruState, users: np.ndarray, truth: list[set[int]], n_levels: int, how: str
) -> tuple[np.ndarray, np.ndarray, float]:
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
    """λ on validation items of ``users`` (LLM answers booked as tuning, never served)."""
    keep = [j for j, t in enumerate(truth) if t]
    if not keep:
        return 1.0, {}
    users = np.asarray(users, dtype=np.int64)[keep]
    truth = [truth[j] for j in keep]
    answers = state.tuning_answers(users)
    cands = np.stack([a.candidates for a in answers])
    llm = np.stack([a.scores for a in answers])
    base = np.stack([state.candidates([int(u)])[0][1] for u in users])
    return choose_weight(llm, base, cands, truth)


__all__ = ["truth_sets", "split_tuning_users", "choose_ratios", "choose_fusion", "hit_ndcg_at"]
