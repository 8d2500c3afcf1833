"""The metric catalogue: what every figure of a run means, in one place.

Each :class:`MetricFamily` describes one kind of ``ModelReport.flat()`` key
(``<group>/ndcg@<K>``, ``forgotten_recall@<K>``, ``time_s`` ...): its plain label, its
target rule, its number format and a paragraph a privacy officer can read without
hovering. :func:`entry_for` resolves a concrete key to a :class:`MetricEntry`, and every
view — the window's tables, the story line, the HTML report, ``cragru-run`` — reads its
words from there, never from its own dictionary. The families are written out in
:mod:`core.reporting.families`.

A family with ``interval=True`` is reported with a 95 % user-bootstrap interval; the
interval itself travels beside the figure (``ModelReport.figure(key).interval``), not
as a key of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from core.groups import GROUPS
from core.reporting import numbers
from core.reporting.families import FAMILIES, GROUP_INFO, HEADLINE_KEYS, OTHER_FAMILY, SUMMARY_KEYS
from core.reporting.metric_types import (  # re-exported: the catalogue is one import for every view
    AGREEMENT,
    ATTACK,
    CLOSE_TO_RETRAIN,
    COST,
    HIGHER_IS_BETTER,
    JUDGE_BASE,
    JUDGE_NONE,
    JUDGE_RETRAIN,
    JUDGE_THRESHOLD,
    LOWER_IS_BETTER,
    MEMORY,
    NOT_JUDGED,
    OTHER,
    SECTION_TITLES,
    SECTIONS,
    TARGET_SENTENCES,
    UTILITY,
    GroupInfo,
    MetricFamily,
)

__all__ = [
    "AGREEMENT",
    "ATTACK",
    "CLOSE_TO_RETRAIN",
    "COST",
    "FAMILIES",
    "GLOSSARY_CUTOFF",
    "GROUP_INFO",
    "HEADLINE_KEYS",
    "HIGHER_IS_BETTER",
    "JUDGE_BASE",
    "JUDGE_NONE",
    "JUDGE_RETRAIN",
    "JUDGE_THRESHOLD",
    "LOWER_IS_BETTER",
    "MEMORY",
    "NOT_JUDGED",
    "OTHER",
    "SECTIONS",
    "SECTION_TITLES",
    "SUMMARY_KEYS",
    "TARGET_SENTENCES",
    "UTILITY",
    "GroupInfo",
    "MetricEntry",
    "MetricFamily",
    "entry_for",
    "families_in",
    "group_label",
    "headline_keys",
    "lookup",
    "ordered_keys",
    "present_keys",
    "summary_keys",
]


@dataclass(frozen=True)
class MetricEntry:
    """A concrete key resolved against its family: everything a view shows about it."""

    key: str
    family: MetricFamily
    group: str | None = None
    k: int | None = None

    @property
    def target(self) -> str:
        return self.family.target

    @property
    def fmt(self) -> str:
        return self.family.fmt

    @property
    def section(self) -> str:
        return self.family.section

    @property
    def short(self) -> str:
        text = self.family.short.format(k=self.k, group=self._group_label(), key=self.key)
        if self.group:
            text = f"{GROUP_INFO[self.group].short} · {text}"
        return text

    @property
    def label(self) -> str:
        text = self.family.label.format(k=self.k, group=self._group_label(), key=self.key)
        if self.group and "{group}" not in self.family.label:
            text = f"{text}, {GROUP_INFO[self.group].label}"
        return text

    @property
    def explanation(self) -> str:
        """One paragraph: the measure, the group it is taken on, what good looks like."""
        text = self.family.describe(self.k, self._group_label())
        if self.group and self.family.section == UTILITY:
            text += " " + GROUP_INFO[self.group].explanation
        return f"{text} {TARGET_SENTENCES[self.target]}"

    def format(self, value: Any) -> str:
        return numbers.format_value(self.fmt, value)

    def format_delta(self, value: Any) -> str:
        return numbers.format_delta(self.fmt, value)

    def _group_label(self) -> str:
        return GROUP_INFO[self.group].label if self.group else "the users of each group"


_FAMILY_RANK = {family.name: i for i, family in enumerate(FAMILIES)}
_GROUP_RANK = {name: i for i, name in enumerate(GROUPS)}


def lookup(key: str) -> MetricEntry | None:
    """The entry of ``key``, or None when no family describes it."""
    for family in FAMILIES:
        found = family.match(key)
        if found is not None:
            parts = found.groupdict()
            return MetricEntry(key, family, parts.get("group"), int(parts["k"]) if parts.get("k") else None)
    return None


def entry_for(key: str) -> MetricEntry:
    """The entry of ``key``; a figure no family knows (a method's own diagnostic) gets a
    plain "not judged" entry so every view can still show it."""
    return lookup(key) or MetricEntry(key, OTHER_FAMILY)


def group_label(group: str, short: bool = False) -> str:
    info = GROUP_INFO.get(group)
    if info is None:
        return group
    return info.short if short else info.label


def _rank(key: str) -> tuple:
    entry = entry_for(key)
    family = entry.family
    return (
        SECTIONS.index(family.section),
        _GROUP_RANK.get(entry.group, -1) if family.section in (UTILITY, AGREEMENT) else 0,
        _FAMILY_RANK.get(family.name, len(FAMILIES)),
        entry.k or 0,
        key,
    )


def ordered_keys(keys: Iterable[str]) -> list[str]:
    """``keys`` without repeats, in reading order: quality by group, memory, attacks,
    agreement, cost, then anything the catalogue does not know."""
    return sorted(dict.fromkeys(keys), key=_rank)


def present_keys(wanted: Iterable[str], flats: Iterable[dict[str, Any]]) -> list[str]:
    """Those of ``wanted`` that at least one model reports as a number (keeps the order)."""
    flats = list(flats)
    return [k for k in wanted if any(numbers.is_finite(flat.get(k)) for flat in flats)]


def headline_keys(flats: Iterable[dict[str, Any]]) -> list[str]:
    """The report's key columns that this run actually measured."""
    return present_keys(HEADLINE_KEYS, flats)


def summary_keys(flats: Iterable[dict[str, Any]]) -> list[str]:
    """The ``cragru-run`` summary columns that this run actually measured."""
    return present_keys(SUMMARY_KEYS, flats)


GLOSSARY_CUTOFF = 10
"""The cut-off a family is explained with when a run reports several."""


def families_in(keys: Iterable[str]) -> list[MetricEntry]:
    """One entry per family among ``keys``, in reading order, at the cut-off nearest
    :data:`GLOSSARY_CUTOFF`: the glossary of a run. Keys no family knows are left out."""
    seen: dict[str, MetricEntry] = {}
    for key in ordered_keys(keys):
        entry = lookup(key)
        if entry is None:
            continue
        kept = seen.get(entry.family.name)
        if kept is None or abs((entry.k or 0) - GLOSSARY_CUTOFF) < abs((kept.k or 0) - GLOSSARY_CUTOFF):
            seen[entry.family.name] = entry
    return sorted(seen.values(), key=lambda e: FAMILIES.index(e.family))
