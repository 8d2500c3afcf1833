"""CRAGRU's ``prepare`` (timed apart) and ``unlearn`` (the method's cost).

``prepare`` builds the serving system as it stood before the request: item clusters
(cached), the retrieval store over *all* training rows, the LLM backend, the diversity
ratios (knapsack on validation data) and the fusion weight (validation data again).
Both choices are made on users disjoint from the evaluation sample
(:func:`~core.methods.cragru.tuning.split_tuning_users`). ``unlearn`` deletes the
request's rows from the store, purges the affected users' caches and runs the erasure
audit: milliseconds, no model trained. The LLM then ranks lazily, for the users the
evaluator asks about.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core.errors import ConfigError, CragruError
from core.evaluation.grouped import EvalSample
from core.llm.answer_store import model_identity, store_for
from core.methods.cragru.audit import audit_erasure
from core.methods.cragru.backends import LocalBackend, make_backend
from core.methods.cragru.clusters import cached_item_clusters
from core.methods.cragru.prompts import PromptBuilder, user_profiles
from core.methods.cragru.scorer import CragruScorer
from core.methods.cragru.state import CragruState
from core.methods.cragru.store import RetrievalStore
from core.methods.cragru.tuning import DEFAULT_HELD_OUT, choose_fusion, choose_ratios, split_tuning_users, truth_sets
from core.methods.registry import UnlearnContext, UnlearnOutcome
from core.models.base import EmbeddingModel

CPU_EVAL_USERS = 40
SMALL_DATA_USERS, SMALL_DATA_EVAL_USERS = 1000, 4
"""On a CPU, data of at most this many users (the built-in demo has 300) gets the demo's
sample: 4 users a group, so a live demo with every method ticked stays near a minute
(the sample size is printed next to the figures)."""
CPU_BATCH, GPU_BATCH = 4, 64


@dataclass
class CragruPrepared:
    state: CragruState
    eval_users: EvalSample
    tuning_users: np.ndarray  # never in ``eval_users``
    extras: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def resolved_sample_size(params: dict, device: torch.device, n_users: int | None = None) -> int:
    """Users per group the LLM ranks: -1 = auto (everyone on a GPU; on a CPU 40, or 4 on
    data of at most 1,000 users such as the demo)."""
    n = params["eval_users_per_group"]
    if n < 0:
        if device.type == "cuda":
            return 0
        small = n_users is not None and n_users <= SMALL_DATA_USERS
        return SMALL_DATA_EVAL_USERS if small else CPU_EVAL_USERS
    return n


def build_state(ctx: UnlearnContext, params: dict, backend=None) -> tuple[CragruState, dict[str, float], list[str]]:
    """The pre-request serving system (no tuning): clusters, store, prompts, backend."""
    ds, split, device = ctx.dataset, ctx.split, ctx.device
    extras: dict[str, float] = {}
    notes: list[str] = []
    t = time.perf_counter()
    clusters, cached = cached_item_clusters(
        ds,
        split.as_dict(),
        split.train,
        use_cache=params["use_cache"],
        reporter=ctx.reporter.sub(0.0, 0.1),
        k=params["clusters"],
        dim=params["w2v_dim"],
        epochs=params["w2v_epochs"],
        seed=ctx.seed,
    )
    extras["clusters_s"] = time.perf_counter() - t
    extras["clusters_from_cache"] = float(cached)
    if cached:  # the cost verdict judges the first-time set-up: what the reused part took then
        extras["setup_cached_s"] = extras["clusters_s"]
        extras["setup_first_s"] = clusters.fit_s
    extras["clusters"] = float(clusters.k)
    fields = tuple(f.strip() for f in params["profile_fields"].split(",") if f.strip())
    store = RetrievalStore(ds, split.train, user_profiles(ds, fields))
    if backend is None:
        t = time.perf_counter()
        params = dict(params)
        if params["llm_batch_size"] <= 0:
            params["llm_batch_size"] = GPU_BATCH if device.type == "cuda" else CPU_BATCH
        backend = make_backend(params, device, ctx.seed)
        extras["llm_load_s"] = time.perf_counter() - t
        for level, note in getattr(getattr(backend, "llm", None), "notes", ()):
            ctx.reporter.log(f"cragru: {note}", level)
    builder = PromptBuilder(
        ds,
        backend.count_tokens,
        mode=params["mode"],
        template=params["prompt_template"],
        title_words=params["title_words"],
        max_tokens=params["max_prompt_tokens"],
    )
    item_emb = None
    if params["strategy"] == "attention":
        if not isinstance(ctx.base_model, EmbeddingModel):
            raise ConfigError("cragru: the attention-aware strategy needs a base model with item embeddings")
        with torch.no_grad():
            item_emb = ctx.base_model.embeddings()[1].detach().float().cpu().numpy()
    state = CragruState(
        store=store,
        clusters=clusters,
        base=ctx.base_model,
        builder=builder,
        backend=backend,
        strategy=params["strategy"],
        budget=params["history_budget"],
        n_candidates=params["candidates"],
        mode=params["mode"],
        item_embeddings=item_emb,
        candidate_source=params["forgotten_candidates"],
        gen_retries=params["gen_retries"],
        gen_max_new_tokens=params["gen_max_new_tokens"],
        reporter=ctx.reporter,
        fusion_weight=params["fusion_weight"] if params["fusion_weight"] >= 0 else 1.0,
    )
    if params["use_cache"] and ctx.use_cache and isinstance(backend, LocalBackend):
        llm = backend.llm
        identity = model_identity(llm.source, llm.device, llm.dtype, "cragru scores", backend.max_candidate_tokens)
        state.answer_store = store_for(identity)
    return state, extras, notes


def prepare(ctx: UnlearnContext, params: dict, backend=None) -> CragruPrepared:
    """The pre-request serving system, with its choices tuned on non-evaluated users."""
    ctx.reporter.log("cragru: building the retrieval store, item clusters and LLM backend")
    state, extras, notes = build_state(ctx, params, backend)
    eval_users = ctx.eval_sample(resolved_sample_size(params, ctx.device, ctx.dataset.n_users))
    tuning = np.zeros(0, np.int64)
    n_knapsack, n_fusion = _tuning_sizes(params, ctx.device, ctx.dataset.n_users)
    if n_knapsack is not None or n_fusion is not None:
        n = 0 if 0 in (n_knapsack, n_fusion) else max(n_knapsack or 0, n_fusion or 0)
        shared = eval_users
        tuning, eval_users = split_tuning_users(_tuning_pool(ctx), shared, n, ctx.seed)
        extras["tuning_users"] = float(len(tuning))
        held_out = int(np.isin(tuning, np.concatenate(list(shared.values()))).sum())
        if held_out:
            notes.append(
                f"{held_out} tuning users were held out of the evaluation sample (too few users outside "
                "it), so no choice is tuned on an evaluated user"
            )
    if n_knapsack is not None:
        _tune_ratios(ctx, params, state, tuning[:n_knapsack] if n_knapsack else tuning, extras, notes)
    if n_fusion is not None:
        _tune_fusion(ctx, state, tuning[:n_fusion] if n_fusion else tuning, extras, notes)
    extras["fusion_weight"] = float(state.fusion_weight)
    return CragruPrepared(state=state, eval_users=eval_users, tuning_users=tuning, extras=extras, notes=notes)


def _tuning_sizes(params: dict, device: torch.device, n_users: int | None = None) -> tuple[int | None, int | None]:
    """Tuning users of the knapsack and of λ (None: that choice is not tuned)."""
    n_knapsack = params["knapsack_users"] if params["strategy"] == "diversity" else None
    n_fusion = None
    if params["fusion_weight"] < 0:
        per_group = resolved_sample_size(params, device, n_users)
        n_fusion = params["fusion_users"] if params["fusion_users"] >= 0 else (per_group or DEFAULT_HELD_OUT)
    return n_knapsack, n_fusion


def _tuning_pool(ctx: UnlearnContext) -> np.ndarray:
    """Users that may be tuned on: validation rows outside the request, training history."""
    ds = ctx.dataset
    users = np.unique(ds.users[ctx.retrain_valid_rows])
    has_history = np.bincount(ds.users[ctx.split.train], minlength=ds.n_users) > 0
    return users[has_history[users]]


def _tune_ratios(
    ctx: UnlearnContext, params: dict, state: CragruState, users: np.ndarray, extras: dict[str, float], notes: list[str]
) -> None:
    """The diversity strategy's per-cluster ratios: knapsack on validation hit@10."""
    how = params["knapsack_values"]
    if how == "auto":
        how = "llm" if ctx.device.type == "cuda" and params["backend"] == "local" else "proxy"
    t = time.perf_counter()
    truth = truth_sets(ctx.dataset, ctx.retrain_valid_rows, users)
    state.ratios, _, value = choose_ratios(state, users, truth, params["knapsack_levels"], how)
    extras["knapsack_s"] = time.perf_counter() - t
    extras["knapsack_users"] = float(len(users))
    extras["knapsack_value"] = value
    extras["knapsack_llm_prompts"] = float(state.tuning_llm_prompts)
    for c, r in enumerate(state.ratios):
        extras[f"ratio/cluster{c}"] = float(r)
    notes.append(
        f"diversity ratios {np.round(state.ratios, 2).tolist()} chosen by knapsack on validation hit@10 "
        f"({how} ranker, {len(users)} users none of whom is evaluated)"
    )


