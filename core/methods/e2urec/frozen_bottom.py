"""The LLM's lower blocks without adapters, run once per prompt while E2URec unlearns.

With LoRA on the last blocks only (``lora_last_layers``, the demo's 4 of 30), every
adapter (recommender, augmented, student) shares the lower blocks unchanged, and their
weights are frozen: a prompt's hidden states after them are the same whichever adapter
is active and however often the prompt is asked. Unlearning asks the same few prompts
many times (augmented training, three teacher passes, the student's steps), so those
hidden states are computed once per prompt and only the adapted blocks run per pass.

Each prompt's states are computed on their own (never padded), kept unpadded and
left-padded with zeros per batch: padded positions are masked out as keys, so a real
token sees exactly what it saw before (same positions, same mask). With adapters on
every block (the standard default) there is nothing below them and nothing changes.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

from core.methods.common.lora import LORA_MARKER

_ACTIVE: dict[int, "FrozenBottom"] = {}
MAX_BYTES = 256 * 2**20
"""Kept states at most (a few MB on the demo); past this a prompt's lower blocks run every time."""


SUPPORTED = ("LlamaModel",)
"""Decoders whose forward takes the lower blocks' states as ``inputs_embeds`` unchanged and
treats every block alike (the bundled SmolLM2 is a Llama). Others (Gemma scales its input
embeddings, some models mix sliding-window blocks) run every block, as before."""


def _decoder(model: nn.Module) -> nn.Module | None:
    """The module holding the blocks (``layers``) and the final ``norm``, when supported."""
    for module in model.modules():
        if type(module).__name__ in SUPPORTED and isinstance(getattr(module, "layers", None), nn.ModuleList):
            return module
    return None


def frozen_blocks(layers: nn.ModuleList) -> int:
    """How many of the first blocks carry no adapter."""
    for index, layer in enumerate(layers):
        if any(LORA_MARKER in name for name, _ in layer.named_modules()):
            return index
    return 0  # no adapter at all: nothing to share


class FrozenBottom:
    """Hidden states after the unadapted lower blocks, by prompt (token ids)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.decoder = _decoder(model)
        self.n = frozen_blocks(self.decoder.layers) if self.decoder is not None else 0
        self.states: dict[tuple[int, ...], torch.Tensor] = {}
        self.bytes = 0
        self.computed = 0  # prompts run through the lower blocks
        self.reused = 0  # prompts whose lower states were reused

    @contextlib.contextmanager
    def _blocks(self, layers: list[nn.Module], norm: nn.Module) -> Iterator[None]:
        own_layers, own_norm = self.decoder.layers, self.decoder.norm
        self.decoder.layers, self.decoder.norm = nn.ModuleList(layers), norm
        try:
            yield
        finally:
            self.decoder.layers, self.decoder.norm = own_layers, own_norm

    @torch.no_grad()
    def _lower(self, prompt: tuple[int, ...], device: torch.device) -> torch.Tensor:
        ids = torch.as_tensor([prompt], device=device)
        position = torch.arange(len(prompt), device=device)[None]
        with self._blocks(list(self.decoder.layers[: self.n]), nn.Identity()):
            out = self.decoder(input_ids=ids, position_ids=position, use_cache=False)
        return out.last_hidden_state[0].detach()

    def hidden(self, prompts: list[list[int]], mask: torch.Tensor, device: torch.device) -> torch.Tensor:
        """``[B, W, H]`` lower-block states of left-padded ``prompts`` (zeros where padded)."""
        rows = []
        for prompt in prompts:
            key = tuple(int(t) for t in prompt)
            state = self.states.get(key)
            if state is None:
                state = self._lower(key, device)
                self.computed += 1
                size = state.numel() * state.element_size()
                if self.bytes + size <= MAX_BYTES:
                    self.states[key], self.bytes = state, self.bytes + size
            else:
                self.reused += 1
            rows.append(state)
        width = mask.shape[1]
        out = rows[0].new_zeros((len(rows), width, rows[0].shape[-1]))
        for row, state in enumerate(rows):
            out[row, width - state.shape[0] :] = state
        return out

    def upper_logits(
        self, prompts: list[list[int]], mask: torch.Tensor, position: torch.Tensor, device: torch.device
    ) -> torch.Tensor:
        """Logits at the last position from the adapted blocks only (gradients reach their adapters)."""
        hidden = self.hidden(prompts, mask, device)
        with self._blocks(list(self.decoder.layers[self.n :]), self.decoder.norm):
            out = self.model(
                inputs_embeds=hidden, attention_mask=mask, position_ids=position, logits_to_keep=1, use_cache=False
            )
        return out.logits


@contextlib.contextmanager
def sharing_frozen_blocks(model: nn.Module, bottom: FrozenBottom | None = None) -> Iterator[FrozenBottom]:
    """While inside, :func:`~core.methods.e2urec.llm_rec.answer_logits` on ``model`` runs the
    unadapted lower blocks once per prompt (nothing changes when every block has an adapter);
    ``bottom``: the states kept by an earlier stretch, for the same model."""
    bottom = bottom if bottom is not None else FrozenBottom(model)
    if bottom.n > 0:
        _ACTIVE[id(model)] = bottom
    try:
        yield bottom
    finally:
        _ACTIVE.pop(id(model), None)


def active(model: nn.Module) -> FrozenBottom | None:
    return _ACTIVE.get(id(model))
