"""UnlearnRec (Chen, Xia & Huang, SIGIR 2025): a pre-trained influence encoder rewrites the
base model's embeddings for a request in one forward pass. See :mod:`.method`."""

from core.curves import LOSS, CurveSpec
from core.methods.registry import MethodSpec, ParamSpec, deferred, register

UNLEARN_TARGETS = ("popularity", "zero")  # where the unlearning loss pushes a deleted edge (objective.py)

prepare, unlearn = deferred("core.methods.unlearnrec.method")

CURVES = (
    LOSS,
    CurveSpec("model", "backbone BPR loss", "diagnostics"),
    CurveSpec("unlearn", "unlearning loss", "diagnostics"),
    CurveSpec("preserve", "preservation KL", "diagnostics"),
    CurveSpec("contrast", "contrastive loss", "diagnostics"),
)
"""Reported per pre-training request (stage ``pretrain``) and fine-tuning pass (``unlearn``)."""

PARAMS = (
    ParamSpec(
        "layers",
        int,
        2,
        "Propagation layers of the influence encoder over the request's influence-dependency matrix.",
        low=0,
        high=6,
        label="Influence layers",
    ),
    ParamSpec(
        "pretrain_steps",
        int,
        200,
        "Simulated deletion requests the encoder is pre-trained on (once per base model, cached).",
        low=1,
        high=100_000,
        label="Pre-training requests",
    ),
    ParamSpec(
        "pretrain_ratio",
        float,
        0.05,
        "Share of the training edges each simulated request deletes.",
        low=0.001,
        high=0.5,
        label="Simulated request size",
    ),
    ParamSpec(
        "user_share",
        float,
        0.5,
        "Share of simulated requests that delete whole users' histories instead of random edges.",
        low=0.0,
        high=1.0,
        label="Whole-user share",
    ),
    ParamSpec(
        "pretrain_lr",
        float,
        2e-2,
        "Adam learning rate of pre-training.",
        low=1e-6,
        high=1.0,
        label="Pre-training learning rate",
    ),
    ParamSpec(
        "finetune_epochs",
        int,
        10,
        "Passes of encoder fine-tuning on the real request before the "
        "final forward pass (0: the pre-trained encoder only).",
        low=0,
        high=1000,
        label="Fine-tuning epochs",
    ),
    ParamSpec(
        "finetune_lr",
        float,
        5e-3,
        "Adam learning rate of the fine-tuning.",
        low=1e-6,
        high=1.0,
        label="Fine-tuning learning rate",
    ),
    ParamSpec(
        "batch_size",
        int,
        4096,
        "Remaining edges per step for the model and preservation losses.",
        low=16,
        high=1_000_000,
        label="Batch size",
    ),
    ParamSpec(
        "model_weight",
        float,
        1.0,
        "Weight of the backbone's BPR loss on the remaining graph.",
        low=0.0,
        high=100.0,
        label="Model-loss weight",
    ),
    ParamSpec(
        "unlearn_weight",
        float,
        5.0,
        "Weight of the unlearning loss on the deleted edges.",
        low=0.0,
        high=100.0,
        label="Unlearning-loss weight",
    ),
    ParamSpec(
        "preserve_weight",
        float,
        1.0,
        "Weight of the KL term keeping retained users' score distributions close to the original model's.",
        low=0.0,
        high=100.0,
        label="Preservation weight",
    ),
    ParamSpec(
        "contrast_weight",
        float,
        0.01,
        "Weight of the contrastive term between edge-dropped views of the request.",
        low=0.0,
        high=10.0,
        label="Contrastive weight",
    ),
    ParamSpec(
        "unlearn_target",
        str,
        "popularity",
        "Where the unlearning loss pushes a deleted edge: "
        "'popularity' — level with an item drawn by popularity (where a model that never saw it "
        "ranks it); 'zero' — the paper's −log σ(−ŷ), unbounded, which buries forgotten items "
        "below everything.",
        choices=UNLEARN_TARGETS,
        label="Unlearning target",
    ),
    ParamSpec(
        "cache",
        bool,
        True,
        "Reuse a pre-trained encoder for the same base model (memory and disk).",
        label="Cache pre-training",
    ),
)

SPEC = register(
    MethodSpec(
        name="unlearnrec",
        label="UnlearnRec (pre-trained influence encoder)",
        description=(
            "Pre-trains, once per base model, an influence encoder on simulated deletions; a "
            "request is then unlearned by one forward pass that rewrites the affected users' and "
            "items' embeddings (plus an optional brief fine-tune). Very fast per request; forgotten "
            "users keep an updated vector, so how well it erased them shows in the memorisation "
            "and membership figures."
        ),
        params=PARAMS,
        unlearn=unlearn,
        prepare=prepare,
        curves=CURVES,
        capabilities=frozenset({"needs_embeddings", "sequential_requests"}),
    )
)
