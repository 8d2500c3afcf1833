"""What a run hands the breakdown: every per-user figure of every model on the retained users.

Evaluation keeps only two per-user metrics per group; the breakdown needs all of them
(hit, NDCG, recall, precision, MRR at every cut-off) and the agreement with retraining's
top-10, so it measures the retained users once more per model with the same full-sort code
and the same mask (a model measured on a user sample: on its sample only). Above
``MAX_POPULATION`` retained users a seeded sample is taken, and said so.
"""

from __future__ import annotations

import numpy as np

from core.breakdown.attributes import user_attributes
from core.breakdown.compute import compute_breakdown
from core.breakdown.map_layout import run_maps
from core.breakdown.model import Breakdown
from core.errors import Cancelled
from core.evaluation.agreement import overlap_per_user
from core.evaluation.full_sort import evaluate_users
from core.evaluation.metrics import metric_names

MAX_POPULATION = 20_000
AGREEMENT = ("jaccard@10", "rbo@10")


def population_of(retain: np.ndarray, seed: int) -> tuple[np.ndarray, list[str]]:
    """The retained users, or a seeded sample of ``MAX_POPULATION`` of them (with a note)."""
    retain = np.asarray(retain, dtype=np.int64)
    if len(retain) <= MAX_POPULATION:
        return retain, []
    picked = np.sort(np.random.default_rng([int(seed), 0xB4D]).choice(retain, MAX_POPULATION, replace=False))
    return picked, [f"measured on a seeded sample of {MAX_POPULATION:,} of the {len(retain):,} retained users"]


def per_user_values(prepared, scorers: dict, topk: dict, samples: dict, population: np.ndarray, reports=None):
    """``(values, metrics)``: model -> ``[len(population), len(metrics)]`` (NaN: not measured).

    A model measured on a user sample (a slow scorer: an LLM) is not scored again: with
    ``reports`` (the run's :class:`core.result.ModelReport` per model) its stored per-user
    NDCG@10 and hit@10 of its retained sample are used and its other metrics stay NaN."""
    targets = prepared.targets
    names = metric_names(targets.ks)
    metrics = names + (list(AGREEMENT) if "retrain" in topk else [])
    values = {}
    for name, scorer in scorers.items():
        sample = samples.get(name)
        rows = np.isin(population, sample["retain"]) if sample is not None and "retain" in sample else None
        out = np.full((len(population), len(metrics)), np.nan)
        if rows is not None and reports is not None and name in reports:
            _stored(out, reports[name], prepared.groups.retain, sample["retain"], population, names)
        else:
            rows = np.ones(len(population), dtype=bool) if rows is None else rows
            measured = evaluate_users(scorer, population[rows], targets.truth, targets.mask, targets.ks)
            for j, metric in enumerate(names):
                out[rows, j] = measured[metric]
        if "retrain" in topk and name in topk:
            seen = np.ones(len(population), dtype=bool) if rows is None else rows
            jaccard, rbo = overlap_per_user(topk[name][population[seen]], topk["retrain"][population[seen]])
            out[seen, -2], out[seen, -1] = jaccard, rbo
        values[name] = out
    return values, metrics


def _stored(out: np.ndarray, report, retain, sample, population: np.ndarray, names: list[str]) -> None:
    """Fill ``out`` with a sampled model's stored per-user values, in evaluation's user order
    (the retained users of its sample, ascending)."""
    measured_users = np.intersect1d(retain, sample)
    at = np.searchsorted(measured_users, population)
    hit = (at < len(measured_users)) & (measured_users[np.minimum(at, max(len(measured_users) - 1, 0))] == population)
    for metric, found in report.per_user.get("retain", {}).items():
        if metric in names and len(found) == len(measured_users):
            out[hit, names.index(metric)] = np.asarray(found, dtype=float)[at[hit]]


def run_breakdown(
    prepared, scorers: dict, topk: dict, samples: dict, seed: int, log=None, *, reports=None
) -> Breakdown | None:
    """The one call a run makes: attributes of the retained users, their figures, the breakdown.

    With ``log`` (a reporter's ``log(text, level)``), a failure here is a warning and the run
    keeps everything it measured (no breakdown); cancelling still cancels."""
    if log is None:
        return _breakdown(prepared, scorers, topk, samples, seed, reports)
    try:
        return _breakdown(prepared, scorers, topk, samples, seed, reports)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 — an extra view must never cost the run its results
        log(f"breakdown by user attribute skipped: {type(exc).__name__}: {exc}", "warning")
        return None


def _breakdown(prepared, scorers: dict, topk: dict, samples: dict, seed: int, reports) -> Breakdown:
    population, notes = population_of(prepared.groups.retain, seed)
    attributes = user_attributes(prepared.dataset, prepared.split.train, population)
    values, metrics = per_user_values(prepared, scorers, topk, samples, population, reports)
    found = compute_breakdown(attributes, population, values, metrics, seed, notes=notes)
    if "base" in scorers:
        found.maps, map_notes = run_maps(prepared, scorers["base"], seed)
        found.notes += map_notes
    return found
