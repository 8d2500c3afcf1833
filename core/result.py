"""The outcome of one experiment, as plain data (no tensors) that JSON and SQLite can hold."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import numpy as np

from core.attacks.common import AttackResult
from core.attacks.known_users import KnownUserCheck
from core.breakdown.model import Breakdown
from core.evaluation.agreement import Agreement
from core.evaluation.estimates import Bounds, Estimate
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


def attack_key(attack: str) -> str:
    """The ``flat()`` key an attack's AUC is reported under."""
    return ATTACK_KEYS.get(attack, f"attack/{attack}")


@dataclass(frozen=True)
class Figure:
    """One ``flat()`` figure with what the evidence holds about it: its own 95 % interval (as
    stored: NaN for an attack that does not apply) and its paired differences from retrain and
    from base (model − reference, over the same users), None where the evidence has none."""

    value: float | None = None
    interval: Bounds | None = None
    vs_retrain: Estimate | None = None
    vs_base: Estimate | None = None

    @property
    def finite_interval(self) -> Bounds | None:
        """The interval where it is a real one (not NaN)."""
        return self.interval if self.interval is not None and self.interval.finite else None

    def versus(self, reference: str) -> Estimate | None:
        """The paired difference from model ``reference`` ("retrain" or "base") where it is a real one."""
        found = self.vs_retrain if reference == "retrain" else self.vs_base if reference == "base" else None
        return found if found is not None and found.finite else None


NO_FIGURE = Figure()


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
    intervals: dict[str, Bounds] = field(default_factory=dict)  # flat() key of a per-user figure -> interval
    differences: dict[str, dict[str, Estimate]] = field(default_factory=dict)  # "retrain"|"base" -> key -> diff
    agreement: dict[str, Agreement] = field(default_factory=dict)  # group -> top-10 overlap with retrain
    attacks: dict[str, AttackResult] = field(default_factory=dict)  # attack name -> result (+ vs_retrain)
    known_users: KnownUserCheck | None = None  # not an attack; None for runs stored before it
    # reference ensemble (core/references): group -> people moved / hurt beyond retraining's spread
    beyond_spread: dict[str, PeopleBeyondSpread] = field(default_factory=dict)
    person_tests: Any = None  # core.attacks.per_person.PersonTests; None without an ensemble
    # a model measured on a user sample: base's and retrain's figures on the same users
    # ("base"|"retrain" -> flat() key -> value), so its deltas compare like with like
    same_sample: dict[str, dict[str, float]] = field(default_factory=dict)

    def flat(self) -> dict[str, float | None]:
        """``group/metric`` keys plus the scalar figures: handy for tables and CSV."""
        out: dict[str, float | None] = {}
        for group, metrics in self.groups.items():
            for name, value in metrics.items():
                out[f"{group}/{name}"] = value
        out.update(self.forgotten_recall)
        if self.mia_auc is not None:  # runs stored before the attacks were reworked
            out["mia_auc"] = self.mia_auc
        for attack, found in self.attacks.items():
            out[attack_key(attack)] = found.auc
        for group, overlaps in self.agreement.items():
            for name, estimate in overlaps.items():
                out[f"agreement/{group}/{name}"] = estimate.value
        if self.known_users is not None:
            out["known_forgotten_users"] = self.known_users.n_known
        out["time_s"] = self.time_s
        out["prep_time_s"] = self.prep_time_s
        out["speedup_vs_retrain"] = self.speedup_vs_retrain
        total = self.time_s + self.prep_time_s  # retraining's time over set-up + request (issue 13)
        out["speedup_incl_setup"] = (
            self.speedup_vs_retrain * self.time_s / total if self.speedup_vs_retrain is not None and total > 0 else None
        )
        return out

    def figures(self) -> dict[str, Figure]:
        """Every ``flat()`` figure with its interval and paired differences."""
        bounds, vs_retrain, vs_base = self._bounds(), self._paired("retrain"), self._paired("base")
        return {
            key: Figure(value, bounds.get(key), vs_retrain.get(key), vs_base.get(key))
            for key, value in self.flat().items()
        }

    def figure(self, key: str) -> Figure:
        """One ``flat()`` figure with its evidence (an empty :class:`Figure` for a key it lacks)."""
        flat = self.flat()
        if key not in flat:
            return NO_FIGURE
        return Figure(
            flat[key], self._bounds().get(key), self._paired("retrain").get(key), self._paired("base").get(key)
        )

    def _bounds(self) -> dict[str, Bounds]:
        """``flat()`` key -> its own interval, from the per-user intervals, the attacks and agreement."""
        out = dict(self.intervals)
        for attack, found in self.attacks.items():
            out.setdefault(attack_key(attack), Bounds(found.interval.low, found.interval.high))
        for group, overlaps in self.agreement.items():
            for name, estimate in overlaps.items():
                out.setdefault(f"agreement/{group}/{name}", estimate.bounds)
        return out

    def _paired(self, reference: str) -> dict[str, Estimate]:
        """``flat()`` key -> model − ``reference`` over the same users (attacks: against retrain only)."""
        out = dict(self.differences.get(reference, {}))
        if reference == "retrain":
            for attack, found in self.attacks.items():
                if found.vs_retrain is not None:
                    out.setdefault(attack_key(attack), found.vs_retrain)
        return out

    def to_dict(self) -> dict:
        """The model as stored (the result cleans NaN to null): the fields in their order, the
        same-sample figures inside ``extras`` as ``same_sample/<model>/<key>``, and every
        ``forgotten_recall@K`` once more at the top level. Old files are written back unchanged."""
        extras = dict(self.extras)
        for reference, values in self.same_sample.items():
            for key, value in values.items():
                extras[f"{SAME_SAMPLE}{reference}/{key}"] = value
        entry = {
            "name": self.name,
            "label": self.label,
            "groups": self.groups,
            "forgotten_recall": self.forgotten_recall,
            "time_s": self.time_s,
            "prep_time_s": self.prep_time_s,
            "speedup_vs_retrain": self.speedup_vs_retrain,
            "mia_auc": self.mia_auc,
            "peak_memory_mb": self.peak_memory_mb,
            "extras": extras,
            "notes": self.notes,
            "per_user": self.per_user,
            "intervals": {key: found.to_json() for key, found in self.intervals.items()},
            "differences": {
                ref: {key: found.to_json() for key, found in diffs.items()} for ref, diffs in self.differences.items()
            },
            "agreement": {group: found.to_json() for group, found in self.agreement.items()},
            "attacks": {name: found.as_dict() for name, found in self.attacks.items()},
            "known_users": {} if self.known_users is None else self.known_users.as_dict(),
            "beyond_spread": {group: _plain(found) for group, found in self.beyond_spread.items()},
            "person_tests": _plain(self.person_tests),
        }
        entry.update(self.forgotten_recall)  # flat "forgotten_recall@10" as well
        return copy.deepcopy(entry)

    @classmethod
    def from_dict(cls, entry: dict) -> "ModelReport":
        """A stored model (any version this project has written; missing evidence stays empty)."""
        plain = {k: entry[k] for k in _PLAIN_FIELDS if k in entry}
        extras, same_sample = {}, {}
        for key, value in (entry.get("extras") or {}).items():
            if key.startswith(SAME_SAMPLE):  # the stored layout of ``same_sample``
                reference, _, figure = key.removeprefix(SAME_SAMPLE).partition("/")
                same_sample.setdefault(reference, {})[figure] = value
            else:
                extras[key] = value
        known = entry.get("known_users")
        return cls(
            **plain,
            extras=extras,
            intervals={key: Bounds.from_json(v) for key, v in (entry.get("intervals") or {}).items()},
            differences={
                ref: {key: Estimate.from_json(v) for key, v in diffs.items()}
                for ref, diffs in (entry.get("differences") or {}).items()
            },
            agreement={group: Agreement.from_json(v) for group, v in (entry.get("agreement") or {}).items()},
            attacks={
                name: AttackResult.from_dict({"name": name, **v}) for name, v in (entry.get("attacks") or {}).items()
            },
            known_users=KnownUserCheck.from_dict(known) if known else None,
            beyond_spread=beyond_spread_from_dict(entry.get("beyond_spread")),
            person_tests=_person_tests(entry.get("person_tests")),
            same_sample=same_sample,
        )


