"""LoRA helpers shared by the LoRA-based unlearning methods (dual memory, E2URec).

Both methods promise that unlearning only trains adapter weights and leaves the frozen
base weights bit-identical; the helpers here make that promise checkable
(:func:`frozen_state`, :func:`same_state`) and keep the GPU/bf16 policy in one place.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

LORA_MARKER = "lora_"
PEFT_PREFIX = "base_model.model."


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (weights stay fp32 for stable optimiser steps); nothing on CPU.

    CPU bf16 matmuls are slower than fp32 on most desktop processors, so the CPU path
    keeps full precision.
    """
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def lora_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The trainable adapter parameters (peft names them ``lora_A`` / ``lora_B``)."""
    return [p for n, p in model.named_parameters() if LORA_MARKER in n and p.requires_grad]


def adapter_parameters(model: nn.Module, adapter: str) -> dict[str, nn.Parameter]:
    """Parameters of one named peft adapter, keyed by their name without the adapter part."""
    suffix = f".{adapter}.weight"
    return {n[: -len(suffix)]: p for n, p in model.named_parameters() if LORA_MARKER in n and n.endswith(suffix)}


def copy_adapter(model: nn.Module, source: str, target: str) -> None:
    """Copy adapter ``source``'s weights into ``target`` (same rank and targets).

    Used to start a student or an augmented model from the trained recommender's
    adapter rather than from zero: both continue from what the recommender knows.
    """
    src = adapter_parameters(model, source)
    dst = adapter_parameters(model, target)
    if set(src) != set(dst):
        raise ValueError(f"adapters {source!r} and {target!r} do not cover the same modules")
    with torch.no_grad():
        for name, param in dst.items():
            param.copy_(src[name])


def base_name(name: str) -> str:
    """A parameter's name as it was before peft wrapped the model.

    peft prefixes ``base_model.model.`` and moves wrapped weights under ``base_layer``;
    undoing both lets a snapshot taken before wrapping be compared with one after.
    """
    if name.startswith(PEFT_PREFIX):
        name = name[len(PEFT_PREFIX) :]
    return name.replace(".base_layer.", ".")


def frozen_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of every non-adapter parameter and buffer, under pre-peft names.

    Tied weights appear once per name (state_dict lists both), which is what a
    bit-identity check wants.
    """
    state = {}
    for name, tensor in model.state_dict().items():
        if LORA_MARKER in name:
            continue
        state[base_name(name)] = tensor.detach().to("cpu", copy=True)
    return state


def same_state(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> bool:
    """True when both snapshots hold the same names and bit-identical tensors."""
    return before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def count_parameters(params: Iterator[nn.Parameter] | list[nn.Parameter]) -> int:
    return int(sum(p.numel() for p in params))
