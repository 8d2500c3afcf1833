"""Three plain questions per method, each a traffic light and one sentence naming its evidence.

* **Is the data forgotten?** (:mod:`core.reporting.forgotten`) the per-person test where the
  run has a reference ensemble; forgotten-item recall@10 and the membership attacks (fold-in
  and white-box for a request to forget users, record-level otherwise), each judged against
  retraining — against the band of retrain-vs-retrain differences plus its interval with an
  ensemble, by its paired difference interval and the catalogue tolerance without one. Figures
  a "mark them unknown" model matches by construction are shown but never lift the verdict.
* **Who else was affected?** (:mod:`core.reporting.affected`) ranking quality (NDCG@10) of
  retained and similar users against retraining, told as people counted — with an ensemble,
  only people moved or harmed beyond what another retraining does to them.
* **What did it cost?** set-up + this request against retraining (:mod:`core.reporting.cost`),
  within the timing noise "about the same as retraining" (its own word, neither pass nor fail);
  never green when the total exceeds retraining's; a set-up reused from a cache is judged at
  its first-time cost.

Lights: green (passes), amber (partly), red (fails), grey (not enough users to tell, or
nothing to judge by), level (cost only: about the same as retraining). The window, the report
and ``cragru-run`` all print these words.
"""

from __future__ import annotations

from core.reporting import references as refs
from core.reporting.affected import MOVED_SHARE, affected_verdict  # noqa: F401 - re-exported
from core.reporting.cost import Cost, cost_of, cost_text
from core.reporting.forgotten import (  # noqa: F401 - re-exported
    KEPT,
    MOVED,
    OVER,
    SAME,
    UNSURE,
    attack_key,
    forgotten_verdict,
)
from core.reporting.lights import (  # noqa: F401 - re-exported: the views import the words from here
    AFFECTED,
    AMBER,
    COST,
    FORGOTTEN,
    GREEN,
    GREY,
    LEVEL,
    LIGHT_COLOURS,
    LIGHT_WORDS,
    LIGHTS,
    NO_ENSEMBLE,
    QUESTIONS,
    RED,
    UNSURE_WORDS,
    MethodVerdict,
    Verdict,
)
from core.reporting.numbers import format_seconds
from core.reporting.people import is_sampled


def verdicts(result) -> list[MethodVerdict]:
    """One :class:`MethodVerdict` per unlearning method of ``result`` (not base, not retrain)."""
    return [method_verdict(result, name) for name in result.models if name not in ("base", "retrain")]


def method_verdict(result, name: str) -> MethodVerdict:
    report = result.models[name]
    kind = str(result.request.get("kind", "users"))
    return MethodVerdict(
        name,
        report.label,
        forgotten_verdict(result, name, kind),
        affected_verdict(result, name),
        cost_verdict(cost_of(result.models, name, refs.training_times(result))),
        is_sampled(report),
    )


# -- What did it cost? ----------------------------------------------------------------------
def _cached_words(cost: Cost) -> str:
    if not cost.from_cache:
        return ""
    if cost.setup_unknown:
        return (
            f" (set-up reused from cache: {format_seconds(cost.setup_this_run_s)} this run; its first-time cost "
            "was not recorded)"
        )
    return (
        f" (set-up reused from cache; first computed in {format_seconds(cost.setup_s)}, "
        f"{format_seconds(cost.setup_this_run_s)} this run: judged at its first-time cost)"
    )


def cost_verdict(cost: Cost) -> Verdict:
    evidence = (cost_text(cost),)
    cached = _cached_words(cost)
    if cost.retrain_s is None:
        return Verdict(
            COST,
            GREY,
            f"Cannot compare: no retraining in this run; set-up + request took {format_seconds(cost.total_s)}{cached}.",
            evidence,
        )
    if cost.from_cache and cost.setup_unknown and cost.request_s <= cost.high_s:
        return Verdict(
            COST,
            GREY,
            f"Cannot compare fairly: request {format_seconds(cost.request_s)} against retraining's "
            f"{format_seconds(cost.retrain_s)}{cached}.",
            evidence,
        )
    total, retrain = format_seconds(cost.total_s), format_seconds(cost.retrain_s)
    noise = f"{format_seconds(max(0.0, cost.low_s))} to {format_seconds(cost.high_s)}"
    if cost.cheaper:
        return Verdict(
            COST,
            GREEN,
            f"Cheaper than retraining: {total} including set-up against retraining's {retrain}{cached}.",
            evidence,
        )
    if cost.about_the_same:
        return Verdict(
            COST,
            LEVEL,
            f"About the same as retraining: {total} including set-up against retraining's {retrain}; within "
            f"the timing noise any retraining takes {noise}{cached}.",
            evidence,
        )
    if cost.request_s < cost.low_s:
        pays = (
            f"; set-up pays for itself after {cost.break_even_requests:,} requests" if cost.break_even_requests else ""
        )
        return Verdict(
            COST,
            AMBER,
            f"Quick per request ({format_seconds(cost.request_s)}), but set-up + this "
            f"request took {total}, more than retraining's {retrain}{pays}{cached}.",
            evidence,
        )
    if cost.request_s <= cost.high_s:
        return Verdict(
            COST,
            AMBER,
            f"Dearer in all: this request alone took about as long as retraining ({format_seconds(cost.request_s)} "
            f"against {retrain}; any retraining takes {noise}) and set-up adds to it: {total}{cached}.",
            evidence,
        )
    return Verdict(
        COST,
        RED,
        f"Dearer than retraining: this request alone took {format_seconds(cost.request_s)} "
        f"against retraining's {retrain} (any retraining takes {noise} within the timing noise){cached}.",
        evidence,
    )


# -- plain text (``cragru-run``) ----------------------------------------------------------------
def verdicts_text(found: list[MethodVerdict], evidence: bool = False) -> str:
    """The verdicts as terminal lines: ``[pass] Is the data forgotten? Yes: …``."""
    lines = []
    for mv in found:
        lines.append(f"{mv.label} ({mv.model})" + (" — measured on a user sample" if mv.sampled else ""))
        for v in mv.answers:
            lines.append(f"  [{v.word:^10}] {v.question} {v.sentence}")
            lines += [f"      · {line}" for line in v.evidence] if evidence else []
    return "\n".join(lines)
