"""Dual memory (GitHub issue 6): a generative recommender that unlearns with a LoRA side memory.

* Main memory — a small T5 trained once (``prepare``, cached) to generate a user's next
  item from their last N training items; frozen afterwards.
* Side memory — LoRA adapters on chosen decoder feed-forward layers, trained at
  unlearning time to forget every removed interaction while staying close to the main
  memory on retained users (:mod:`.side_memory`).
* Router — a classifier on request-time features that sends a request to the side
  memory; it is what serves evaluation (no oracle user list), and its precision and
  recall on held-out users are reported (:mod:`.router`).

Requests carry the user's full training history (as in the published setting): the
side memory must produce a forgotten user's recommendations *from* that history.
"""

from __future__ import annotations

from core.curves import CurveSpec
from core.methods.registry import MethodSpec, ParamSpec, deferred, register

prepare, unlearn = deferred("core.methods.dual_memory.method")


def chosen_blocks(layers: str, n_blocks: int) -> list[int]:
    """Decoder block indices named by ``layers`` (``all``, ``last`` or ``0,1``); ValueError otherwise."""
    text = layers.strip().lower()
    if text == "all":
        return list(range(n_blocks))
    if text == "last":
        return [n_blocks - 1]
    try:
        chosen = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise ValueError(f"side-memory layers must be 'all', 'last' or indices such as '0,1', got {layers!r}") from None
    if not chosen or any(not 0 <= i < n_blocks for i in chosen):
        raise ValueError(
            f"side-memory layers must be indices in 0..{n_blocks - 1} (model_layers is {n_blocks}), got {layers!r}"
        )
    return chosen


def _check(params: dict) -> None:
    chosen_blocks(params["side_layers"], params["model_layers"])


P = ParamSpec
PARAMS = (
    P(
        "history_len",
        int,
        20,
        "Items of the user's history the generative model reads (its input window).",
        1,
        200,
        label="History length",
        demo=10,
    ),
    P(
        "model_dim",
        int,
        64,
        "Width of the T5 main memory (d_model; feed-forward is twice this).",
        8,
        1024,
        label="Model width",
    ),
    P("model_layers", int, 2, "Encoder and decoder blocks of the T5 main memory.", 1, 12, label="Model layers"),
    P("model_heads", int, 4, "Attention heads of the T5 main memory.", 1, 16, label="Attention heads"),
    P(
        "main_epochs",
        int,
        20,
        "Most epochs for the main memory (early stopping on valid NDCG@10; one-off, cached).",
        1,
        500,
        label="Main epochs",
        demo=2,  # the demo's valid NDCG@10 by epoch: .156 .179 .178 .177 .180 (5 epochs cost 22 s of CPU)
    ),
    P(
        "main_lr",
        float,
        3e-3,
        "Adam learning rate of the main memory (ML-100K: 3e-3 reaches valid NDCG@10 0.131, 1e-2 only 0.113).",
        1e-5,
        1.0,
        label="Main learning rate",
    ),
    P("batch_size", int, 256, "Examples per step for both memories.", 8, 65536, label="Batch size"),
    P("side_rank", int, 8, "LoRA rank of the side memory.", 1, 256, label="Side-memory rank"),
    P(
        "side_layers",
        str,
        "all",
        "Decoder blocks whose feed-forward layers get the side memory: 'all', 'last' or indices like '0,1'.",
        label="Side-memory layers",
    ),
    P(
        "side_epochs",
        int,
        10,
        "Passes over every forgotten interaction while training the side memory.",
        1,
        1000,
        label="Side epochs",
        demo=3,
    ),
    P("side_lr", float, 1e-2, "Adam learning rate of the side memory.", 1e-5, 1.0, label="Side learning rate"),
    P(
        "w_retain",
        float,
        0.5,
        "Weight of the retention hinge: retained rows may not become less likely than under the main memory.",
        0.0,
        100.0,
        label="Retention weight",
    ),
    P(
        "w_unlikelihood",
        float,
        1.0,
        "Weight of the unlikelihood loss −log(1−p) on forgotten items.",
        0.0,
        100.0,
        label="Unlikelihood weight",
    ),
    P(
        "w_margin",
        float,
        1.0,
        "Weight of the pairwise margin against the main memory's hard negatives.",
        0.0,
        100.0,
        label="Margin weight",
    ),
    P(
        "margin",
        float,
        1.0,
        "Logit margin a forgotten item must fall below each hard negative.",
        0.0,
        50.0,
        label="Margin",
    ),
    P(
        "hard_negatives",
        int,
        10,
        "Hard negatives per forgotten interaction (main memory's best unseen items).",
        1,
        1000,
        label="Hard negatives",
    ),
    P(
        "w_topk",
        float,
        1.0,
        "Weight of the penalty on a forgotten item above the K-th best unseen item.",
        0.0,
        100.0,
        label="Top-K weight",
    ),
    P("topk", int, 10, "K of the top-K penalty.", 1, 1000, label="Top-K"),
    P(
        "w_suppress",
        float,
        1.0,
        "Weight of the absolute suppression keeping p(item) under 1/n_items.",
        0.0,
        100.0,
        label="Suppression weight",
    ),
    P(
        "w_kl",
        float,
        0.5,
        "Weight of KL(main ‖ side) on retained users (stability). Higher keeps a misrouted retained user's list "
        "closer to the main memory's but forgets less (demo: 0.2 → forced-on top-10 overlap 0.0, 0.7 → 0.33).",
        0.0,
        100.0,
        label="Stability weight",
    ),
    P(
        "router_holdout",
        float,
        0.3,
        "Share of users held out of the router's training to measure its precision/recall.",
        0.0,
        0.9,
        label="Router hold-out",
    ),
    P(
        "router_threshold",
        float,
        0.5,
        "Router probability above which a request goes to the side memory.",
        0.0,
        1.0,
        label="Router threshold",
    ),
    P(
        "reference_retrain",
        bool,
        False,
        "Also retrain the T5 from scratch on retained rows (in preparation) and report its figures.",
        label="T5 retrain reference",
    ),
    P(
        "use_cache",
        bool,
        True,
        "Reuse a main memory trained earlier on the same data, split and settings.",
        label="Cache main memory",
    ),
)

register(
    MethodSpec(
        name="dual_memory",
        label="Dual memory (generative + LoRA side memory)",
        description=(
            "A generative T5 recommender (each item one token) whose frozen main memory is "
            "complemented at unlearning time by LoRA side-memory adapters trained to forget "
            "every removed interaction; a router trained on request features decides which "
            "memory answers each user."
        ),
        params=PARAMS,
        unlearn=unlearn,
        prepare=prepare,
        # stages: "main memory" and "T5 retrained" (loss, valid_ndcg10), "side memory" (loss and its parts)
        curves=(
            CurveSpec("loss", "training loss", "loss"),
            CurveSpec("valid_ndcg10", "validation NDCG@10", "validation"),
            CurveSpec("unlikelihood", "unlikelihood on forgotten items", "diagnostics"),
            CurveSpec("margin", "margin below hard negatives", "diagnostics"),
            CurveSpec("topk", "top-K penalty", "diagnostics"),
            CurveSpec("suppress", "suppression under 1/n_items", "diagnostics"),
            CurveSpec("retain", "retention hinge", "diagnostics"),
            CurveSpec("kl", "KL to the main memory", "diagnostics"),
        ),
        check=_check,
    )
)
