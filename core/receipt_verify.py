"""``cragru-run verify RECEIPT --data PATH [--replay] [--key FINGERPRINT]``.

In order, stopping at the first problem with one line naming it:

1. the file's shape (:mod:`core.receipt_schema`; a malformed file exits 2);
2. the Ed25519 signature over ``signature.content``, by the public key the receipt holds;
3. that key is this installation's (or one given with ``--key``, e.g. the fingerprint printed
   on the signed report): a receipt re-signed by someone else is refused;
4. every readable field equals what was signed ("verdict of cragru (Is the data forgotten?):
   receipt says pass, the signature covers fail");
5. the data at ``--data`` hash to the signed fingerprint and the signed request resolves on
   them to the signed interactions;
6. with ``--replay``, the experiment re-run from the signed configuration (:mod:`core.replay`).

Exit 0 when everything holds, 1 when something differs, 2 for a malformed file.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace

from core.errors import CragruError
from core.receipt import signed_payload
from core.receipt_schema import ReceiptShapeError, check_shape, load_receipt
from core.reporting.verdicts import LIGHT_WORDS
from core.safe_text import cut

MISSING = object()
ORDER = ("verdicts", "request", "subjects", "data", "models", "config", "seeds", "versions")
"""Fields compared first: a changed verdict is named before a changed package version."""


@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str  # one line
    code: int = 0  # 0 verified, 1 differs, 2 malformed


def _fail(message: str) -> Verification:
    return Verification(False, message, 1)


# -- which field differs, in words -----------------------------------------------------------
def first_difference(found, signed, path: tuple = ()) -> tuple[tuple, object, object] | None:
    """(path, value in the file, signed value) of the first difference, or None."""
    if isinstance(found, dict) and isinstance(signed, dict):
        keys = [k for k in ORDER if k in found or k in signed] if not path else []
        keys += sorted((set(found) | set(signed)) - set(keys), key=str)
        for key in keys:
            diff = first_difference(found.get(key, MISSING), signed.get(key, MISSING), (*path, key))
            if diff:
                return diff
        return None
    if isinstance(found, list) and isinstance(signed, list):
        scalars = all(not isinstance(v, (dict, list)) for v in found + signed)
        if len(found) != len(signed) and scalars:
            return path, found, signed
        for i, (a, b) in enumerate(zip(found, signed)):
            diff = first_difference(a, b, (*path, i))
            if diff:
                return diff
        return (path, found, signed) if len(found) != len(signed) else None
    same = found == signed and type(found) is type(signed) or _same_number(found, signed)
    return None if same else (path, found, signed)


def _same_number(a, b) -> bool:
    numbers = (int, float)
    return isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and a == b


def _show(value) -> str:
    if value is MISSING:
        return "absent"
    if isinstance(value, list):
        return f"{len(value):,} entries"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return repr(cut(value, 60))
    return json.dumps(value)


def _verdict_words(path: tuple, found, signed, content: dict) -> str | None:
    """``verdict of cragru (Is the data forgotten?): receipt says pass, the signature covers fail``."""
    if len(path) < 3 or path[0] != "verdicts" or not isinstance(path[1], int):
        return None
    try:
        entry = content["verdicts"][path[1]]
        model = entry["model"]
        question = entry[path[2]]["question"] if path[2] in ("forgotten", "affected", "cost") else path[2]
    except (IndexError, KeyError, TypeError):
        return None
    field = path[3] if len(path) > 3 else None
    if field in ("light", "word"):
        found, signed = (LIGHT_WORDS.get(v, v) if field == "light" else v for v in (found, signed))
    where = f"verdict of {model} ({question})" + ("" if field in ("light", "word", None) else f", {field}")
    return f"{where}: receipt says {_word(found)}, the signature covers {_word(signed)}"


def _word(value) -> str:
    return value if isinstance(value, str) and len(value) <= 12 else _show(value)


def _list_words(what: str, found: list, signed: list) -> str:
    gone = [v for v in signed if v not in set(found)]
    added = [v for v in found if v not in set(signed)]
    detail = []
    if gone:
        detail.append(", ".join(map(str, gone[:3])) + (" …" if len(gone) > 3 else "") + " left out of the file")
    if added:
        detail.append(", ".join(map(str, added[:3])) + (" …" if len(added) > 3 else "") + " added")
    tail = f" ({'; '.join(detail)})" if detail else " (order changed)"
    return f"{what}: {len(found):,} in the file, signed {len(signed):,}{tail}"


def describe(path: tuple, found, signed, content: dict) -> str:
    """One line naming the field at ``path`` and both values."""
    words = _verdict_words(path, found, signed, content)
    if words:
        return words
    names = {
        ("subjects", "forgotten_users"): "forgotten users",
        ("subjects", "n_removed_rows"): "removed interactions",
        ("subjects", "request_sha256"): "removed interactions' SHA-256",
        ("data", "sha256"): "data files' SHA-256",
    }
    if path[:1] == ("request",) and len(path) == 2:
        what = f"request {path[1]}"
    elif path[:2] == ("config", "request") and len(path) == 3:
        what = f"request {path[2]} (configuration)"
    elif path[:1] == ("models",) and len(path) >= 3:
        what = f"{'.'.join(map(str, path[3:])) or path[2]} of {path[1]}" if path[2] != "weights_sha256" else ""
        what = what or f"weights digest of {path[1]}"
    else:
        what = names.get(tuple(path), ".".join(map(str, path)) or "the receipt")
    if isinstance(found, list) and isinstance(signed, list):
        return _list_words(what, found, signed)
    show = _digest if str(path[-1]).endswith("sha256") else _show
    return f"{what}: {show(found)} in the file, signed {show(signed)}"


def _digest(value) -> str:
    """A SHA-256 by its first 12 hex digits (enough to tell two apart on one line)."""
    return f"{value[:12]}…" if isinstance(value, str) and len(value) > 16 else _show(value)


# -- the checks ------------------------------------------------------------------------------
def check_signature(raw: dict, trusted: tuple[str, ...] = ()) -> tuple[dict | None, Verification | None]:
    """(the signed content, None) when the signature holds by a trusted key, else (None, why)."""
    from core.signing import (
        ALGORITHM,
        fingerprint,
        installation_fingerprint,
        public_key,
        same_fingerprint,
        signature_holds,
    )

    sig = raw.get("signature")
    if sig is None:
        return None, _fail(
            f"the receipt is not signed (version {raw.get('receipt_version')}): nothing ties its content to the "
            "program that wrote it; write it again with this version"
        )
    if sig.get("algorithm") != ALGORITHM or not all(sig.get(k) for k in ("public_key", "content", "value")):
        return None, _fail(f"the receipt's signature block is incomplete or not {ALGORITHM}")
    payload = signed_payload(sig)
    if not signature_holds(sig["public_key"], payload, sig["value"]):
        return None, _fail("the signature does not hold: the signed content or the signature itself was changed")
    from cryptography.hazmat.primitives import serialization

    raw_key = public_key(sig["public_key"]).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signer, mine = fingerprint(raw_key), installation_fingerprint()
    if not same_fingerprint(str(sig.get("key_fingerprint", "")), signer):
        return None, _fail(
            f"signature.key_fingerprint: {_show(sig.get('key_fingerprint'))} in the file, the key is {signer}"
        )
    if not any(same_fingerprint(signer, f) for f in (mine or "", *trusted)):
        return None, _fail(
            f"signed by key {signer}, which is not this installation's ({mine or 'none yet'}) nor one given with "
            "--key; pass --key with the fingerprint printed on the signed report to trust it"
        )
    try:
        signed = json.loads(payload)
    except (ValueError, RecursionError):
        raise ReceiptShapeError("field signature.content: the signed content is not JSON") from None
    check_shape(signed)
    return signed, None


def check_fields(raw: dict, signed: dict) -> Verification | None:
    found = {k: v for k, v in raw.items() if k != "signature"}
    diff = first_difference(found, signed)
    return _fail(describe(*diff, signed)) if diff else None


def check_data(signed: dict, data_path: str | None) -> tuple[Verification | None, str]:
    """(a failure or None, what matched) for the data and the request on them."""
    from core.config import ExperimentConfig
    from core.data.fingerprint import changed_files, fingerprint_data
    from core.experiment import load_data
    from core.reporting.subjects import forgotten_subjects

    recorded, expected = signed.get("data"), signed.get("subjects")
    if not recorded or not expected:
        return _fail("the signed receipt holds no data fingerprint or forgotten subjects to check the data by"), ""
    path = data_path or recorded.get("source") or signed["config"]["data"]["path"]
    current = fingerprint_data(path)
    if current.sha256 != recorded["sha256"]:
        changed = changed_files(recorded, current)
        shown = ", ".join(changed[:5]) + (" …" if len(changed) > 5 else "")
        return _fail(f"the data at {path} differ from the signed fingerprint (changed: {shown or 'contents'})"), ""
    config = ExperimentConfig.from_dict(signed["config"])
    config = replace(config, data=replace(config.data, path=str(path)))
    subjects = forgotten_subjects(load_data(config), config)
    if subjects.request_sha256 != expected["request_sha256"] or list(subjects.forgotten_users) != list(
        expected["forgotten_users"]
    ):
        return _fail(request_moved(subjects, expected)), ""
    return None, (
        f"data SHA-256 {current.sha256[:16]}… and the request ({subjects.n_removed_rows:,} interactions of "
        f"{len(subjects.forgotten_users):,} users) match"
    )


def _few(values: list) -> str:
    return ", ".join(map(str, values[:3])) + (" …" if len(values) > 3 else "")


def request_moved(subjects, expected: dict) -> str:
    """What differs between the request resolved now and the signed one, never two equal counts
    side by side ("637 now, 637 recorded" says nothing): the users gained or lost, else the
    interactions' count and digest."""
    now, then = [str(u) for u in subjects.forgotten_users], [str(u) for u in expected["forgotten_users"]]
    if now != then:
        gone, new = [u for u in then if u not in set(now)], [u for u in now if u not in set(then)]
        parts = ([f"{_few(gone)} signed but not resolved now"] if gone else []) + (
            [f"{_few(new)} resolved now but not signed"] if new else []
        )
        return (
            f"the signed request resolves to other users on these data ({len(now):,} now, {len(then):,} signed: "
            f"{'; '.join(parts) or 'the same users in another order'})"
        )
    counts = f"{subjects.n_removed_rows:,} now, {expected['n_removed_rows']:,} signed; " * (
        subjects.n_removed_rows != expected["n_removed_rows"]
    )
    return (
        f"the signed request resolves to the same {len(now):,} users but other interactions on these data "
        f"({counts}removed interactions' SHA-256 {subjects.request_sha256[:12]}… now, "
        f"{expected['request_sha256'][:12]}… signed)"
    )


