"""The outcome of one experiment, as plain data (no tensors) that JSON and SQLite can hold."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.breakdown.model import Breakdown
from core.numbers import is_finite
from core.references.results import PeopleBeyondSpread, ReferenceSummary, beyond_spread_from_dict

ATTACK_KEYS = {
    "fold-in": "attack/fold_in_auc",
    "record-level": "attack/record_auc",
    "record-level calibration (retained users)": "attack/calibration_auc",
    "white-box": "attack/white_box_auc",
}
"""``flat()`` key of each attack (names as :mod:`core.attacks` gives them)."""

MAX_CURVE_POINTS = 2000
"""Most points kept per training curve: enough to draw it, small enough for a history row."""

CurvePoint = dict[str, float]
"""One stored curve point: ``{"step": int, **values}`` (e.g. ``loss``, ``valid_ndcg10``)."""


def thin_points(points: list[CurvePoint], cap: int = MAX_CURVE_POINTS) -> list[CurvePoint]:
    """At most ``cap`` points picked evenly, first and last kept, so a long curve keeps its shape."""
    n = len(points)
    if n <= cap:
        return list(points)
    if cap <= 1:
        return [points[-1]] if cap == 1 else []
    picks = sorted({round(i * (n - 1) / (cap - 1)) for i in range(cap)})
    return [points[i] for i in picks]


class CurveRecorder:
    """Collects every :class:`core.events.MetricEvent` of a run so stored runs keep their curves.

    Memory stays bounded however long a run is: each series keeps every ``stride``-th point
    and, when it holds twice the cap, drops every other one and doubles the stride, so the
    kept points stay evenly spread; the latest point is always kept as well.
    """

    def __init__(self, cap: int = MAX_CURVE_POINTS) -> None:
        self.cap = max(1, int(cap))
        self._kept: dict[str, list[CurvePoint]] = {}
        self._seen: dict[str, int] = {}
        self._stride: dict[str, int] = {}
        self._last: dict[str, CurvePoint] = {}

    def add(self, series: str, step: int, values) -> None:
        point: CurvePoint = {"step": int(step), **{k: float(v) for k, v in values.items()}}
        index = self._seen.get(series, 0)
        self._seen[series] = index + 1
        self._last[series] = point
        kept = self._kept.setdefault(series, [])
        stride = self._stride.setdefault(series, 1)
        if index % stride == 0:
            kept.append(point)
            if len(kept) >= 2 * self.cap:
                self._kept[series] = kept[::2]
                self._stride[series] = stride * 2

    def curves(self) -> dict[str, list[CurvePoint]]:
        """series -> at most ``cap`` points, evenly thinned, ending with the series' last point."""
        out = {}
        for series, kept in self._kept.items():
            points = list(kept)
            if not points or points[-1] is not self._last[series]:
                points.append(self._last[series])
            out[series] = thin_points(points, self.cap)
        return out


