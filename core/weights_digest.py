"""A SHA-256 of a model's weights, for the signed receipt and ``verify --replay``: two runs
whose digests agree trained bit-identical models.

A scorer is hashed by its tensors: a torch module's ``state_dict``; otherwise the modules,
tensors and arrays it holds as attributes (one level down, e.g. a re-ranker's base model and
adapter), by attribute name. Names, dtypes and shapes go into the hash with the bytes, so a
reshaped or retyped tensor never collides with the original.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

MAX_DEPTH = 2


def _tensors(obj, prefix: str, depth: int, seen: set[int]):
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, torch.nn.Module):
        for key, value in obj.state_dict().items():
            yield f"{prefix}{key}", value
    elif isinstance(obj, torch.Tensor):
        yield prefix.rstrip("."), obj
    elif isinstance(obj, np.ndarray) and obj.dtype != object:
        yield prefix.rstrip("."), obj
    elif depth < MAX_DEPTH and hasattr(obj, "__dict__") and not isinstance(obj, type):
        for name, value in sorted(vars(obj).items()):
            yield from _tensors(value, f"{prefix}{name}.", depth + 1, seen)


def weights_sha256(model) -> str | None:
    """The digest of ``model``'s weights, or None when it holds no tensor at all."""
    digest, found = hashlib.sha256(), False
    for name, value in sorted(_tensors(model, "", 0, set()), key=lambda item: item[0]):
        if isinstance(value, torch.Tensor):
            value = value.detach().to("cpu").contiguous()
            value = value.view(torch.int16) if value.dtype == torch.bfloat16 else value  # numpy has no bfloat16
        array = value.numpy() if isinstance(value, torch.Tensor) else value
        if array.dtype == np.dtype("O"):
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{name}|{array.dtype.str}|{array.shape}\n".encode())
        digest.update(array.reshape(-1).view(np.uint8))  # the bytes, hashed in place (no copy)
        found = True
    return digest.hexdigest() if found else None
