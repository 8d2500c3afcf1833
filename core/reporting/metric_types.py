"""The vocabulary of the metric catalogue: target rules, sections and the two frozen
dataclasses a family and a group are described with (see :mod:`core.reporting.catalogue`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# target rules (what "good" means)
CLOSE_TO_RETRAIN = "close to retrain"
HIGHER_IS_BETTER = "higher is better"
LOWER_IS_BETTER = "lower is better"
NOT_JUDGED = "not judged"

# what a cell's colour is judged against
JUDGE_RETRAIN, JUDGE_THRESHOLD, JUDGE_BASE, JUDGE_NONE = "retrain", "threshold", "base", "none"

# sections, in the order tables list them
UTILITY, MEMORY, ATTACK, AGREEMENT, COST, OTHER = "utility", "memory", "attack", "agreement", "cost", "other"
SECTIONS = (UTILITY, MEMORY, ATTACK, AGREEMENT, COST, OTHER)
SECTION_TITLES = {
    UTILITY: "Recommendation quality",
    MEMORY: "What the model still remembers",
    ATTACK: "Can an attacker still tell?",
    AGREEMENT: "Agreement with retraining",
    COST: "Cost",
    OTHER: "Method diagnostics",
}

TARGET_SENTENCES = {
    CLOSE_TO_RETRAIN: "Good: close to the retrained model, which never saw the forgotten data (the gold standard).",
    HIGHER_IS_BETTER: "Higher is better.",
    LOWER_IS_BETTER: "Lower is better.",
    NOT_JUDGED: "Shown for information; not judged.",
}


@dataclass(frozen=True)
class GroupInfo:
    """One evaluation group as people read it."""

    name: str
    label: str  # "retained users"
    short: str  # "retained"
    explanation: str  # who they are, and what good looks like for their quality


@dataclass(frozen=True)
class MetricFamily:
    """One kind of metric key. Templates take ``{k}`` (the cut-off) and ``{group}``
    (the group's label) where the key has them."""

    name: str  # the key pattern, e.g. "<group>/ndcg@<K>"
    pattern: str  # regular expression with optional named groups ``group`` and ``k``
    short: str  # column header, e.g. "NDCG@{k}"
    label: str  # plain label, e.g. "ranking quality (NDCG@{k})"
    target: str  # one of the target rules above
    fmt: str  # a format of :mod:`core.reporting.numbers`
    explanation: str  # one paragraph: what it measures, what good looks like, why
    section: str
    higher_means: str = ""  # what a larger number means, in a few words
    judge_by: str = JUDGE_RETRAIN
    threshold: float | None = None  # the neutral point when ``judge_by`` is threshold
    interval: bool = False  # reported with a 95 % user-bootstrap interval
    tolerance: float = 0.005  # a difference this small (absolute) is "the same" ...
    relative_tolerance: float = 0.10  # ... or this share of the reference value, whichever is larger

    def tolerance_for(self, reference: float | None) -> float:
        """How far from ``reference`` a figure may be and still count as equal to it."""
        scale = abs(float(reference)) if reference is not None and reference == reference else 0.0
        return max(self.tolerance, self.relative_tolerance * scale)

    def match(self, key: str) -> re.Match | None:
        return re.fullmatch(self.pattern, key)

    def describe(self, k: int | None = 10, group: str = "the users of each group") -> str:
        """The explanation with its placeholders filled (glossary form when no group)."""
        return self.explanation.format(k=k, group=group)
