"""What the verdicts read of the reference ensemble and the per-person test, in one place.

A run with ``--references R`` (R > 0) carries ``RunResult.references`` (a
``ReferenceSummary``: the band of retrain-vs-retrain differences per figure and the
reference retrainings' times), ``ModelReport.beyond_spread`` (people moved or harmed beyond
what another retraining does to them) and ``ModelReport.person_tests`` (the likelihood-ratio
test of each forgotten person). Runs without an ensemble — R = 0, or stored before it
existed — have none of them, and the verdicts fall back to the one-retraining rules and say
so. Each field may be the dataclass or, from an older reader, its plain dict: both are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.reporting.numbers import is_finite

NEVER_TRAINED, TRAINED, UNSURE = "never-trained", "trained", "unsure"
"""``PersonTests.verdict``: the group result of the per-person test."""


def _get(obj, name: str, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def summary(result):
    """The run's ``ReferenceSummary``, or None when it has no reference ensemble (R = 0)."""
    found = _get(result, "references")
    return found if found is not None and int(_get(found, "r", 0) or 0) > 0 else None


def r_of(result) -> int:
    """How many reference retrainings the run has (0: none)."""
    return int(_get(summary(result), "r", 0) or 0)


def band(result, key: str) -> tuple[float, float] | None:
    """``(low, high)`` of (reference retrain − the run's retrain) on ``key``, or None."""
    found = (_get(summary(result), "band", {}) or {}).get(key)
    if found is None or len(found) < 2 or not (is_finite(found[0]) and is_finite(found[1])):
        return None
    return float(found[0]), float(found[1])


def retrain_times(result) -> list[float]:
    """The reference retrainings' wall times (first computation), for the timing tolerance."""
    return [float(t) for t in (_get(summary(result), "retrain_times_s", []) or []) if is_finite(t)]


def training_times(result) -> list[float]:
    """Every other measured training of this model the run knows of, as samples of what a retraining
    costs: the reference retrainings' and reference base models' times (first computation) and the
    run's own base model when this run trained it (not loaded from the cache). The base models train
    on a few more rows than retraining: close enough for the timing noise, which is their use."""
    found = [*retrain_times(result)]
    found += [float(t) for t in (_get(summary(result), "base_times_s", []) or []) if is_finite(t)]
    base = result.models.get("base")
    if base is not None and is_finite(base.time_s) and base.time_s > 0 and "loaded from cache" not in base.notes:
        found.append(float(base.time_s))
    return found


def from_cache(result) -> bool:
    return bool(_get(summary(result), "from_cache", False))


@dataclass(frozen=True)
class Beyond:
    """People of a group moved / harmed beyond every reference retraining (``PeopleBeyondSpread``)."""

    n_users: int
    moved: int | None
    lost: int | None


def beyond_spread(report, group: str) -> Beyond | None:
    found = (_get(report, "beyond_spread", {}) or {}).get(group)
    if found is None:
        return None
    lost = _get(found, "lost")
    moved = _get(found, "moved")
    return Beyond(
        int(_get(found, "n_users", 0) or 0), None if moved is None else int(moved), None if lost is None else int(lost)
    )


def person_tests(report):
    """The model's ``PersonTests`` (per-person likelihood-ratio test), or None."""
    return _get(report, "person_tests")


def person_field(tests, name: str, default=None):
    return _get(tests, name, default)
