"""Prompts for the generation stage: profile, retrieved history, candidates, instruction.

The text is built only from what the retrieval store hands over (retained training
rows) plus the candidate list, so a test item can only be in a prompt as a *candidate*
(the base recommender's output, which is what gets ranked) and never as history, and a
deleted interaction cannot be in it at all. The profile sentence is gender-neutral
("The user is 24 years old and works as a technician."); gender is left out unless
asked for. The template is configurable; the builder drops the lowest-priority history
lines until the prompt fits the token budget.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.data.dataset import Dataset
from core.errors import ConfigError

DEFAULT_TEMPLATE = (
    "You recommend {noun}s.\n"
    "{profile}\n"
    "{noun_title}s from this user's history, with their ratings:\n"
    "{history}\n"
    "Candidate {noun}s (ID: title):\n"
    "{candidates}\n"
    "{instruction}"
)
PLACEHOLDERS = ("profile", "history", "candidates", "instruction", "noun", "noun_title")
INSTRUCTIONS = {
    "scoring": "Which one candidate {noun} will this user enjoy most? Reply with its title only.",
    "generate": (
        "Rank every candidate ID from the one this user will enjoy most to the least. "
        'Reply with JSON only, in the form {{"ranking": [{example}]}}.'
    ),
}
NO_HISTORY = "(no history may be used for this user)"
PROFILE_FIELDS = ("age", "occupation", "gender")  # what profile_sentence reads
MAX_FIELD_WIDTH = 1000  # a placeholder's width or precision in a template


@dataclass
class Prompt:
    """One user's prompt and what it was built from (the audit reads these fields)."""

    user: int
    text: str
    history_rows: np.ndarray  # dataset rows shown as history, prompt order
    history_items: np.ndarray
    candidates: np.ndarray  # item indices, base order
    candidate_ids: list[str]  # raw IDs shown to the LLM
    candidate_texts: list[str]  # continuations scored in scoring mode
    n_tokens: int
    has_profile: bool
    over_budget: bool = False
    key: str = field(default="")

    def __post_init__(self) -> None:
        if not self.key:
            self.key = hashlib.sha1(self.text.encode()).hexdigest()


def short_title(text: str, max_words: int) -> str:
    words = str(text).split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def default_noun(dataset: Dataset) -> str:
    name = (dataset.name or "").lower()
    return "movie" if name.startswith("ml") or name == "demo" or "movie" in name else "item"


def profile_sentence(fields: dict[str, object]) -> str:
    """A gender-neutral sentence from whichever of age / gender / occupation are given."""
    age = fields.get("age")
    occupation = fields.get("occupation")
    gender = fields.get("gender")
    parts = []
    if age not in (None, "") and str(age) != "nan":
        try:
            parts.append(f"is {int(float(age))} years old")
        except (TypeError, ValueError):
            parts.append(f"is aged {age}")
    if occupation not in (None, "") and str(occupation).lower() not in ("nan", "none", "other"):
        parts.append(f"their occupation is {occupation}")
    sentence = "The user " + " and ".join(parts) + "." if parts else "No profile information is available."
    if gender not in (None, "") and str(gender) != "nan":
        sentence += f" Recorded gender: {gender}."
    return sentence


def user_profiles(dataset: Dataset, fields: tuple[str, ...] = ("age", "occupation")) -> list[str]:
    """One profile sentence per user index (empty string when the dataset has no profiles)."""
    meta = dataset.user_meta
    if meta is None or not any(f in meta for f in fields):
        return [""] * dataset.n_users
    columns = {f: meta[f].tolist() for f in fields if f in meta}
    return [profile_sentence({f: columns[f][u] for f in columns}) for u in range(dataset.n_users)]


def parse_template(template: str) -> str:
    """The template with ``\\n`` escapes turned into newlines, validated completely before a
    run: known placeholders only, no conversion (``!r``), no nested or oversized format
    spec (``{history:>999999999999}`` would build a string of that size), and a spec text
    can take; ``{history}`` and ``{candidates}`` present."""
    import string

    text = (template or DEFAULT_TEMPLATE).replace("\\n", "\n")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ConfigError(f"cragru: prompt template is not valid: {exc}") from None
    names = {name for name, _, _ in fields}
    unknown = names - set(PLACEHOLDERS)
    if unknown:
        raise ConfigError(
            f"cragru: prompt template has unknown placeholder(s) {sorted(unknown)}; "
            f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        )
    for name, spec, conversion in fields:
        _check_field(name, spec, conversion)
    for needed in ("history", "candidates"):
        if needed not in names:
            raise ConfigError(f"cragru: prompt template must contain {{{needed}}}")
    return text


def _check_field(name: str, spec: str, conversion: str | None) -> None:
    """One placeholder's conversion and format spec, refused with the reason."""
    where = (
        f"cragru: prompt template field {{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
    )
    if len(where) > 120:
        where = where[:117] + "...}"
    if conversion is not None:
        raise ConfigError(f"{where}: conversions (!s, !r, !a) are not allowed; write {{{name}}}")
    if not spec:
        return
    if "{" in spec or "}" in spec:
        raise ConfigError(f"{where}: a format spec may not hold another placeholder")
    numbers = re.findall(r"\d+", spec)
    if any(len(n) > 6 or int(n) > MAX_FIELD_WIDTH for n in numbers):
        raise ConfigError(f"{where}: width and precision may be at most {MAX_FIELD_WIDTH}")
    try:
        format("", spec)
    except ValueError as exc:
        raise ConfigError(f"{where}: not a format spec for text ({exc})") from None


