"""The signed JSON receipt of a run: everything a reviewer signs, and a signature nobody can
quietly edit around.

The receipt carries the whole judged content — the request and the forgotten subjects' raw
IDs, the SHA-256 of the dataset files and of the removed interactions, configuration, seeds,
package versions, each model's figures, 95 % intervals, verdict words and a SHA-256 of its
weights — readable, and once more as ``signature.content``: the same facts as canonical JSON
(zlib + base64), signed with this installation's Ed25519 key (:mod:`core.signing`). The
receipt holds the public key; ``cragru-run verify`` (:mod:`core.receipt_verify`) checks the
signature, then that every readable field is what was signed, then the data.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from pathlib import Path

from core.reporting.audit import AuditFacts, build_audit
from core.reporting.verdicts import LIGHT_WORDS
from core.signing import canonical, receipt_fingerprint

RECEIPT_VERSION = 2
SIGNED_LIMIT = 512 * 1024 * 1024
"""Bytes the signed content may inflate to (a zlib bomb is refused, not unpacked)."""

__all__ = ["RECEIPT_VERSION", "build_audit", "canonical", "receipt_content", "receipt_fingerprint", "write_receipt"]


def _plain(value):
    """``value`` as plain JSON types (what a reader of the file gets back), NaN → null."""
    from core.result import _clean

    return json.loads(json.dumps(_clean(value), default=str, allow_nan=False))


def _verdicts(facts: AuditFacts) -> list[dict]:
    out = []
    for mv in facts.verdicts:
        entry = mv.as_dict()
        for question in ("forgotten", "affected", "cost"):
            entry[question]["word"] = LIGHT_WORDS[entry[question]["light"]]
        out.append(entry)
    return out


def model_facts(result) -> dict:
    """model → label, weights digest, every figure, its 95 % interval, extras and notes."""
    out, digests = {}, result.environment.get("weights_sha256") or {}
    for name, report in result.models.items():
        figures, stored = report.figures(), report.to_dict()
        out[name] = {
            "label": report.label,
            "weights_sha256": digests.get(name),
            "figures": {key: figure.value for key, figure in figures.items()},
            "intervals": {key: figure.interval.to_json() for key, figure in figures.items() if figure.interval},
            "differences": stored["differences"],
            "extras": stored["extras"],
            "notes": list(report.notes),
        }
    return out


def receipt_content(result, facts: AuditFacts) -> dict:
    """Every fact a reviewer signs, as plain JSON (secrets redacted before signing)."""
    from core.redact import redact_data

    content = {
        "receipt_version": RECEIPT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run_id": result.run_id,
        "dataset": facts.dataset_name,
        "data": facts.data.as_dict() if facts.data is not None else None,
        "request": facts.request,
        "subjects": facts.subjects.as_dict() if facts.subjects is not None else None,
        "verdicts": _verdicts(facts),
        "config": facts.config,
        "seeds": facts.seeds,
        "versions": facts.versions,
        "environment": result.environment,
        "models": model_facts(result),
        "erasure_audits": facts.erasure_audits,
        "sample_notes": list(facts.sample_notes),
        "warnings": list(facts.warnings),
    }
    return _plain(redact_data(content))


def sign(content: dict) -> dict:
    """``content`` with its ``signature`` block (this installation's key, made on first use)."""
    from core.signing import ALGORITHM, load_key

    key = load_key()
    payload = canonical(content)
    return {
        **content,
        "signature": {
            "algorithm": ALGORITHM,
            "public_key": key.public_b64,
            "key_fingerprint": key.fingerprint,
            "content": base64.b64encode(zlib.compress(payload, 9)).decode("ascii"),
            "value": key.sign(payload),
        },
    }


def signed_payload(signature: dict) -> bytes:
    """The signed bytes inside a ``signature`` block (bounded: a zlib bomb is refused)."""
    from core.receipt_schema import ReceiptShapeError

    try:
        packed = base64.b64decode(signature["content"], validate=True)
        unpacker = zlib.decompressobj()
        payload = unpacker.decompress(packed, SIGNED_LIMIT)
    except (ValueError, zlib.error):
        raise ReceiptShapeError("field signature.content: not base64 of zlib-packed JSON") from None
    if unpacker.unconsumed_tail:
        raise ReceiptShapeError(f"field signature.content: unpacks to more than {SIGNED_LIMIT:,} bytes")
    return payload


def signed_receipt(result, facts: AuditFacts | None = None) -> dict:
    """The run's receipt, signed (facts gathered from the run's data when not given). Written
    with :func:`write_receipt` and handed to the report, so both show the same fingerprint."""
    return sign(receipt_content(result, facts if facts is not None else build_audit(result)))


def write_receipt(result, path: str | Path, facts: AuditFacts | None = None, signed: dict | None = None) -> Path:
    """Write the signed receipt (``signed`` when the caller has it, e.g. for its report)."""
    signed = signed if signed is not None else signed_receipt(result, facts)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(signed, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    return path


def key_fingerprint_of(path: str | Path) -> str | None:
    """The signer's fingerprint named in a receipt file (for the report's sign-off block)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))["signature"]["key_fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
