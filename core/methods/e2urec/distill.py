"""E2URec's teachers and losses (arXiv 2403.03536), on the (no, yes) answer logits.

* forgetting teacher: ``z_F = z_O − α·ReLU(z_A − z_O)`` — where the augmented model
  (fine-tuned further on the forget data) is more confident than the original, the
  teacher moves the other way, by α times the gap;
* remembering teacher: the original model ``z_O`` on retained data;
* student loss: ``λ·(CE(label) + H(softmax z_O, student)) on retained
  + (1−λ)·H(softmax z_F, student) on forgotten`` with ``H`` the soft cross-entropy
  the published code uses.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def forgetting_teacher(z_original: torch.Tensor, z_augmented: torch.Tensor, alpha: float) -> torch.Tensor:
    """``z_O − α·ReLU(z_A − z_O)``, element-wise."""
    return z_original - alpha * F.relu(z_augmented - z_original)


def soft_cross_entropy(teacher_logits: torch.Tensor, student_logits: torch.Tensor) -> torch.Tensor:
    """``−Σ softmax(teacher)·log_softmax(student)`` averaged over rows (KL up to the teacher's entropy)."""
    return -(F.softmax(teacher_logits, -1) * F.log_softmax(student_logits, -1)).sum(-1).mean()


def student_loss(
    retain_student: torch.Tensor,
    retain_teacher: torch.Tensor,
    retain_labels: torch.Tensor,
    forget_student: torch.Tensor,
    forget_teacher: torch.Tensor,
    lam: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The λ-weighted objective and its parts (for the live curves)."""
    label = F.cross_entropy(retain_student, retain_labels)
    remember = soft_cross_entropy(retain_teacher, retain_student)
    forget = soft_cross_entropy(forget_teacher, forget_student)
    total = lam * (label + remember) + (1 - lam) * forget
    return total, {
        "label": float(label.detach()),
        "remember": float(remember.detach()),
        "forget": float(forget.detach()),
    }


def jensen_shannon(p_logits: torch.Tensor, q_logits: torch.Tensor) -> np.ndarray:
    """Per-row Jensen–Shannon divergence (base 2, in [0, 1]) between two softmax outputs."""
    p = F.softmax(p_logits.float(), -1)
    q = F.softmax(q_logits.float(), -1)
    m = 0.5 * (p + q)

    def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a * (a.clamp_min(1e-12).log() - b.clamp_min(1e-12).log())).sum(-1)

    return ((0.5 * kl(p, m) + 0.5 * kl(q, m)) / math.log(2)).cpu().numpy()


def yes_probability(logits: torch.Tensor) -> np.ndarray:
    return F.softmax(logits.float(), -1)[:, 1].cpu().numpy()
