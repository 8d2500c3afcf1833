"""Device choice in one place: ``auto`` means the GPU when torch sees one, else the CPU."""

from __future__ import annotations

import torch

from core.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(choice: str = "auto") -> torch.device:
    choice = (choice or "auto").lower()
    if choice not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {choice!r}")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no GPU on this machine")
    return torch.device(choice)


def describe_device(device: torch.device) -> str:
    """Human-readable name: the GPU's model for CUDA, 'CPU (N threads)' otherwise."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


def gpu_name() -> str | None:
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
