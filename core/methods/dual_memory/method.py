"""The dual memory method's prepare / unlearn steps (imported on first use: transformers and
peft stay out of ``import core.methods``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import ConfigError
from core.evaluation.full_sort import RowSets
from core.evaluation.grouped import evaluate_model
from core.methods.common.lora import count_parameters, lora_parameters
from core.methods.dual_memory.generative import ContextScorer, MainConfig, build_t5, item_log_probs, train_main
from core.methods.dual_memory.router import fit_router, request_features, router_quality
from core.methods.dual_memory.scorer import DualMemoryScorer
from core.methods.dual_memory.sequences import (
    ITEM_OFFSET,
    Examples,
    next_item_examples,
    prefix_contexts,
    serving_contexts,
)
from core.methods.dual_memory.side_memory import SideConfig, attach_side_memory, train_side_memory
from core.methods.registry import UnlearnContext, UnlearnOutcome
from core.model_cache import cache_key, cached_path, load_entry, save_entry
from core.models.base import known_mask, popularity_of

CACHE_KIND = "dual_memory"
CACHE_VERSION = "t5-main-v3"  # v2: trained on core.fit_loop; v3: entries keyed and checksummed


@dataclass
class DualPrepared:
    """What ``prepare`` hands to ``unlearn``: the frozen main memory and its request inputs."""

    main: torch.nn.Module
    contexts: np.ndarray  # [n_users, n+1] the inputs each user's request carries
    config: MainConfig
    extras: dict[str, float]
    notes: list[str]


def main_config(params: dict, seed: int) -> MainConfig:
    return MainConfig(
        history_len=params["history_len"],
        dim=params["model_dim"],
        layers=params["model_layers"],
        heads=params["model_heads"],
        epochs=params["main_epochs"],
        lr=params["main_lr"],
        batch_size=params["batch_size"],
        seed=seed,
    )


def side_config(params: dict, seed: int) -> SideConfig:
    return SideConfig(
        rank=params["side_rank"],
        layers=params["side_layers"],
        epochs=params["side_epochs"],
        lr=params["side_lr"],
        batch_size=params["batch_size"],
        w_retain=params["w_retain"],
        w_unlikelihood=params["w_unlikelihood"],
        w_margin=params["w_margin"],
        margin=params["margin"],
        hard_negatives=params["hard_negatives"],
        w_topk=params["w_topk"],
        topk=params["topk"],
        w_suppress=params["w_suppress"],
        w_kl=params["w_kl"],
        seed=seed,
    )


def _train_or_load(
    ctx: UnlearnContext,
    cfg: MainConfig,
    rows: np.ndarray,
    valid_rows: np.ndarray,
    key_parts: tuple,
    stage: str,
    use_cache: bool,
) -> tuple[torch.nn.Module, bool]:
    """A T5 next-item model on ``rows`` (early stopping on ``valid_rows``), cached on disk
    as a keyed, checksummed entry: another key's, an altered or a wrongly shaped file is
    refused with a warning and the model trained again."""
    ds, device = ctx.dataset, ctx.device
    key = cache_key(ds.fingerprint(), ctx.split.as_dict(), cfg.as_dict(), device.type, CACHE_VERSION, *key_parts)
    path = cached_path(key, CACHE_KIND) if use_cache else None
    cached = _load_cached(ctx, ds.n_items, cfg, path, key, stage) if path is not None else None
    if cached is not None:
        return cached.to(device).eval(), True
    model = build_t5(ds.n_items, cfg)  # fresh: a refused entry never seeds training
    examples = next_item_examples(ds, rows, cfg.history_len)
    contexts = torch.as_tensor(serving_contexts(ds, rows, cfg.history_len), device=device)
    scorer = ContextScorer(
        model,
        contexts,
        known_mask(ds.users[rows], ds.n_users, device),
        popularity_of(ds.items[rows], ds.n_items, device),
    )
    v_users = np.unique(ds.users[valid_rows])
    validation = (
        (scorer, v_users, RowSets.from_rows(ds, valid_rows), RowSets.from_rows(ds, rows)) if len(v_users) else None
    )
    train_main(model, examples, cfg, device, ctx.reporter, validation, stage=stage)
    if path is not None:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        warning = save_entry(path, key, state, {"n_items": ds.n_items, "rows": len(rows), **cfg.as_dict()})
        if warning:
            ctx.reporter.log(warning, "warning")
    return model.eval(), False


def _load_cached(
    ctx: UnlearnContext, n_items: int, cfg: MainConfig, path: Path, key: str, stage: str
) -> torch.nn.Module | None:
    """The T5 of the intact entry of ``key``, or None (a refused entry is a warning)."""
    state, warning = load_entry(path, key)
    if state is not None:
        try:
            model = build_t5(n_items, cfg)
            model.load_state_dict(state)  # shapes checked here: another n_items or width is refused
            ctx.reporter.log(f"{stage}: loaded from cache ({path.name})")
            return model
        except Exception as exc:  # noqa: BLE001 - a wrong entry is retrained, never used
            warning = f"cache entry {path.name} not used: {type(exc).__name__}: {str(exc)[:200]}; training again"
    if warning:
        ctx.reporter.log(f"{stage}: {warning}", "warning")
    return None


def _t5_measures(
    ctx: UnlearnContext, model: torch.nn.Module, rows: np.ndarray, n: int, prefix: str
) -> dict[str, float]:
    """The T5's own grouped figures (same protocol): the main memory alone, or a T5 retrained."""
    ds, device = ctx.dataset, ctx.device
    scorer = ContextScorer(
        model,
        torch.as_tensor(serving_contexts(ds, rows, n), device=device),
        known_mask(ds.users[rows], ds.n_users, device),
        popularity_of(ds.items[rows], ds.n_items, device),
    )
    measured = evaluate_model(scorer, ctx.targets)
    out = {
        f"{prefix}/{g}/{m}": v for g, ms in measured.groups.items() for m, v in ms.items() if m in ("hit@10", "ndcg@10")
    }
    out[f"{prefix}/forgotten_recall@10"] = measured.forgotten_recall["forgotten_recall@10"]
    return out