def profile_field_names(text: str) -> tuple[str, ...]:
    """The comma-separated ``profile_fields`` parameter as names; unknown ones refused."""
    names = tuple(f.strip() for f in str(text).split(",") if f.strip())
    unknown = [n for n in names if n not in PROFILE_FIELDS]
    if unknown:
        raise ConfigError(
            f"cragru: unknown profile field(s) {', '.join(map(repr, unknown))} in profile_fields; "
            f"the known ones are {', '.join(PROFILE_FIELDS)}"
        )
    return names


class PromptBuilder:
    """Builds :class:`Prompt` objects from store rows and candidates."""

    def __init__(
        self,
        dataset: Dataset,
        count_tokens: Callable[[str], int],
        *,
        mode: str = "scoring",
        template: str = "",
        noun: str = "",
        title_words: int = 6,
        max_tokens: int = 768,
    ) -> None:
        self.template = parse_template(template)
        self.mode = mode
        self.noun = noun or default_noun(dataset)
        self.count_tokens = count_tokens
        self.max_tokens = int(max_tokens)
        meta = dataset.item_meta
        years = meta["year"].tolist() if meta is not None and "year" in meta else [None] * dataset.n_items
        genres = dataset.item_genres()
        self.titles = [short_title(dataset.item_title(i), title_words) for i in range(dataset.n_items)]
        self.years = [f" ({int(y)})" if _is_number(y) else "" for y in years]
        self.genres = [", ".join(g[:3]) for g in genres]
        self.item_ids = [str(x) for x in dataset.item_ids]
        ratings = dataset.ratings
        self.rating_max = float(ratings.max()) if len(ratings) else 1.0
        self.explicit = len(ratings) > 0 and float(ratings.min()) != float(ratings.max())

    def history_line(self, item: int, rating: float) -> str:
        genre = f", {self.genres[item]}" if self.genres[item] else ""
        rated = f"; rated {rating:g}/{self.rating_max:g}" if self.explicit else ""
        return f"- {self.titles[item]}{self.years[item]}{genre}{rated}"

    def candidate_line(self, item: int) -> str:
        return f"{self.item_ids[item]}: {self.titles[item]}{self.years[item]}"

    def _text(self, profile: str, lines: list[str], candidates: np.ndarray) -> str:
        example = ", ".join(self.item_ids[i] for i in candidates[:3]) + (", ..." if len(candidates) > 3 else "")
        instruction = INSTRUCTIONS[self.mode].format(noun=self.noun, example=example)
        return self.template.format(
            profile=profile or "No profile information is available.",
            history="\n".join(lines) if lines else NO_HISTORY,
            candidates="\n".join(self.candidate_line(i) for i in candidates),
            instruction=instruction,
            noun=self.noun,
            noun_title=self.noun.capitalize(),
        )

    def build(
        self,
        user: int,
        profile: str | None,
        rows: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        priority: np.ndarray,
        candidates: np.ndarray,
    ) -> Prompt:
        """A prompt with as many history entries (taken in ``priority`` order, shown oldest
        first) as fit ``max_tokens``.

        ``rows``/``items``/``ratings`` are the user's stored history, oldest first;
        ``priority`` are positions into them, most important first.
        """
        priority = np.asarray(priority, dtype=np.int64)

        def make(k: int) -> tuple[str, np.ndarray]:
            chosen = np.sort(priority[:k])  # shown in time order
            lines = [self.history_line(int(items[p]), float(ratings[p])) for p in chosen]
            return self._text(profile or "", lines, candidates), chosen

        lo, hi = 0, len(priority)
        text, chosen = make(hi)
        n_tokens = self.count_tokens(text)
        if n_tokens > self.max_tokens:  # binary search the largest k that fits
            best = None
            while lo < hi:
                mid = (lo + hi + 1) // 2
                t, c = make(mid)
                n = self.count_tokens(t)
                if n <= self.max_tokens:
                    lo, best = mid, (t, c, n)
                else:
                    hi = mid - 1
            if best is None:
                text, chosen = make(0)
                n_tokens = self.count_tokens(text)
            else:
                text, chosen, n_tokens = best
        return Prompt(
            user=int(user),
            text=text,
            history_rows=np.asarray(rows, dtype=np.int64)[chosen],
            history_items=np.asarray(items, dtype=np.int64)[chosen],
            candidates=np.asarray(candidates, dtype=np.int64),
            candidate_ids=[self.item_ids[i] for i in candidates],
            candidate_texts=[self.titles[i] for i in candidates],
            n_tokens=int(n_tokens),
            has_profile=bool(profile),
            over_budget=n_tokens > self.max_tokens,
        )


def _is_number(value) -> bool:
    try:
        return value is not None and value == value and float(value) > 0
    except (TypeError, ValueError):
        return False
