"""The JSON receipt of a run, and ``cragru-run verify``: do the data and the request still match?

The receipt carries the same facts as the audit report (:class:`core.reporting.audit.AuditFacts`):
verdicts, forgotten subjects by raw ID, the SHA-256 of the dataset files and of the removed
interactions, configuration, seeds, package versions, evidence with intervals and any
erasure audit. ``verify`` re-hashes the files at ``--data`` and re-resolves the request
from the receipt's own configuration on them: both must give the recorded hashes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from core.config import ExperimentConfig
from core.data.fingerprint import changed_files, fingerprint_data
from core.errors import CragruError
from core.reporting.audit import AuditFacts, build_audit
from core.reporting.catalogue import headline_keys
from core.reporting.intervals import difference, value_interval

RECEIPT_VERSION = 1


def _evidence(result) -> dict:
    """model → key → {value, interval, vs_retrain} for the report's key figures."""
    flats = {name: report.flat() for name, report in result.models.items()}
    out: dict = {}
    for name, report in result.models.items():
        for key in headline_keys(flats.values()):
            value = flats[name].get(key)
            out.setdefault(name, {})[key] = {
                "value": value,
                "interval": value_interval(report, key),
                "vs_retrain": difference(report, key, "retrain"),
            }
    return out


def receipt_dict(result, facts: AuditFacts) -> dict:
    """Every fact a reviewer signs, as plain JSON."""
    return {
        "receipt_version": RECEIPT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run_id": result.run_id,
        "dataset": facts.dataset_name,
        "data": facts.data.as_dict() if facts.data is not None else None,
        "request": facts.request,
        "subjects": facts.subjects.as_dict() if facts.subjects is not None else None,
        "verdicts": [mv.as_dict() for mv in facts.verdicts],
        "config": facts.config,
        "seeds": facts.seeds,
        "versions": facts.versions,
        "environment": result.environment,
        "evidence": _evidence(result),
        "erasure_audits": facts.erasure_audits,
        "sample_notes": list(facts.sample_notes),
        "warnings": list(facts.warnings),
    }


def write_receipt(result, path: str | Path, facts: AuditFacts | None = None) -> Path:
    """Write the receipt (facts gathered from the run's data when not given)."""
    facts = facts if facts is not None else build_audit(result)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(receipt_dict(result, facts), indent=1, default=str, allow_nan=False) + "\n", encoding="utf-8"
    )
    return path


@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str  # one line


def _load(path: str | Path) -> dict:
    try:
        receipt = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CragruError(f"cannot read the receipt {path}: {exc}") from None
    if not isinstance(receipt, dict) or not receipt.get("data") or not receipt.get("subjects"):
        raise CragruError(f"{path} is not a receipt with a data fingerprint and the forgotten subjects")
    return receipt


def verify(receipt_path: str | Path, data_path: str | None = None) -> Verification:
    """Re-hash the data and re-resolve the request; ``data_path`` defaults to the receipt's source."""
    from core.reporting.subjects import forgotten_subjects
    from core.runner import load_data

    receipt = _load(receipt_path)
    recorded = receipt["data"]
    path = data_path or recorded.get("source") or receipt["config"]["data"]["path"]
    current = fingerprint_data(path)
    if current.sha256 != recorded["sha256"]:
        changed = changed_files(recorded, current)
        shown = ", ".join(changed[:5]) + (" …" if len(changed) > 5 else "")
        return Verification(False, f"the data at {path} differ from the receipt (changed: {shown or 'contents'})")
    config = ExperimentConfig.from_dict(receipt["config"])
    config = replace(config, data=replace(config.data, path=str(path)))
    subjects = forgotten_subjects(load_data(config), config)
    expected = receipt["subjects"]
    if subjects.request_sha256 != expected["request_sha256"] or list(subjects.forgotten_users) != list(
        expected["forgotten_users"]
    ):
        return Verification(
            False,
            "the request no longer resolves to the recorded interactions "
            f"({subjects.n_removed_rows:,} now, {expected['n_removed_rows']:,} recorded)",
        )
    return Verification(
        True,
        f"receipt {receipt.get('run_id', '?')} verified: data SHA-256 {current.sha256[:16]}… "
        f"and the request ({subjects.n_removed_rows:,} interactions of "
        f"{len(subjects.forgotten_users):,} users) match",
    )


def verify_main(argv: list[str]) -> int:
    """``cragru-run verify RECEIPT [--data PATH]``: exit 0 when both match, else a one-line error and 1."""
    parser = argparse.ArgumentParser(
        prog="cragru-run verify", description="Check that a receipt's data and request still match."
    )
    parser.add_argument("receipt", help="the JSON receipt written by --receipt")
    parser.add_argument("--data", default=None, help="dataset folder or file to check (default: the receipt's)")
    args = parser.parse_args(argv)
    try:
        found = verify(args.receipt, args.data)
    except (CragruError, OSError) as exc:
        found = Verification(False, str(exc))
    if found.ok:
        print(found.message)
        return 0
    print(f"cragru-run verify: error: {found.message}", file=sys.stderr)
    return 1
