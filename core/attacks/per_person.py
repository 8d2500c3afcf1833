"""A test for each forgotten person: was this model trained on them? (likelihood ratio, as LiRA)

LiRA (Carlini et al., 2022, "Membership inference attacks from first principles") asks of
one example: is its score under the target model more likely under models trained *with*
it ("in") or *without* it ("out")? Here the example is a forgotten person; the "in"
models are reference base models (other model seeds, trained on them), the "out" models
reference retrainings (other seeds, never trained on them) — the ensemble gives both.

Scores (per person, the same procedure under every model):

* ``fold-in``: the person's fold-in figure (:mod:`core.attacks.fold_in`: their history
  folded into the model's frozen item side, held-out half ranked), standardised by the
  same model's outsiders (``(s − mean) / sd`` over the people no model trained on), so a
  model whose item side fits everybody a little better or worse does not move every
  person at once.
* ``white-box``: the AUC of the person's forgotten rows against their own held-out rows
  under the user vector the model keeps (:mod:`core.attacks.white_box`); only for models
  with a user table of their own.

The test (vectorised over people): per person and score, the mean of the "in" and of
the "out" references; a pooled (global) variance per side over every person — LiRA's
choice with few reference models — inflated by ``1 + 1/R`` since the tested model is a
fresh draw, not one of the references. The log likelihood ratio is ``log N(s; in) −
log N(s; out)``; the one-sided p-value under "never trained on them" is Student's t
(``n·(R−1)`` degrees of freedom) in the direction the references say "trained" lies.
Two scores are combined per person by a weighted Stouffer sum, each weighted by how
far apart its references put "in" and "out" (in "out" standard deviations; the
references alone set the weights, never the tested model), and their LLRs add up.

A person "looks trained on" when their p < α *and* their LLR > 0 (above never-trained
models, and closer to trained ones); p < α with LLR ≤ 0 is said as such (unlike either kind).

The group, per score: a Stouffer p over people and the mean LLR with a seeded
user-bootstrap interval (``by_score``); ``group_p`` is the smallest of those p-values,
Bonferroni-adjusted over the scores. The verdict is ``trained`` when some score's people
sit above never-trained models (adjusted p < α) *and* read more like trained models (its
mean LLR > 0) — a deletion must clear every channel, and scores merely unlike both kinds
of reference (another kind of model: SISA's shards put some people a little above single
retrainings, yet far below trained models) are not called trained; ``never-trained``
when the combined mean LLR's whole interval lies below 0 (the people read more like
"out" than "in" models, with 95 % confidence); else ``unsure``.

The tested model must not be one of the references (the ensemble uses other seeds).
One-sided by design: a model that puts people far *below* what never-trained models give
(over-forgetting) reads ``never-trained`` here; other figures judge that.

How the ensemble calls it (:mod:`core.references.evidence`)::

    probes = person_probes(dataset, split, request, seed=seed)        # once per experiment
    ins = [person_scores(m, probes) for m in reference_bases]          # trained on the people
    outs = [person_scores(m, probes) for m in reference_retrains]      # never trained on them
    tests = person_tests(person_scores(model, probes, item_side=side), ins, outs,
                         dataset.user_ids[probes.users], seed=seed)    # PersonTests | None
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from core.attacks.common import AttackError
from core.attacks.fold_in import FoldInConfig, FoldInProbe, fold_in_probe, fold_in_scores
from core.attacks.white_box import white_box_person_scores, white_box_probe, white_box_reason, white_box_scores
from core.evaluation.bootstrap import N_BOOT, bootstrap_mean
from core.models.item_side import HasItemSide

FOLD_IN = "fold-in"
WHITE_BOX = "white-box"
SCORES = (FOLD_IN, WHITE_BOX)
ALPHA = 0.05
MIN_REFERENCES = 2
TRAINED, NEVER_TRAINED, UNSURE = "trained", "never-trained", "unsure"
NEVER_WORDS = "consistent with models never trained on them"
TRAINED_WORDS = "looks trained on them"
UNLIKE_WORDS = "unlike models never trained on them, yet further still from models trained on them"


@dataclass
class PersonLine:
    """One forgotten person under one model."""

    user_id: str  # the person's raw ID as the data names them
    score: float  # the model's score for this person (the most telling score measured for them)
    llr: float  # log likelihood ratio "trained on them" vs "never trained on them" (> 0: reads trained)
    p_value: float  # one-sided, under "never trained on them"
    words: str  # NEVER_WORDS, TRAINED_WORDS, or UNLIKE_WORDS (p < α but the LLR favours "never trained")
    scores: dict[str, float] = field(default_factory=dict)  # score name -> value (NaN-free)


@dataclass
class PersonTests:
    """The per-person test of one model: ``ModelReport.person_tests``."""

    score: str  # the scores used, "+"-joined in SCORES order ("fold-in", "white-box", "fold-in+white-box")
    people: list[PersonLine]
    group_llr: list[float]  # [mean LLR, low, high] (seeded user bootstrap)
    group_p: float  # combined p-value under "never trained on them" (Stouffer over people)
    trained_like: int  # people with p < alpha
    verdict: str  # TRAINED | NEVER_TRAINED | UNSURE
    references: int = 0  # reference models per side
    weights: dict[str, float] = field(default_factory=dict)  # score -> Stouffer weight (reference separation)
    alpha: float = ALPHA
    by_score: dict[str, dict] = field(default_factory=dict)  # score -> {group_p, group_llr, n_people}

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> "PersonTests":
        line_fields = PersonLine.__dataclass_fields__
        people = [PersonLine(**{k: v for k, v in p.items() if k in line_fields}) for p in raw.get("people", [])]
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}  # older/newer files still open
        return cls(**{**known, "people": people})


@dataclass(frozen=True)
class PersonProbes:
    """The people tested and the probes their scores come from (built once per experiment).

    ``users``: forgotten user indices (ascending) that at least one score measures."""

    users: np.ndarray
    fold_in: FoldInProbe | None
    white_box: object | None  # a core.attacks.common.Probe
    notes: tuple[str, ...] = ()


def person_probes(dataset, split, request, *, seed: int = 0, config: FoldInConfig = FoldInConfig()) -> PersonProbes:
    """The fold-in probe (forgotten users vs outsiders) and the white-box probe of a request;
    either may be missing (with a note) when the request does not allow it."""
    notes, fold, white = [], None, None
    try:
        fold = fold_in_probe(dataset, split, request, config, seed=seed)
    except AttackError as exc:
        notes.append(str(exc))
    try:
        white = white_box_probe(dataset, split, request)
    except AttackError as exc:
        notes.append(str(exc))
    forgotten = np.unique(np.asarray(request.forget_users, dtype=np.int64))
    measured = [np.zeros(0, np.int64)]
    if fold is not None:
        measured.append(fold.users[fold.labels == 1])
    if white is not None:
        measured.append(white.users)
    users = np.intersect1d(forgotten, np.concatenate(measured))
    return PersonProbes(users=users, fold_in=fold, white_box=white, notes=tuple(notes))


def person_scores(model, probes: PersonProbes, *, item_side: HasItemSide | None = None) -> dict[str, np.ndarray]:
    """Per score name, the model's score of each person of ``probes.users`` (NaN where not
    measured); a score the model does not allow is left out. ``item_side``: the model to fold
    into when ``model`` has no item side of its own (an LLM re-ranker's base); default ``model``."""
    out: dict[str, np.ndarray] = {}
    side = item_side if item_side is not None else (model if isinstance(model, HasItemSide) else None)
    if probes.fold_in is not None and side is not None:
        out[FOLD_IN] = _relative_fold_in(fold_in_scores(side, probes.fold_in), probes.fold_in, probes.users)
    if probes.white_box is not None and white_box_reason(model) is None:
        raw = white_box_scores(model, probes.white_box)
        out[WHITE_BOX] = white_box_person_scores(probes.white_box, raw, probes.users)
    return out


def _relative_fold_in(scores: np.ndarray, probe: FoldInProbe, users: np.ndarray) -> np.ndarray:
    """Members' fold-in figures in standard deviations above the same model's outsiders."""
    outsiders = scores[probe.labels == 0]
    sd = float(np.std(outsiders, ddof=1)) if len(outsiders) > 1 else 0.0
    rel = (scores - float(np.mean(outsiders))) / max(sd, 1e-12)
    members = probe.labels == 1
    out = np.full(len(users), np.nan)
    where = np.searchsorted(users, probe.users[members])
    ok = (where < len(users)) & (users[np.minimum(where, len(users) - 1)] == probe.users[members])
    out[where[ok]] = rel[members][ok]
    return out


@dataclass(frozen=True)
class _Side:
    """Per-person means and a pooled predictive sd of one side's references for one score."""

    mean: np.ndarray  # [n]
    sd: float  # predictive: pooled residual sd × sqrt(1 + 1/R)
    dof: int

    @classmethod
    def of(cls, refs: np.ndarray) -> "_Side":
        counts = np.sum(~np.isnan(refs), axis=0)
        mean = np.where(counts > 0, np.nansum(refs, axis=0) / np.maximum(counts, 1), np.nan)
        resid = np.nansum((refs - mean) ** 2)
        dof = int(np.sum(np.maximum(counts - 1, 0)))
        r = max(1, int(np.max(counts)) if counts.size else 1)
        sd = float(np.sqrt(resid / dof)) if dof > 0 else float("nan")
        return cls(mean, sd * float(np.sqrt(1 + 1 / r)), dof)


def _mean(x: np.ndarray) -> float:
    """Mean of the finite entries; NaN when there are none (no warning)."""
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


def _one_score(target: np.ndarray, ins: np.ndarray, outs: np.ndarray):
    """``(z, llr, weight)``: per person the one-sided z (from the t p-value) and LLR for one score,
    and the score's weight (reference separation in "out" sds). All NaN when a side has no spread
    to estimate (every person seen by one reference only)."""
    from scipy import stats  # imported when a test runs: ~0.6 s a start-up (the CLI, the window) need not pay

    side_in, side_out = _Side.of(ins), _Side.of(outs)
    nan = np.full(len(target), np.nan)
    if not (np.isfinite(side_in.sd) and np.isfinite(side_out.sd)):
        return nan, nan, 0.0
    scale = _mean(np.abs(np.concatenate([ins.ravel(), outs.ravel()])))
    floor = 1e-9 * max(1.0, scale if np.isfinite(scale) else 1.0)  # identical references: no division by 0
    sd_in, sd_out = max(side_in.sd, floor), max(side_out.sd, floor)
    gap = _mean(side_in.mean - side_out.mean)
    direction = -1.0 if gap < 0 else 1.0  # where "trained" lies, from the references alone
    with np.errstate(invalid="ignore"):
        t = direction * (target - side_out.mean) / sd_out
        p = stats.t.sf(t, df=max(1, side_out.dof))
        z = stats.norm.isf(np.clip(p, 1e-300, 1.0))
        llr = stats.norm.logpdf(target, side_in.mean, sd_in) - stats.norm.logpdf(target, side_out.mean, sd_out)
    weight = max(0.0, direction * gap / sd_out) if np.isfinite(gap) else 0.0
    return z, llr, weight


def person_tests(
    target: dict[str, np.ndarray],
    ins: Sequence[dict[str, np.ndarray]],
    outs: Sequence[dict[str, np.ndarray]],
    user_ids: Sequence[str],
    *,
    seed: int = 0,
    n_boot: int = N_BOOT,
    alpha: float = ALPHA,
) -> PersonTests | None:
    """The per-person likelihood-ratio test of one model (pure: scores in, result out).

    ``target``: :func:`person_scores` of the tested model; ``ins``: of each reference base
    model (trained on the people); ``outs``: of each reference retraining (never trained on
    them); all over the same ``PersonProbes`` (arrays aligned with ``user_ids``, the people's
    raw IDs). A score is used when the target and every reference have it. None when no score
    is usable or fewer than :data:`MIN_REFERENCES` references stand on either side.
    """
    if len(ins) < MIN_REFERENCES or len(outs) < MIN_REFERENCES:
        return None
    names = [k for k in SCORES if k in target and all(k in r for r in ins) and all(k in r for r in outs)]
    n = len(user_ids)
    zs, llrs, weights = np.zeros((len(names), n)), np.zeros((len(names), n)), {}
    for j, name in enumerate(names):
        z, llr, w = _one_score(
            np.asarray(target[name], float),
            np.stack([np.asarray(r[name], float) for r in ins]),
            np.stack([np.asarray(r[name], float) for r in outs]),
        )
        zs[j], llrs[j], weights[name] = z, llr, w
    found = _combine(names, zs, llrs, weights, target, user_ids, seed=seed, n_boot=n_boot, alpha=alpha)
    if found is not None:
        found.references = min(len(ins), len(outs))
    return found


def _by_score(names, zs, llrs, keep, *, seed: int, n_boot: int) -> dict[str, dict]:
    """Per score, over the people it measured: the Stouffer p over people and the mean LLR with
    its seeded user-bootstrap interval."""
    from scipy import stats

    out = {}
    for j, name in enumerate(names):
        ok = keep & np.isfinite(zs[j]) & np.isfinite(llrs[j])
        if not ok.any():
            continue
        mean = bootstrap_mean(llrs[j][ok], n_boot=n_boot, seed=seed)
        out[name] = {
            "group_p": float(stats.norm.sf(np.sum(zs[j][ok]) / np.sqrt(ok.sum()))),
            "group_llr": [float(mean.value), float(mean.low), float(mean.high)],
            "n_people": int(ok.sum()),
        }
    return out


def _group_verdict(by_score: dict[str, dict], llr_high: float, alpha: float) -> tuple[str, float]:
    """``(verdict, group p)``. Trained when some score's people sit above never-trained models
    (its p < α over the scores, Bonferroni) *and* read more like trained than never-trained
    models (its mean LLR > 0): scores merely unlike both (another kind of model, e.g. shards)
    are not called trained. Never-trained when the combined mean LLR's interval lies below 0."""
    k = max(1, len(by_score))
    adjusted = {name: min(1.0, k * found["group_p"]) for name, found in by_score.items()}
    group_p = min(adjusted.values()) if adjusted else float("nan")
    if any(adjusted[n] < alpha and by_score[n]["group_llr"][0] > 0 for n in by_score):
        return TRAINED, group_p
    return (NEVER_TRAINED if llr_high < 0 else UNSURE), group_p


def _combine(names, zs, llrs, weights, target, user_ids, *, seed: int, n_boot: int, alpha: float):
    """Per person: weighted Stouffer over scores, LLRs summed; the group: see :func:`_group_verdict`."""
    from scipy import stats

    w = np.array([weights[k] for k in names], float)
    if not np.any(w > 0):
        w = np.ones(len(names))
    valid = np.isfinite(zs) & np.isfinite(llrs)
    wv = np.where(valid, w[:, None], 0.0)
    norm = np.sqrt(np.sum(wv**2, axis=0))
    keep = norm > 0
    if not keep.any():
        return None
    z = np.sum(np.where(valid, zs, 0.0) * wv, axis=0)[keep] / norm[keep]
    llr = np.sum(np.where(valid, llrs, 0.0), axis=0)[keep]
    p = stats.norm.sf(z)
    trained_like = (p < alpha) & (llr > 0)  # above never-trained models, and closer to trained ones
    best = np.argmax(np.where(valid, w[:, None], -1.0), axis=0)[keep]
    people = []
    for i, person in enumerate(np.flatnonzero(keep)):  # building the output lines, not a computation
        vals = {k: float(target[k][person]) for j, k in enumerate(names) if valid[j, person]}
        people.append(
            PersonLine(
                user_id=str(user_ids[person]),
                score=vals[names[best[i]]],
                llr=float(llr[i]),
                p_value=float(p[i]),
                words=TRAINED_WORDS if trained_like[i] else (UNLIKE_WORDS if p[i] < alpha else NEVER_WORDS),
                scores=vals,
            )
        )
    mean = bootstrap_mean(llr, n_boot=n_boot, seed=seed)
    by_score = _by_score(names, zs, llrs, keep, seed=seed, n_boot=n_boot)
    verdict, group_p = _group_verdict(by_score, mean.high, alpha)
    return PersonTests(
        score="+".join(names),
        people=people,
        group_llr=[float(mean.value), float(mean.low), float(mean.high)],
        group_p=group_p,
        trained_like=int(trained_like.sum()),
        verdict=verdict,
        references=0,
        weights={k: float(weights[k]) for k in names},
        alpha=alpha,
        by_score=by_score,
    )