def prepare(ctx: UnlearnContext, params: dict) -> DualPrepared:
    """Train (or load) the main memory on all of train; optionally a T5 retrained on retained rows."""
    cfg = main_config(params, ctx.seed)
    ds, split = ctx.dataset, ctx.split
    main, cached = _train_or_load(ctx, cfg, split.train, split.valid, (), "main memory", params["use_cache"])
    contexts = serving_contexts(ds, split.train, cfg.history_len)
    extras = {"main_parameters": float(count_parameters(main.parameters()))}
    notes = ["main memory loaded from cache"] if cached else []
    extras.update(_t5_measures(ctx, main, split.train, cfg.history_len, "t5_main"))
    if params["reference_retrain"]:
        retrained, _ = _train_or_load(
            ctx,
            cfg,
            ctx.retained_rows,
            ctx.retrain_valid_rows,
            (ctx.request.as_dict(),),
            "T5 retrained",
            params["use_cache"],
        )
        extras.update(_t5_measures(ctx, retrained, ctx.retained_rows, cfg.history_len, "t5_retrain"))
        notes.append(
            "t5_retrain/*: the same T5 retrained from scratch on retained rows (this method's own gold standard)"
        )
    return DualPrepared(main=main, contexts=contexts, config=cfg, extras=extras, notes=notes)


def side_memory_examples(ctx: UnlearnContext, contexts: np.ndarray, n: int) -> tuple[Examples, Examples]:
    """(forget, retain) examples of the side memory; targets are train rows only.

    Each forgotten interaction appears twice: in the input its user's request carries
    (what the router will hand the side memory) and in the context it was learned in.
    """
    ds, split = ctx.dataset, ctx.split
    removed = ctx.removed_rows
    users, items = ds.users[removed], ds.items[removed]
    served = Examples(contexts[users], items, users, removed)
    learned = Examples(prefix_contexts(ds, split.train, removed, n), items, users, removed)
    forget = Examples.concat([served, learned])
    retain = next_item_examples(ds, ctx.retained_rows, n)
    for name, ex in (("forget", forget), ("retain", retain)):
        if not np.isin(ex.rows, split.train).all():  # the guarantee "no test item is a target"
            raise AssertionError(f"side-memory {name} targets outside the training rows")
    return forget, retain


