"""What the reference ensemble adds to a result: plain dataclasses that JSON holds.

``RunResult.references`` is a :class:`ReferenceSummary` (None when the run had no
ensemble, R = 0); ``ModelReport.beyond_spread`` maps each group to a
:class:`PeopleBeyondSpread`. Both read back from the dicts :func:`dataclasses.asdict`
writes, and a result written before the ensemble existed simply has neither.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class ReferenceSummary:
    """The ensemble behind a run's verdicts: retraining's own spread, measured.

    ``band[key]`` is ``[low, high]`` of (reference retrain − the run's retrain) over the R
    references, widened to include 0 (the run's retrain is itself one draw of retraining),
    for every ``ModelReport.flat()`` key with an interval that both measured;
    ``differences[key]`` holds the R differences themselves (reference order)."""

    r: int  # reference retrainings (and reference base models) beyond the run's own
    retrain_seeds: list[int]  # model seeds of the reference retrainings (never the run's own seed)
    base_seeds: list[int]  # model seeds of the reference base models
    retrain_times_s: list[float]  # wall time of each reference retraining when first computed
    band: dict[str, list[float]] = field(default_factory=dict)  # flat key -> [low, high]
    from_cache: bool = False  # every reference was loaded from the cache (times are the first run's)
    differences: dict[str, list[float]] = field(default_factory=dict)  # flat key -> R differences
    # wall time of each reference base model when first trained (0: trained before its time was kept)
    base_times_s: list[float] = field(default_factory=list)
    executor: str = "serial"  # "serial" (in this process) or "ray"
    wall_s: float = 0.0  # this run's wall time for the whole ensemble (training or loading + measuring)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict | None) -> ReferenceSummary | None:
        if not isinstance(raw, dict):
            return None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass
class PeopleBeyondSpread:
    """How many of a group's people one model moved or hurt by more than retraining's own
    spread does: the yardstick of "who else was affected?"."""

    n_users: int  # users of the group this model was measured on (its sample, if sampled)
    moved: int  # top-10 Jaccard with retrain's lower than every reference retrain's
    lost: int | None  # NDCG@10 below retrain's by more than any reference retrain drops it (None: not measured)
    # what retraining itself scores by the same rule: each reference held to the other R − 1
    # (the mean count over the references; None for R < 2). With R references a fresh
    # retraining is the most moved of R + 1 for about n / (R + 1) people by chance alone.
    moved_by_chance: float | None = None
    lost_by_chance: float | None = None

    @classmethod
    def from_dict(cls, raw: dict) -> PeopleBeyondSpread:
        def number(key: str, kind=float):
            return None if raw.get(key) is None else kind(raw[key])

        return cls(
            int(raw["n_users"]),
            int(raw["moved"]),
            number("lost", int),
            number("moved_by_chance"),
            number("lost_by_chance"),
        )


def beyond_spread_from_dict(raw) -> dict[str, PeopleBeyondSpread]:
    """``ModelReport.beyond_spread`` from JSON (empty for results written before it)."""
    if not isinstance(raw, dict):
        return {}
    return {group: PeopleBeyondSpread.from_dict(entry) for group, entry in raw.items() if isinstance(entry, dict)}
