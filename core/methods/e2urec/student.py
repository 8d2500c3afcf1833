"""E2URec's student: a LoRA adapter distilled from the remembering and forgetting teachers.

The teachers' answer logits are computed once (teachers frozen); each step pairs a batch
of forget prompts with a batch of retain prompts (cycling), as the published loop zips
the two loaders, and trains on the shared fit loop.
"""

from __future__ import annotations

import numpy as np
import torch

from core.methods.common.lora import copy_adapter
from core.methods.e2urec.distill import forgetting_teacher, student_loss
from core.methods.e2urec.llm_rec import (
    AUG,
    REC,
    STUDENT,
    answer_logits,
    answer_logits_batched,
    train_adapter,
    use_adapter,
)


def train_student(
    model: torch.nn.Module,
    retain_prompts: list[list[int]],
    retain_labels: np.ndarray,
    forget_prompts: list[list[int]],
    answer_ids: tuple[int, int],
    pad_id: int,
    device: torch.device,
    *,
    alpha: float,
    lam: float,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    reporter,
    teacher: str = REC,
    augmented: str = AUG,
    student: str = STUDENT,
) -> dict[str, float]:
    """Distil the student adapter from the two teachers (logits precomputed, teachers frozen).

    Steps walk over the forget prompts; each pairs a forget batch with a retain batch
    (cycling), as the published loop zips the two loaders.
    """
    use_adapter(model, teacher)
    z_o_retain = answer_logits_batched(model, retain_prompts, answer_ids, pad_id, device, reporter=reporter)
    z_o_forget = answer_logits_batched(model, forget_prompts, answer_ids, pad_id, device, reporter=reporter)
    use_adapter(model, augmented)
    z_a_forget = answer_logits_batched(model, forget_prompts, answer_ids, pad_id, device, reporter=reporter)
    z_f = forgetting_teacher(z_o_forget, z_a_forget, alpha)
    labels = torch.as_tensor(retain_labels, device=device)
    copy_adapter(model, teacher, student)
    rng = np.random.default_rng([int(seed), 7])
    retain_order = rng.permutation(len(retain_prompts))
    cursor = 0
    parts: dict[str, float] = {}

    def loss_fn(f_idx: np.ndarray) -> tuple[torch.Tensor, dict[str, float]]:
        nonlocal cursor, parts
        r_idx = np.take(retain_order, np.arange(cursor, cursor + batch_size), mode="wrap")
        cursor += batch_size
        s_ret = answer_logits(model, [retain_prompts[i] for i in r_idx], answer_ids, pad_id, device)
        s_for = answer_logits(model, [forget_prompts[i] for i in f_idx], answer_ids, pad_id, device)
        total, parts = student_loss(s_ret, z_o_retain[r_idx], labels[r_idx], s_for, z_f[f_idx], lam)
        return total, parts

    last = train_adapter(
        model,
        student,
        len(forget_prompts),
        loss_fn,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        reporter=reporter,
        stage="student",
    )
    use_adapter(model, student)
    return {"loss": last, **parts}
