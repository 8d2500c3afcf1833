"""E2URec (arXiv 2403.03536): unlearning an LLM recommender with LoRA and two teachers.

The LLM recommender is the bundled SmolLM2-135M-Instruct with a LoRA adapter tuned to
answer " Yes"/" No" to "will this user like X?" prompts (profile + recent history).
It re-ranks the base recommender's top-N candidates (:mod:`.scorer`).

Unlearning (``unlearn``, the timed step):
1. augmented model — the recommender's adapter fine-tuned further on the forget data;
2. forgetting teacher ``z_O − α·ReLU(z_A − z_O)``; remembering teacher = the original;
3. a LoRA student, started from the recommender's adapter, trained with
   ``λ·(label + distil to the original) on retained + (1−λ)·distil to the forgetting
   teacher on forgotten`` — only adapter weights change, the LLM's stay bit-identical.

``prepare`` (timed apart) loads the LLM, tunes the recommender and, for E2URec's own
JSD measure, a reference recommender tuned on retained data only.
"""

from __future__ import annotations

from core.curves import CurveSpec
from core.methods.registry import MethodSpec, ParamSpec, deferred, register

prepare, unlearn = deferred("core.methods.e2urec.method")

P = ParamSpec
PARAMS = (
    P(
        "alpha",
        float,
        2.0,
        "α of the forgetting teacher z_O − α·ReLU(z_A − z_O) (paper default 2).",
        0.0,
        100.0,
        label="α",
    ),
    P(
        "lam",
        float,
        0.6,
        "λ: weight of the retained-data terms; 1−λ weighs the forgetting distillation (paper default 0.6).",
        0.0,
        1.0,
        label="λ",
    ),
    P("lora_rank", int, 16, "LoRA rank of every adapter (paper default 16).", 1, 256, label="LoRA rank"),
    P(
        "lora_targets",
        str,
        "q_proj,v_proj",
        "Modules that get LoRA adapters (paper: query and value projections).",
        label="LoRA targets",
    ),
    P(
        "lora_last_layers",
        int,
        0,
        "Adapt only the last N transformer blocks (0 = all, as in the paper); fewer blocks make the backward "
        "pass much cheaper.",
        0,
        1000,
        label="LoRA blocks (last N)",
        demo=4,
    ),
    P("lora_dropout", float, 0.05, "Dropout on the LoRA branch while training.", 0.0, 0.9, label="LoRA dropout"),
    P(
        "unlearn_epochs",
        int,
        1,
        "Passes over the forget prompts while training the student.",
        1,
        100,
        label="Unlearning epochs",
    ),
    P(
        "unlearn_lr",
        float,
        5e-4,
        "AdamW learning rate of the student (paper: 5e-4).",
        1e-6,
        1.0,
        label="Unlearning learning rate",
    ),
    P("aug_epochs", int, 1, "Epochs of the augmented model on the forget data.", 1, 100, label="Augmented epochs"),
    P("aug_lr", float, 1e-3, "Learning rate of the augmented model.", 1e-6, 1.0, label="Augmented learning rate"),
    P(
        "forget_samples",
        int,
        16,
        "Removed interactions used as forget prompts (0 = all; CPU-sized default).",
        0,
        10_000_000,
        label="Forget samples",
        demo=3,
    ),
    P(
        "retain_samples",
        int,
        16,
        "Retained interactions used as retain prompts (0 = all; CPU-sized default).",
        0,
        10_000_000,
        label="Retain samples",
        demo=3,
    ),
    P(
        "rec_samples",
        int,
        32,
        "Training interactions the LLM recommender is tuned on (one-off; 0 = all).",
        0,
        10_000_000,
        label="Recommender samples",
        demo=16,
    ),
    P(
        "rec_epochs",
        int,
        1,
        "Epochs of the LLM recommender's tuning (one-off, cached).",
        1,
        100,
        label="Recommender epochs",
    ),
    P(
        "rec_lr",
        float,
        1e-3,
        "Learning rate of the LLM recommender's tuning.",
        1e-6,
        1.0,
        label="Recommender learning rate",
    ),
    P("batch_size", int, 8, "Prompts per step.", 1, 4096, label="Batch size"),
    P("n_history", int, 3, "Recent liked items shown in each prompt.", 0, 50, label="History in prompt", demo=2),
    P(
        "title_words",
        int,
        4,
        "Words kept of each title (short prompts are faster).",
        1,
        50,
        label="Title words",
        demo=3,
    ),
    P(
        "candidates",
        int,
        20,
        "Base recommender's top-N the LLM re-ranks per user (more than 10, or hit@10 cannot change).",
        1,
        1000,
        label="Candidates",
        demo=12,
    ),
    P(
        "eval_users_per_group",
        int,
        5,
        "Users per group (retain, forget, similar, forgotten) the LLM scores for evaluation; 0 = all.",
        0,
        1_000_000,
        label="Evaluation users per group",
        demo=3,
    ),
    P(
        "test_samples",
        int,
        16,
        "Test interactions (+ negatives) for E2URec's own AUC.",
        1,
        1_000_000,
        label="AUC test samples",
        demo=4,
    ),
    P(
        "reference_retrain",
        bool,
        True,
        "Tune a reference recommender on retained data only (in preparation) for the JSD measure.",
        label="Retrained reference",
        demo=False,
    ),
    P(
        "check_frozen",
        bool,
        True,
        "Copy the LLM's weights before and compare them after unlearning (bit-identical proof; costs ~1 s and "
        "one model copy of memory).",
        label="Check frozen weights",
        demo=False,
    ),
    P(
        "llm_path",
        str,
        "",
        "A .gguf file or Hugging Face folder; empty = the bundled SmolLM2-135M-Instruct.",
        label="LLM",
    ),
    P(
        "use_cache",
        bool,
        True,
        "Reuse recommender adapters tuned earlier with the same data and settings.",
        label="Cache adapters",
    ),
)

register(
    MethodSpec(
        name="e2urec",
        label="E2URec (LLM recommender, LoRA + teachers)",
        description=(
            "An LLM recommender (the bundled SmolLM2 with a Yes/No LoRA adapter) re-ranks the "
            "base model's top candidates. Unlearning trains a LoRA student distilled from the "
            "original model on retained data and from a forgetting teacher on forgotten data "
            "(arXiv 2403.03536); the LLM's own weights never change."
        ),
        params=PARAMS,
        unlearn=unlearn,
        prepare=prepare,
        # stages: "rec adapter", "retrain adapter", "augmented adapter" (loss) and "student" (loss and its parts)
        curves=(
            CurveSpec("loss", "training loss", "loss"),
            CurveSpec("label", "student: label loss on retained data", "diagnostics"),
            CurveSpec("remember", "student: distillation to the original", "diagnostics"),
            CurveSpec("forget", "student: distillation to the forgetting teacher", "diagnostics"),
        ),
        capabilities=frozenset({"samples_users", "uses_llm"}),
    )
)
