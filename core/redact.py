"""One redaction function for every text that leaves the process: messages, log lines,
history rows, result files, reports and receipts.

It removes what looks like a credential — ``Bearer`` tokens, ``sk-…`` API keys, the
user and password of a URL (``http://user:pw@host``), ``key=``/``token=`` query values —
and, literally, every secret the process knows: values registered with
:func:`register_secret` (the HTTP backend registers the key it reads) and the values of
environment variables whose names say they hold one (``*KEY*``, ``*TOKEN*``, ``*SECRET*``,
``*PASSWORD*``).
"""

from __future__ import annotations

import os
import re
from typing import Any

MARK = "[redacted]"
MIN_SECRET = 6
"""Shorter values are not replaced literally (they would blank ordinary words)."""
_SECRET_NAMES = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH", re.IGNORECASE)
_PATTERNS = (  # (cheap gate looked for in the lower-cased text first, pattern, replacement)
    ("bearer", re.compile(r"(?i)\b(bearer)(\s+)[^\s'\",;]+"), r"\1\2" + MARK),
    ("sk-", re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), MARK),
    ("@", re.compile(r"(://)[^/\s@'\"]+@"), r"\1" + MARK + "@"),
    (
        "=",
        re.compile(r"(?i)([?&;](?:api[_-]?key|key|token|access_token|auth|password|passwd|secret)=)[^&\s'\"]+"),
        r"\1" + MARK,
    ),
    (
        ("authorization", "api-key", "api_key", "apikey"),
        re.compile(
            r"(?i)(\"?(?:authorization|x-api-key|api[_-]?key)\"?\s*[:=]\s*\"?(?:(?:bearer|basic)\s+)?)[^\s\"',}]+"
        ),
        r"\1" + MARK,
    ),
)
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact ``value`` (and each of its lines) wherever it appears from now on."""
    if not value:
        return
    for piece in {value, *re.split(r"[\r\n\t ]+", value)}:
        if len(piece) >= MIN_SECRET:
            _registered.add(piece)


def _known_secrets() -> list[str]:
    found = set(_registered)
    for name, value in os.environ.items():
        if _SECRET_NAMES.search(name) and _looks_secret(value):
            found.add(value)
    return sorted(found, key=len, reverse=True)  # longest first: a secret containing another


def _looks_secret(value: str) -> bool:
    """A key-like value: 8+ characters without spaces, letters and digits mixed, not a path
    (``KEYRING_ENABLED=enabled`` must not blank every "enabled" in a report)."""
    return (
        len(value) >= 8
        and not any(ch.isspace() for ch in value)
        and any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
        and not _is_path_like(value)
    )


def _is_path_like(value: str) -> bool:
    """A path or a plain word list is not a secret (``SSH_AUTH_SOCK=/tmp/...``)."""
    return value.startswith(("/", "~", ".")) or os.sep in value and os.path.exists(value)


def redact(text: Any) -> str:
    """``text`` as a string with every credential replaced by ``[redacted]``."""
    text = str(text)
    for secret in _known_secrets():
        if secret in text:
            text = text.replace(secret, MARK)
    lowered = text.lower()
    for gate, pattern, replacement in _PATTERNS:
        gates = (gate,) if isinstance(gate, str) else gate
        if any(g in lowered for g in gates) and (gate != "@" or "://" in text):
            text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """A URL without its user and password (for names and messages)."""
    return redact(url)


def redact_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value
