"""Short Yes/No prompts for the LLM recommender, as token-id pieces.

A prompt is ``prefix(user) + suffix(item)``: the prefix holds the profile and the
user's recent liked items, the suffix the candidate and the question. Both are
tokenised separately and concatenated as ids, so training, teachers and the
prefix-cached candidate scoring see exactly the same tokens. Prompts are kept short
(a few history items, truncated titles) because every token costs on a CPU.
"""

from __future__ import annotations

import numpy as np

from core.data.dataset import Dataset
from core.methods.dual_memory.sequences import ITEM_OFFSET, PAD, serving_contexts

QUESTION = " Will they like {title}{genres}? Answer:"
YES, NO = " Yes", " No"


def short_title(text: str, max_words: int) -> str:
    words = str(text).split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def user_profiles(dataset: Dataset) -> list[str]:
    """ "User: 34 F programmer." from whichever of age / gender / occupation the data has."""
    n = dataset.n_users
    meta = dataset.user_meta
    if meta is None:
        return ["User."] * n
    parts = [
        meta[c].astype(str).where(meta[c].notna(), "").tolist() for c in ("age", "gender", "occupation") if c in meta
    ]
    if not parts:
        return ["User."] * n
    out = []
    for fields in zip(*parts):
        text = " ".join(f for f in fields if f and f != "nan")
        out.append(f"User: {text}." if text else "User.")
    return out


class PromptBuilder:
    """Token ids of prompt pieces for one history view (base train, or retained train).

    ``history_rows`` are the rows a request carries as the user's history; the
    ``n_history`` most recent are shown, never the candidate itself.
    """

    def __init__(
        self, dataset: Dataset, tokenizer, history_rows: np.ndarray, n_history: int, max_title_words: int = 6
    ) -> None:
        self.tokenizer = tokenizer
        self.n_history = n_history
        self.titles = [short_title(dataset.item_title(i), max_title_words) for i in range(dataset.n_items)]
        # genres carry most of the signal an LLM can use (titles of synthetic data are noise)
        self.genres = [gs[:2] for gs in dataset.item_genres()]
        self.profiles = user_profiles(dataset)
        ctx = serving_contexts(dataset, history_rows, n_history + 1)[:, :-1]  # one spare for exclusion
        self.history = np.where(ctx == PAD, -1, ctx - ITEM_OFFSET)  # [n_users, n+1], most recent last
        self._suffix_cache: dict[int, list[int]] = {}

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def _genre_tag(self, item: int, n: int) -> str:
        genres = self.genres[item][:n]
        return f" ({'/'.join(genres)})" if genres else ""

    def prefix_text(self, user: int, exclude: int = -1) -> str:
        items = [i for i in self.history[user] if i >= 0 and i != exclude][-self.n_history :]
        liked = "; ".join(self.titles[i] + self._genre_tag(i, 1) for i in items) if items else "nothing yet"
        return f"{self.profiles[user]} Liked: {liked}."

    def prefix(self, user: int, exclude: int = -1) -> list[int]:
        return self._ids(self.prefix_text(user, exclude))

    def suffix(self, item: int) -> list[int]:
        ids = self._suffix_cache.get(item)
        if ids is None:
            ids = self._ids(QUESTION.format(title=self.titles[item], genres=self._genre_tag(item, 2)))
            self._suffix_cache[item] = ids
        return ids

    def prompt(self, user: int, item: int) -> list[int]:
        """The full prompt's ids; the candidate is left out of the shown history."""
        return self.prefix(user, exclude=item) + self.suffix(item)

    def prompts(self, users: np.ndarray, items: np.ndarray) -> list[list[int]]:
        return [self.prompt(int(u), int(i)) for u, i in zip(users, items)]


def answer_token_ids(tokenizer) -> tuple[int, int]:
    """(no, yes) token ids: the first token of " No" / " Yes" (single tokens in SmolLM2)."""
    no = tokenizer.encode(NO, add_special_tokens=False)
    yes = tokenizer.encode(YES, add_special_tokens=False)
    if not no or not yes or no[0] == yes[0]:
        raise ValueError("the tokenizer cannot tell ' Yes' from ' No'")
    return no[0], yes[0]
