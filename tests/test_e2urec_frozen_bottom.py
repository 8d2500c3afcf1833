"""E2URec with adapters on the last blocks only: the lower blocks run once per prompt while it
unlearns, and the answers, gradients and the trained student match running every block."""

from __future__ import annotations

import numpy as np
import torch

from core.events import Reporter
from core.methods.e2urec.frozen_bottom import FrozenBottom, sharing_frozen_blocks
from core.methods.e2urec.llm_rec import AUG, REC, STUDENT, answer_logits, use_adapter
from core.methods.e2urec.student import train_student
from tests.tiny_llm import tiny_llm

CPU = torch.device("cpu")
IDS = (10, 11)


def _model(layers_to_transform):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], layers_to_transform=layers_to_transform)
    model = get_peft_model(tiny_llm(layers=4).model, config, adapter_name=REC)
    for name in (AUG, STUDENT):
        model.add_adapter(name, config)
    torch.manual_seed(1)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.2)  # adapters that change the answers
    return model


def _prompts(n: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(3, 500, rng.integers(3, 14)).tolist() for _ in range(n)]


def test_answers_and_gradients_match_running_every_block():
    model = _model([2, 3])
    assert FrozenBottom(model).n == 2
    prompts = _prompts(6, 0)
    use_adapter(model, REC, trainable=True)
    full = answer_logits(model, prompts, IDS, 0, CPU)
    full.square().sum().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    with sharing_frozen_blocks(model) as lower:
        shared = answer_logits(model, prompts, IDS, 0, CPU)
        shared.square().sum().backward()
        again = answer_logits(model, prompts[::-1][:4], IDS, 0, CPU)  # another batch of the same prompts
    assert (lower.computed, lower.reused) == (6, 4)
    assert torch.allclose(full, shared, atol=1e-5)
    assert torch.allclose(again, full.detach()[[5, 4, 3, 2]], atol=1e-5)
    assert grads and all(torch.allclose(grads[n], p.grad, atol=1e-5) for n, p in model.named_parameters() if n in grads)
    assert not any(p.grad is not None for n, p in model.named_parameters() if "lora_" not in n)


def test_every_block_adapted_changes_nothing():
    model = _model(None)
    with sharing_frozen_blocks(model) as lower:
        answer_logits(model, _prompts(3, 1), IDS, 0, CPU)
    assert lower.n == 0 and lower.computed == 0


def test_the_student_trained_with_shared_blocks_matches():
    retain, forget = _prompts(6, 2), _prompts(6, 3)
    labels = np.tile([1, 0], 3)
    students = []
    for share in (False, True):
        model = _model([2, 3])
        kwargs = dict(alpha=0.5, lam=0.5, epochs=2, batch_size=4, lr=5e-3, seed=0, reporter=Reporter())
        if share:
            with sharing_frozen_blocks(model) as lower:
                train_student(model, retain, labels, forget, IDS, 0, CPU, **kwargs)
            assert lower.reused > lower.computed > 0
        else:
            train_student(model, retain, labels, forget, IDS, 0, CPU, **kwargs)
        students.append({n: p.detach().clone() for n, p in model.named_parameters() if f".{STUDENT}." in n})
        teacher = {n.replace(f".{REC}.", f".{STUDENT}."): p for n, p in model.named_parameters() if f".{REC}." in n}
        assert any(not torch.equal(teacher[n], p) for n, p in students[-1].items())  # the student was trained
    assert students[0].keys() == students[1].keys()
    assert all(torch.allclose(students[0][n], students[1][n], atol=1e-5) for n in students[0])


def test_other_decoders_run_every_block():
    from peft import LoraConfig, get_peft_model
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=16, n_layer=3, n_head=2, n_positions=32))
    model = get_peft_model(gpt2, LoraConfig(r=2, target_modules=["c_attn"], layers_to_transform=[2]))
    assert FrozenBottom(model).n == 0