@dataclass
class ModelReport:
    """One model's measurements under the shared protocol."""

    name: str
    label: str
    groups: dict[str, dict[str, float]]  # group -> metric -> mean
    forgotten_recall: dict[str, float]  # "forgotten_recall@K" -> value
    time_s: float = 0.0  # wall time of the unlearning step (training time for base)
    prep_time_s: float = 0.0  # one-off preparation, reported apart
    speedup_vs_retrain: float | None = None
    mia_auc: float | None = None
    peak_memory_mb: float | None = None
    extras: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    per_user: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # group -> metric -> values
    # forgetting evidence (core/evidence.py); intervals are 95 % user-bootstrap
    intervals: dict[str, list[float]] = field(default_factory=dict)  # "group/metric" -> [low, high]
    differences: dict[str, dict[str, list[float]]] = field(
        default_factory=dict
    )  # "retrain"|"base" -> key -> [v, lo, hi]
    agreement: dict[str, dict[str, list[float]]] = field(
        default_factory=dict
    )  # group -> "jaccard@10"|"rbo@10" -> [v, lo, hi]
    attacks: dict[str, dict] = field(default_factory=dict)  # attack name -> AttackResult.as_dict() (+ "vs_retrain")
    known_users: dict = field(default_factory=dict)  # KnownUserCheck.as_dict(): not an attack
    # reference ensemble (core/references): group -> people moved / hurt beyond retraining's spread
    beyond_spread: dict[str, PeopleBeyondSpread] = field(default_factory=dict)
    person_tests: Any = None  # core.attacks.per_person.PersonTests; None without an ensemble

    def flat(self) -> dict[str, float | None]:
        """``group/metric`` keys plus the scalar figures: handy for tables and CSV."""
        out: dict[str, float | None] = {}
        for group, metrics in self.groups.items():
            for name, value in metrics.items():
                out[f"{group}/{name}"] = value
        out.update(self.forgotten_recall)
        if self.mia_auc is not None:  # runs stored before the attacks were reworked
            out["mia_auc"] = self.mia_auc
        for attack, entry in self.attacks.items():
            out[ATTACK_KEYS.get(attack, f"attack/{attack}")] = entry.get("auc")
        for group, overlaps in self.agreement.items():
            for name, (value, _low, _high) in overlaps.items():
                out[f"agreement/{group}/{name}"] = value
        if self.known_users:
            out["known_forgotten_users"] = self.known_users.get("n_known")
        out["time_s"] = self.time_s
        out["prep_time_s"] = self.prep_time_s
        out["speedup_vs_retrain"] = self.speedup_vs_retrain
        total = self.time_s + self.prep_time_s  # retraining's time over set-up + request (issue 13)
        out["speedup_incl_setup"] = (
            self.speedup_vs_retrain * self.time_s / total if self.speedup_vs_retrain is not None and total > 0 else None
        )
        return out

    def interval_of(self, key: str) -> tuple[float, float] | None:
        """The 95 % interval of a ``flat()`` key, where the evidence has one."""
        if key in self.intervals:
            low, high = self.intervals[key]
            return low, high
        for attack, entry in self.attacks.items():
            if ATTACK_KEYS.get(attack, f"attack/{attack}") == key:
                return entry["interval"]["low"], entry["interval"]["high"]
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "agreement":
            found = self.agreement.get(parts[1], {}).get(parts[2])
            return (found[1], found[2]) if found else None
        return None


@dataclass
class RunResult:
    run_id: str
    config: dict
    dataset: dict
    split: dict
    request: dict
    groups: dict  # sizes, rule, and the user index lists
    models: dict[str, ModelReport]
    environment: dict
    timings: dict[str, float]
    # model -> top-10 per user index, int32 [n_users, 10] (40 MB a model at 1M users; lists only in JSON)
    topk: dict[str, np.ndarray] = field(default_factory=dict)
    started_at: float = 0.0
    finished_at: float = 0.0
    # series "model/stage" (e.g. "base/train") -> [{"step": int, **values}], thinned;
    # empty for runs stored before curves
    curves: dict[str, list[CurvePoint]] = field(default_factory=dict)
    # who was affected, by user attribute (core/breakdown); None for runs stored before it
    breakdown: Breakdown | None = None
    # True while a run is under way or when it ended before its last step: the models
    # listed are the ones that finished (stored as the run goes, so a crash loses one step)
    partial: bool = False
    # the reference ensemble behind the verdicts (core/references); None when R = 0 and in older runs
    references: ReferenceSummary | None = None

    def __post_init__(self) -> None:
        self.topk = {name: top_array(lists) for name, lists in self.topk.items()}

    def deltas(self, reference: str) -> dict[str, dict[str, float]]:
        """model -> ``group/metric`` -> value − reference's value."""
        if reference not in self.models:
            return {}
        ref = self.models[reference].flat()
        out = {}
        for name, report in self.models.items():
            row = {}
            for key, value in report.flat().items():
                base = ref.get(key)
                if (
                    is_finite(value)
                    and is_finite(base)
                    and key not in ("time_s", "speedup_vs_retrain", "speedup_incl_setup")
                ):
                    row[key] = value - base
            out[name] = row
        return out

    def unlearning_bias(self) -> dict[str, dict[str, float]]:
        """|method − retrain| per ``group/metric`` on the retain and similar groups."""
        out = {}
        for name, row in self.deltas("retrain").items():
            out[name] = {k: abs(v) for k, v in row.items() if k.split("/")[0] in ("retain", "similar")}
        return out

    def to_dict(self, include_topk: bool = True) -> dict:
        out = {
            "run_id": self.run_id,
            "config": self.config,
            "dataset": self.dataset,
            "split": self.split,
            "request": self.request,
            "groups": self.groups,
            "models": {},
            "environment": self.environment,
            "timings": self.timings,
            "curves": self.curves,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "partial": self.partial,
            "references": None if self.references is None else self.references.as_dict(),
        }
        for name, report in self.models.items():
            out["models"][name] = model_entry(report)
        out["deltas_vs_base"] = self.deltas("base")
        out["deltas_vs_retrain"] = self.deltas("retrain")
        out = _clean(out)
        out["breakdown"] = self.breakdown.to_dict() if self.breakdown is not None else None  # already clean
        if include_topk:  # whole numbers only: nothing for _clean to do in 10M entries
            out["topk"] = {name: lists.tolist() for name, lists in self.topk.items()}
        return out

    def to_json(self, include_topk: bool = True) -> str:
        return json.dumps(self.to_dict(include_topk), indent=1, allow_nan=False)

    @classmethod
    def from_dict(cls, raw: dict) -> "RunResult":
        models = {}
        for name, entry in raw.get("models", {}).items():
            fields = {k: entry[k] for k in ModelReport.__dataclass_fields__ if k in entry}
            fields["beyond_spread"] = beyond_spread_from_dict(fields.get("beyond_spread"))
            fields["person_tests"] = _person_tests(fields.get("person_tests"))
            models[name] = ModelReport(**fields)
        return cls(
            run_id=raw["run_id"],
            config=raw.get("config", {}),
            dataset=raw.get("dataset", {}),
            split=raw.get("split", {}),
            request=raw.get("request", {}),
            groups=raw.get("groups", {}),
            models=models,
            environment=raw.get("environment", {}),
            timings=raw.get("timings", {}),
            topk=raw.get("topk", {}),
            curves=_load_curves(raw.get("curves")),
            breakdown=Breakdown.from_dict(raw.get("breakdown")),
            started_at=raw.get("started_at", 0.0),
            finished_at=raw.get("finished_at", 0.0),
            partial=bool(raw.get("partial", False)),
            references=ReferenceSummary.from_dict(raw.get("references")),
        )