def _plain(value):
    """A dataclass as its dict (what the stored JSON holds); anything else as it is."""
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else value


SAME_SAMPLE = "same_sample/"
"""How ``ModelReport.same_sample`` is stored: inside ``extras``, keys ``same_sample/<model>/<key>``."""

_PLAIN_FIELDS = (
    "name",
    "label",
    "groups",
    "forgotten_recall",
    "time_s",
    "prep_time_s",
    "speedup_vs_retrain",
    "mia_auc",
    "peak_memory_mb",
    "notes",
    "per_user",
)


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
            groups = self.models[name].groups
            keys = {f"{g}/{metric}" for g in ("retain", "similar") for metric in groups.get(g, {})}
            out[name] = {k: abs(v) for k, v in row.items() if k in keys}
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
        models = {name: ModelReport.from_dict(entry) for name, entry in raw.get("models", {}).items()}
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
    ``train/sisa-shards``); read them as ``model/stage`` (``base/train``, ``sisa/shards``).
    ``finetune`` is a stage of that layout and a method of this one: ``finetune/train`` is
    the method's training curve (no model was ever named after a stage)."""
    first, _, rest = series.partition("/")
    model, _, stage = rest.partition("-")
    if first in _OLD_STAGE_FIRST and rest and not (first == "finetune" and model in _OLD_STAGE_FIRST):
        return f"{model}/{stage or first}"
    return series


def top_array(lists) -> np.ndarray:
    """Top-k lists (nested lists from JSON, or an array) as a compact int32 ``[n_users, k]``."""
    out = np.asarray(lists, dtype=np.int32)
    return out.reshape(len(out), 0) if out.ndim != 2 and out.size == 0 else out


def model_entry(report: ModelReport) -> dict:
    """One model as stored (cleaned with the rest of the result by :meth:`RunResult.to_dict`)."""
    return report.to_dict()


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
