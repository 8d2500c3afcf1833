"""One LLM per process: a method that adds LoRA adapters gets its own module tree over the
shared weights (core.llm.local.adaptable_copy), and the shared model is left as it was."""

from __future__ import annotations

import torch

from core.llm.local import adaptable_copy
from core.methods.common.lora import frozen_state, same_state
from tests.tiny_llm import tiny_llm


def _logits(model, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_adapters_on_the_copy_leave_the_shared_model_untouched():
    from peft import LoraConfig, get_peft_model

    shared = tiny_llm()
    ids = torch.arange(3, 40)[None]
    before_state, before_out = frozen_state(shared.model), _logits(shared.model, ids)
    copy = adaptable_copy(shared)
    assert copy.model is not shared.model and copy.tokenizer is shared.tokenizer
    pairs = list(zip(shared.model.parameters(), copy.model.parameters()))
    assert pairs and all(a is b for a, b in pairs)  # the weights are shared, not copied
    peft = get_peft_model(copy.model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    for name, param in peft.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param)  # an adapter that changes the answers
    peft.train()
    loss = peft(input_ids=ids).logits.square().mean()
    loss.backward()
    with torch.no_grad():
        for param in peft.parameters():
            if param.grad is not None:
                param -= 0.1 * param.grad
    assert not torch.equal(_logits(peft, ids), before_out)  # the copy carries the adapters
    assert not any("lora_" in name for name, _ in shared.model.named_modules())  # the shared tree has none
    assert not shared.model.training
    assert same_state(before_state, frozen_state(shared.model))
    assert torch.equal(_logits(shared.model, ids), before_out)
