"""Everything a reviewer signs, gathered once: the audit report (HTML, PDF) and the JSON
receipt all read the same :class:`AuditFacts`, so they can never tell different stories.

Gathered: the verdicts; the forgotten subjects by raw ID; the request; a SHA-256 of the
dataset files; configuration, seeds and package versions; each method's evidence with
intervals; CRAGRU's erasure-audit result; three before/after examples (a forgotten
user's top-10 under the original model, each method and retraining, with titles); notes
on figures measured on a user sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata

import numpy as np

from core.config import ExperimentConfig
from core.data.dataset import Dataset
from core.data.fingerprint import DataFingerprint, fingerprint_data
from core.errors import CragruError
from core.reporting.catalogue import entry_for, headline_keys
from core.reporting.intervals import difference_text, value_text
from core.reporting.people import is_sampled, sample_size
from core.reporting.subjects import ForgottenSubjects, forgotten_subjects, removed_items_of, resolve
from core.reporting.verdicts import MethodVerdict, verdicts

PACKAGES = (
    "cragru-studio",
    "torch",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "transformers",
    "peft",
    "gguf",
    "fpdf2",
    "cryptography",
)
N_EXAMPLES = 3
AUDIT_EXTRAS = ("audit_findings", "rows_deleted", "users_affected", "cache_entries_purged", "deletion_ms", "audit_ms")
"""A method's extras that make up an erasure audit (CRAGRU's, see core/methods/cragru/audit.py)."""


@dataclass(frozen=True)
class Example:
    """One forgotten user's top-10 per model (titles), removed items marked."""

    user_id: str
    models: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # rank by rank: one title per model
    removed: tuple[tuple[bool, ...], ...]  # the same shape: is that item one of the user's removed ones


@dataclass(frozen=True)
class AuditFacts:
    run_id: str
    dataset_name: str
    verdicts: list[MethodVerdict]
    subjects: ForgottenSubjects | None
    request: dict
    data: DataFingerprint | None
    config: dict
    seeds: dict
    versions: dict
    evidence: tuple[tuple[str, ...], ...]  # header row, then one row per measure
    erasure_audits: dict[str, dict[str, float]]
    examples: tuple[Example, ...]
    sample_notes: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())


def package_versions(names=PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def seeds_of(config: dict) -> dict:
    return {
        "split": config.get("split", {}).get("seed"),
        "request": config.get("request", {}).get("seed"),
        "model": config.get("model", {}).get("seed"),
    }


def evidence_rows(result) -> tuple[tuple[str, ...], ...]:
    """Measure × model: ``value [low, high]`` and, below it, ``Δ retrain [low, high]``."""
    flats = {name: report.flat() for name, report in result.models.items()}
    header = ("measure", *result.models)
    rows = [header]
    for key in headline_keys(flats.values()):
        entry = entry_for(key)
        rows.append(
            (entry.label, *(value_text(entry, report, flats[name].get(key)) for name, report in result.models.items()))
        )
        if entry.family.section not in ("cost",):
            diffs = [
                report.figure(key).versus("retrain") if name != "retrain" else None
                for name, report in result.models.items()
            ]
            if any(diffs):
                rows.append(("   Δ retrain", *(difference_text(entry, d) if d else "" for d in diffs)))
    return tuple(rows)


def erasure_audits(result) -> dict[str, dict[str, float]]:
    return {
        name: {k: float(report.extras[k]) for k in AUDIT_EXTRAS if k in report.extras}
        for name, report in result.models.items()
        if "audit_findings" in report.extras
    }


def sample_notes(result) -> tuple[str, ...]:
    notes = []
    for name, report in result.models.items():
        if is_sampled(report):
            sizes = ", ".join(
                f"{g} {n}" for g in ("retain", "forget", "similar") if (n := sample_size(report, g)) is not None
            )
            notes.append(
                f"{report.label} ({name}) is measured on a user sample{f' ({sizes})' if sizes else ''}, "
                "the others on every user; its differences are paired on its own sample."
            )
    return tuple(notes)


def _example_users(result, forgotten: np.ndarray) -> list[int]:
    """Forgotten users whose lists change most between the original model and retraining."""
    base, retrain = result.topk.get("base"), result.topk.get("retrain")
    if base is None or retrain is None or not len(forgotten):
        return [int(u) for u in forgotten[:N_EXAMPLES]]
    b, r = np.asarray(base)[forgotten], np.asarray(retrain)[forgotten]
    shared = (b[:, :, None] == r[:, None, :]).any(axis=2).sum(axis=1)
    order = np.argsort(shared, kind="stable")
    return [int(u) for u in forgotten[order[:N_EXAMPLES]]]


def examples(result, dataset: Dataset, resolved) -> tuple[Example, ...]:
    names = ["base", *[n for n in result.models if n not in ("base", "retrain")], "retrain"]
    names = [n for n in names if len(result.topk.get(n, ()))]
    forgotten = np.asarray(result.groups.get("users", {}).get("forget", []), dtype=np.int64)
    out = []
    for user in _example_users(result, forgotten):
        removed = removed_items_of(dataset, resolved, user)
        lists = [[int(i) for i in result.topk[n][user]] for n in names]
        depth = max((len(x) for x in lists), default=0)
        rows = tuple(
            tuple(dataset.item_title(x[rank]) if rank < len(x) else "" for x in lists) for rank in range(depth)
        )
        marks = tuple(tuple(rank < len(x) and x[rank] in removed for x in lists) for rank in range(depth))
        out.append(Example(str(dataset.user_ids[user]), tuple(names), rows, marks))
    return tuple(out)


def build_audit(result, dataset: Dataset | None = None, data: DataFingerprint | None = None) -> AuditFacts:
    """Gather the facts of ``result``; ``dataset`` is loaded from its configuration when not given,
    ``data`` (the files' hash) computed from its data path."""
    config = ExperimentConfig.from_dict(result.config) if result.config.get("data") else None
    warnings: list[str] = []
    subjects, found_examples = None, ()
    try:
        if config is not None and dataset is None:
            from core.experiment import load_data

            dataset = load_data(config)
        if dataset is not None and config is not None:
            recorded = result.dataset.get("fingerprint")
            if recorded and recorded != dataset.fingerprint():
                warnings.append("the dataset loaded now differs from the one this run used")
            resolved = resolve(dataset, config)
            subjects = forgotten_subjects(dataset, config, resolved)
            found_examples = examples(result, dataset, resolved)
        if data is None and config is not None:
            data = fingerprint_data(config.data.path)
    except (CragruError, OSError) as exc:
        warnings.append(f"the data could not be read again ({exc}): subjects by ID and the fingerprint are missing")
    return AuditFacts(
        run_id=result.run_id,
        dataset_name=str(result.dataset.get("name", "?")),
        verdicts=verdicts(result),
        subjects=subjects,
        request=dict(result.request),
        data=data,
        config=dict(result.config),
        seeds=seeds_of(result.config),
        versions=package_versions(),
        evidence=evidence_rows(result),
        erasure_audits=erasure_audits(result),
        examples=found_examples,
        sample_notes=sample_notes(result),
        warnings=tuple(warnings),
    )