def _person_tests(raw):
    """``ModelReport.person_tests`` from JSON: None when absent (runs before the ensemble)."""
    if not isinstance(raw, dict):
        return None
    from core.attacks.per_person import PersonTests

    return PersonTests.from_dict(raw)


def _load_curves(raw) -> dict[str, list[CurvePoint]]:
    """Curves from JSON: missing in older runs (→ empty); a value saved as null (NaN) stays NaN."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, list[CurvePoint]] = {}
    for series, points in raw.items():
        if not isinstance(points, list):
            continue
        kept = []
        for point in points:
            if not isinstance(point, dict) or "step" not in point:
                continue
            values = {k: math.nan if v is None else float(v) for k, v in point.items() if k != "step"}
            kept.append({"step": int(point["step"]), **values})
        out[_current_series_name(str(series))] = kept
    return out


_OLD_STAGE_FIRST = ("train", "unlearn", "pretrain", "finetune")


def _current_series_name(series: str) -> str:
    """Runs stored before curves named their model put the stage first (``train/base``,
    ``train/sisa-shards``); read them as ``model/stage`` (``base/train``, ``sisa/shards``)."""
    first, _, rest = series.partition("/")
    if first in _OLD_STAGE_FIRST and rest:
        model, _, stage = rest.partition("-")
        return f"{model}/{stage or first}"
    return series


def top_array(lists) -> np.ndarray:
    """Top-k lists (nested lists from JSON, or an array) as a compact int32 ``[n_users, k]``."""
    out = np.asarray(lists, dtype=np.int32)
    return out.reshape(len(out), 0) if out.ndim != 2 and out.size == 0 else out


def model_entry(report: ModelReport) -> dict:
    """One model as stored (cleaned with the rest of the result by :meth:`RunResult.to_dict`)."""
    entry = asdict(report)
    entry.update(report.forgotten_recall)  # flat "forgotten_recall@10" as well
    return entry


def model_json(report: ModelReport) -> str:
    """One model alone as JSON: what a run stores as each model finishes."""
    return json.dumps(_clean(model_entry(report)), allow_nan=False)


def _clean(value):
    """NaN/inf become None so the JSON is standard."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value