@torch.no_grad()
def forced_overlap(scorer: DualMemoryScorer, users: np.ndarray, seen: RowSets, k: int = 10, limit: int = 2000) -> float:
    """Mean top-``k`` overlap between main and side memory for ``users`` (at most ``limit``).

    What a retained user would lose if the router sent them to the side memory by
    mistake: the collateral damage the router is there to prevent.
    """
    users = np.asarray(users, dtype=np.int64)[:limit]
    if len(users) == 0:
        return float("nan")
    ctx = scorer.contexts[torch.as_tensor(users, device=scorer.device)]
    banned = seen.dense(users, scorer.device)
    side = torch.topk(item_log_probs(scorer.model, ctx).masked_fill(banned, float("-inf")), k).indices
    with scorer.model.disable_adapter():
        main = torch.topk(item_log_probs(scorer.model, ctx).masked_fill(banned, float("-inf")), k).indices
    shared = (side[:, :, None] == main[:, None, :]).any(dim=2).float().sum(dim=1)
    return float((shared / k).mean())


def unlearn(ctx: UnlearnContext, params: dict, prepared: DualPrepared) -> UnlearnOutcome:
    ds, split, device = ctx.dataset, ctx.split, ctx.device
    n = prepared.config.history_len
    cfg = side_config(params, ctx.seed)
    try:
        model = attach_side_memory(prepared.main, cfg)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    forget, retain = side_memory_examples(ctx, prepared.contexts, n)
    retained_users = np.setdiff1d(np.unique(ds.users[ctx.retained_rows]), ctx.request.forget_users)
    seen = RowSets.from_rows(ds, split.train)
    ctx.reporter.log(
        f"side memory: {len(forget)} forget examples ({len(ctx.removed_rows)} interactions), "
        f"{len(retain)} retain examples, {len(retained_users)} retained users for stability"
    )
    terms = train_side_memory(model, forget, retain, prepared.contexts[retained_users], seen, cfg, device, ctx.reporter)

    # Router: request-time features only (history, forget registry, main-memory embeddings).
    history = ds.matrix(split.train)
    train_counts = ds.item_counts(split.train).astype(np.float64)
    forget_share = ds.item_counts(ctx.removed_rows) / np.maximum(train_counts, 1.0)
    embeddings = prepared.main.get_input_embeddings().weight.detach().float().cpu().numpy()[ITEM_OFFSET:]
    features = request_features(history, forget_share, ctx.request.forget_items, prepared.contexts, embeddings)
    candidates = np.unique(ds.users[split.train])
    try:
        router, held_out = fit_router(
            features,
            candidates,
            ctx.request.forget_users,
            holdout=params["router_holdout"],
            threshold=params["router_threshold"],
            seed=ctx.seed,
        )
    except ValueError as exc:
        raise ConfigError(f"dual memory: {exc}") from None

    scorer = DualMemoryScorer(
        model,
        torch.as_tensor(prepared.contexts, device=device),
        torch.as_tensor(features, device=device),
        router,
        known_mask(ds.users[split.train], ds.n_users, device),
        popularity_of(ds.items[split.train], ds.n_items, device),
    )
    extras = dict(prepared.extras)
    extras.update({f"router_{k}": v for k, v in router.held_out.items()})
    for name in ("retain", "forget", "similar"):
        users = ctx.groups.get(name)
        if len(users):
            extras[f"routed_share/{name}"] = float(scorer.routes(torch.as_tensor(users)).float().mean())
    everyone = router_quality(router, features, candidates, ctx.request.forget_users)
    extras["router_precision_all_users"] = everyone["precision"]
    extras["router_recall_all_users"] = everyone["recall"]
    extras["side_forced_top10_overlap/retain"] = forced_overlap(scorer, ctx.groups.get("retain"), seen)
    extras["side_parameters"] = float(count_parameters(lora_parameters(model)))
    extras.update({f"side_loss/{k}": v for k, v in terms.items()})
    notes = list(prepared.notes) + [
        f"router held-out ({len(held_out)} users): precision {router.held_out['precision']:.3f}, "
        f"recall {router.held_out['recall']:.3f}; evaluation is served by the router's decisions",
        f"side memory forced on for every retained user would keep {extras['side_forced_top10_overlap/retain']:.2f} "
        "of their top-10: the router, not the side memory, protects retained users",
        "base/retrain are the experiment's own architecture; t5_main/* (and t5_retrain/*) give the "
        "generative recommender's own figures under the same protocol",
    ]
    return UnlearnOutcome(model=scorer, extras=extras, notes=notes)
