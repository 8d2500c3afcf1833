"""A GGUF model de-quantised once, kept as a safetensors folder in the cache.

Reading the bundled GGUF costs ~17 s on a 2-core CPU (building the tokenizer from the
GGUF vocabulary and de-quantising 272 tensors); the same weights and tokenizer read back
from a safetensors folder take under a second. The folder is keyed by the GGUF's SHA-256
and the transformers version, carries the SHA-256 of its weights, and is refused (then
rebuilt) when either does not match. A cache that cannot be written only costs time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from core.data.fingerprint import file_sha256
from core.paths import cache_dir

MANIFEST = "cragru-manifest.json"
WEIGHTS = "model.safetensors"
_VERIFIED: dict[str, tuple[int, int]] = {}  # folder -> (size, mtime_ns) of weights checked this process
_GGUF_SHA: dict[tuple[str, int, int], str] = {}


def _gguf_sha(path: Path) -> str:
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo not in _GGUF_SHA:
        _GGUF_SHA[memo] = file_sha256(path)
    return _GGUF_SHA[memo]


def conversion_key(gguf: Path) -> str:
    import transformers

    text = json.dumps([_gguf_sha(gguf), transformers.__version__, "fp32-safetensors-1"])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def converted_root() -> Path:
    """``$CRAGRU_LLM_CACHE``, else ``llm/`` in the cache folder. Its own variable, so test
    sessions with throw-away model caches still share the conversion ``make setup`` made."""
    override = os.environ.get("CRAGRU_LLM_CACHE")
    return Path(override) if override else cache_dir(create=False) / "llm"


def converted_folder(gguf: Path) -> Path:
    return converted_root() / conversion_key(gguf)


def usable(folder: Path, key: str) -> tuple[bool, str | None]:
    """(True, None) for an intact conversion of ``key``; (False, why) for a refused one;
    (False, None) when there is none."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False, None
    refused = f"converted LLM in {folder} not used"
    try:
        facts = json.loads(manifest.read_text())
        stat = (folder / WEIGHTS).stat()
    except (OSError, ValueError) as exc:
        return False, f"{refused}: unreadable ({exc}); converting the GGUF again"
    if not isinstance(facts, dict) or facts.get("key") != key:
        return False, f"{refused}: it belongs to another model or library version; converting again"
    if _VERIFIED.get(str(folder)) == (stat.st_size, stat.st_mtime_ns):
        return True, None
    if facts.get("weights_sha256") != file_sha256(folder / WEIGHTS):
        return False, f"{refused}: its weights do not match their checksum (damaged or altered); converting again"
    _VERIFIED[str(folder)] = (stat.st_size, stat.st_mtime_ns)
    return True, None


def save_converted(model, tokenizer, folder: Path, key: str) -> str | None:
    """Write the de-quantised weights, config and tokenizer; a warning when it cannot."""
    from safetensors.torch import save_model

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, suffix=".tmp"))
    except OSError as exc:
        return f"the converted LLM was not cached ({exc.strerror or exc}); the next start converts the GGUF again"
    try:
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (tmp / "config.json").write_text(json.dumps(config))
        save_model(model, str(tmp / WEIGHTS))  # tied embeddings are written once
        tokenizer.save_pretrained(str(tmp))
        facts = {"key": key, "weights_sha256": file_sha256(tmp / WEIGHTS)}
        (tmp / MANIFEST).write_text(json.dumps(facts))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError as exc:
        return f"the converted LLM was not cached ({exc.strerror or exc}); the next start converts the GGUF again"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return None


def main() -> int:
    """``python -m core.llm.converted``: convert the bundled LLM now (``make setup`` does),
    so the first demo does not pay for it."""
    from core.errors import ConfigError
    from core.llm.local import load_local_llm

    try:
        llm = load_local_llm(None, "cpu", fresh=True)
    except ConfigError as exc:
        print(f"bundled LLM not prepared: {exc}")
        return 1
    for _, note in llm.notes:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
