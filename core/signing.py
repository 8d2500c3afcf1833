"""This installation's Ed25519 signing key: receipts are signed with it, so nobody can quietly
edit one (a changed verdict no longer matches its signature) and a reader can tell which
installation wrote it (the public key's fingerprint, printed on the report's sign-off block
and in the window's About).

The private key lives in the user's config folder (platformdirs; ``CRAGRU_CONFIG_DIR``
overrides it, as the tests do), created on first use with owner-only permissions. It is
never written into the repository, a result, a report or a receipt: only the public key is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import CragruError
from core.paths import APP_NAME

KEY_FILE = "receipt-signing-key.pem"
ALGORITHM = "Ed25519"


def config_dir() -> Path:
    """The user's config folder for CRAGRU Studio (``CRAGRU_CONFIG_DIR`` overrides it)."""
    return Path(os.environ.get("CRAGRU_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME, appauthor=False))


def key_path() -> Path:
    return config_dir() / KEY_FILE


def fingerprint(public_raw: bytes) -> str:
    """``SHA256:`` and the first 32 hex digits of the raw public key's SHA-256, in groups of four."""
    digest = hashlib.sha256(public_raw).hexdigest()[:32]
    return "SHA256:" + " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def same_fingerprint(a: str, b: str) -> bool:
    """Fingerprints compared without spaces, case or the ``SHA256:`` prefix (as people copy them)."""

    def norm(text: str) -> str:
        return text.lower().removeprefix("sha256:").replace(" ", "").replace(":", "")

    return bool(norm(a)) and norm(a) == norm(b)


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode("ascii")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_raw)

    def sign(self, content: bytes) -> str:
        return base64.b64encode(self.private.sign(content)).decode("ascii")


def _create(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never over an existing key
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def load_key(create: bool = True) -> SigningKey:
    """This installation's key, created on first use (``create``)."""
    path = key_path()
    try:
        if not path.exists():
            if not create:
                raise CragruError(f"no signing key yet at {path} (one is made when the first receipt is signed)")
            try:
                return SigningKey(_create(path))
            except FileExistsError:  # another process made it meanwhile: read that one
                pass
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CragruError(f"cannot use the signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CragruError(f"the signing key {path} is not an Ed25519 key")
    return SigningKey(key)


def installation_fingerprint() -> str | None:
    """This installation's key fingerprint, or None when it has no key yet (the About box)."""
    try:
        return load_key(create=False).fingerprint
    except CragruError:
        return None


def public_key(b64: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(b64, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise CragruError("the receipt's public key is not a valid Ed25519 key") from None


def signature_holds(public_b64: str, content: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is the key's signature of ``content``."""
    try:
        public_key(public_b64).verify(base64.b64decode(signature_b64, validate=True), content)
    except (InvalidSignature, ValueError):
        return False
    return True


def canonical(value) -> bytes:
    """The one byte string a JSON value signs as: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def receipt_fingerprint(receipt: dict) -> str:
    """SHA-256 of a receipt's signed content (the first 32 hex digits, in groups of four): the
    line a reviewer compares between the signed paper and the file."""
    content = {k: v for k, v in receipt.items() if k != "signature"}
    digest = hashlib.sha256(canonical(content)).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))
