"""The erasure audit: walk all CRAGRU state and list every trace of a request left in it.

After unlearning it must find nothing: no deleted row in the store, in any user's
retrieved history, in any cached prompt or in any cached LLM answer; and, for a
user-level request that also forgets profiles, no profile of a forgotten user in the
store or in a prompt. Run before unlearning it finds the rows (the tests plant them
that way), which is what makes an empty answer afterwards mean something.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.forget_request import ResolvedRequest
from core.methods.cragru.state import CragruState


@dataclass(frozen=True)
class Finding:
    """One trace: where it was, the dataset row (-1 for a profile) and its user."""

    location: str
    row: int
    user: int


def audit_erasure(state: CragruState, request: ResolvedRequest, *, profiles: bool = True) -> list[Finding]:
    """Every removed row (and, with ``profiles``, forgotten profile) still found."""
    removed = np.asarray(request.removed_rows, dtype=np.int64)
    store = state.store
    # every row CRAGRU holds anywhere, with where it is and whose it is: one isin for all
    parts: list[tuple[str, np.ndarray, np.ndarray]] = [("store", store.rows, store.users)]
    for user, (_positions, rows) in state.retrieved_cache.items():
        parts.append(("retrieved_history", rows, np.full(len(rows), user)))
    for user, prompt in state.prompt_cache.items():
        parts.append(("prompt", prompt.history_rows, np.full(len(prompt.history_rows), user)))
    for answer in state.llm_cache.values():
        parts.append(("llm_answer", answer.history_rows, np.full(len(answer.history_rows), answer.user)))
    rows = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
    owners = np.concatenate([np.asarray(p[2], dtype=np.int64) for p in parts])
    where = np.repeat(np.arange(len(parts)), [len(p[1]) for p in parts])
    hit = np.isin(rows, removed)
    found = [Finding(parts[w][0], int(r), int(u)) for w, r, u in zip(where[hit], rows[hit], owners[hit])]
    if profiles and request.request.kind == "users":
        targets = np.asarray(request.target_users, dtype=np.int64).tolist()
        for user in targets:
            if store.profile(user) is not None:
                found.append(Finding("profile", -1, int(user)))
            prompt = state.prompt_cache.get(int(user))
            if prompt is not None and prompt.has_profile:
                found.append(Finding("prompt_profile", -1, int(user)))
    return found