def verify(
    receipt_path, data_path: str | None = None, trusted: tuple[str, ...] = (), replay: bool = False
) -> Verification:
    """Every check above, in order; ``replay`` re-runs the experiment instead of step 5."""
    try:
        raw = load_receipt(receipt_path)
        signed, problem = check_signature(raw, trusted)
        if problem is not None:
            return problem
        problem = check_fields(raw, signed)
        if problem is not None:
            return problem
        signer = raw["signature"]["key_fingerprint"]
        if replay:
            from core.replay import replay_receipt

            found = replay_receipt(signed, data_path)
            return Verification(found.ok, found.message, 0 if found.ok else 1)
        problem, matched = check_data(signed, data_path)
        if problem is not None:
            return problem
    except ReceiptShapeError as exc:
        return Verification(False, str(exc), 2)
    except (CragruError, OSError) as exc:
        return _fail(str(exc))
    from core.signing import receipt_fingerprint

    return Verification(
        True,
        f"receipt {receipt_fingerprint(raw)} (run {raw.get('run_id', '?')}) verified: signed by {signer}, "
        f"every field as signed, {matched}",
    )


def verify_main(argv: list[str]) -> int:
    """Exit 0 when the receipt holds, 1 when something differs, 2 for a malformed file."""
    parser = argparse.ArgumentParser(
        prog="cragru-run verify",
        description="Check a receipt: its shape, its signature, every field against what was signed, "
        "and the data (or, with --replay, the whole experiment re-run on the CPU).",
    )
    parser.add_argument("receipt", help="the JSON receipt written by --receipt")
    parser.add_argument("--data", default=None, help="dataset folder or file to check (default: the receipt's)")
    parser.add_argument(
        "--replay", action="store_true", help="re-run the experiment from the receipt (same seeds, CPU) and compare"
    )
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="FINGERPRINT",
        help="also trust this signer (the fingerprint on the signed report's sign-off block); repeatable",
    )
    args = parser.parse_args(argv)
    found = verify(args.receipt, args.data, tuple(args.key), args.replay)
    if found.ok:
        print(found.message)
        return 0
    print(f"cragru-run verify: error: {found.message}", file=sys.stderr)
    return found.code or 1