def _tune_fusion(
    ctx: UnlearnContext, state: CragruState, users: np.ndarray, extras: dict[str, float], notes: list[str]
) -> None:
    """λ on validation items of ``users`` (disjoint from the evaluated users)."""
    t = time.perf_counter()
    truth = truth_sets(ctx.dataset, ctx.retrain_valid_rows, users)
    state.fusion_weight, table = choose_fusion(state, users, truth)
    extras["fusion_tuning_s"] = time.perf_counter() - t
    extras["fusion_users"] = float(len(users))
    for w in (0.0, state.fusion_weight, 1.0) if table else ():
        extras[f"valid_hit@10/lambda={w:g}"] = table[w][0]
        extras[f"valid_ndcg@10/lambda={w:g}"] = table[w][1]
    notes.append(
        f"fusion weight λ={state.fusion_weight:g} (1 = LLM only, 0 = base only) chosen on validation "
        f"items of {len(users)} retained users none of whom is evaluated"
    )


def unlearn(ctx: UnlearnContext, params: dict, prep: CragruPrepared) -> UnlearnOutcome:
    """Delete the request's rows from the store, purge caches, prove nothing is left."""
    state = prep.state
    state.reporter = ctx.reporter
    user_level = ctx.request.request.kind == "users"
    forgotten = ctx.request.target_users if user_level else None
    report = state.delete(ctx.removed_rows, forgotten, forget_profiles=params["forget_profile"])
    t = time.perf_counter()
    findings = audit_erasure(state, ctx.request, profiles=params["forget_profile"])
    audit_s = time.perf_counter() - t
    if findings:
        shown = ", ".join(f"{f.location}:row {f.row} (user {f.user})" for f in findings[:5])
        raise CragruError(f"cragru: erasure audit found {len(findings)} trace(s) after deletion: {shown}")
    extras = dict(prep.extras)
    extras.update(
        {
            "deletion_ms": report.seconds * 1000.0,
            "rows_deleted": float(report.rows_deleted),
            "users_affected": float(report.users_affected),
            "cache_entries_purged": float(report.entries_purged),
            "audit_findings": float(len(findings)),
            "audit_ms": audit_s * 1000.0,
            "eval_users_per_group": float(resolved_sample_size(params, ctx.device, ctx.dataset.n_users)),
            **{f"eval_sample/{k}": float(len(v)) for k, v in prep.eval_users.items()},
            "history_budget": float(params["history_budget"]),
            "candidates": float(params["candidates"]),
        }
    )
    scorer = CragruScorer(prep.state, prep.eval_users)
    return UnlearnOutcome(
        model=scorer,
        extras=extras,
        notes=_notes(ctx, params, prep, report),
        eval_sample=prep.eval_users,
        late_extras=scorer.late_extras,
        fold_in_model=ctx.base_model,
    )  # candidates come from the kept base model


def _notes(ctx: UnlearnContext, params: dict, prep: CragruPrepared, report) -> list[str]:
    sizes = ", ".join(f"{k} {len(v)}" for k, v in prep.eval_users.items())
    notes = list(prep.notes) + [
        f"strategy {params['strategy']}, {params['mode']} mode, LLM {prep.state.backend.name}",
        f"unlearning deleted {report.rows_deleted} rows from the retrieval store in {report.seconds * 1000:.1f} ms and "
        f"purged {report.entries_purged} cached entries of {report.users_affected} users; "
        "the erasure audit found none left",
        f"LLM ranks the base model's top-{params['candidates']} for a user sample ({sizes}); "
        "other users keep the base order",
        "candidates come from the base model, which is not retrained: its memory of forgotten data is what "
        "forgotten-item recall measures",
    ]
    if ctx.request.request.kind == "users":
        source = "retained popularity" if params["forgotten_candidates"] == "popularity" else "the base model"
        notes.append(
            f"forgotten users' candidates come from {source}"
            + ("; their profiles were deleted too" if params["forget_profile"] else "")
        )
    notes.append("item clusters were fitted on all training rows before the request and are not refitted")
    return notes
