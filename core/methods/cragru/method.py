"""CRAGRU registered as a method: parameters, ``prepare`` (timed apart) and ``unlearn``.

``prepare`` builds the serving system as it stood before the request: item clusters
(cached), the retrieval store over *all* training rows, the LLM backend, the diversity
ratios (knapsack on validation data) and the fusion weight (validation data again,
whose LLM answers are cached and reused at evaluation because those users' prompts do
not change). ``unlearn`` — the timed step — deletes the request's rows from the store,
purges the affected users' caches and runs the erasure audit: milliseconds, no model
trained. The LLM then ranks lazily, for the users the evaluator asks about.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core.errors import ConfigError, CragruError
from core.methods.cragru.audit import audit_erasure
from core.methods.cragru.backends import make_backend
from core.methods.cragru.clusters import cached_item_clusters
from core.methods.cragru.prompts import PromptBuilder, user_profiles
from core.methods.cragru.scorer import CragruScorer
from core.methods.cragru.state import CragruState
from core.methods.cragru.store import RetrievalStore
from core.methods.cragru.strategies import STRATEGIES
from core.methods.cragru.tuning import choose_fusion, choose_ratios, truth_sets, tuning_users
from core.methods.registry import MethodSpec, ParamSpec, UnlearnContext, UnlearnOutcome, register

CPU_EVAL_USERS = 40
CPU_BATCH, GPU_BATCH = 4, 64


@dataclass
class CragruPrepared:
    state: CragruState
    eval_users: dict[str, np.ndarray]
    extras: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def resolved_sample_size(params: dict, device: torch.device) -> int:
    """Users per group the LLM ranks: -1 = auto (everyone on a GPU, 40 on a CPU)."""
    n = params["eval_users_per_group"]
    if n < 0:
        return 0 if device.type == "cuda" else CPU_EVAL_USERS
    return n


def build_state(ctx: UnlearnContext, params: dict, backend=None) -> tuple[CragruState, dict[str, float], list[str]]:
    """The pre-request serving system (no tuning): clusters, store, prompts, backend."""
    ds, split, device = ctx.dataset, ctx.split, ctx.device
    extras: dict[str, float] = {}
    notes: list[str] = []
    t = time.perf_counter()
    clusters, cached = cached_item_clusters(
        ds, split.as_dict(), split.train, use_cache=params["use_cache"], k=params["clusters"],
        dim=params["w2v_dim"], epochs=params["w2v_epochs"], seed=ctx.seed)
    extras["clusters_s"] = time.perf_counter() - t
    extras["clusters_from_cache"] = float(cached)
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
    builder = PromptBuilder(ds, backend.count_tokens, mode=params["mode"], template=params["prompt_template"],
                            title_words=params["title_words"], max_tokens=params["max_prompt_tokens"])
    item_emb = None
    if params["strategy"] == "attention":
        if not hasattr(ctx.base_model, "embeddings"):
            raise ConfigError("cragru: the attention-aware strategy needs a base model with item embeddings")
        with torch.no_grad():
            item_emb = ctx.base_model.embeddings()[1].detach().float().cpu().numpy()
    state = CragruState(
        store=store, clusters=clusters, base=ctx.base_model, builder=builder, backend=backend,
        strategy=params["strategy"], budget=params["history_budget"], n_candidates=params["candidates"],
        mode=params["mode"], item_embeddings=item_emb, candidate_source=params["forgotten_candidates"],
        gen_retries=params["gen_retries"], gen_max_new_tokens=params["gen_max_new_tokens"], reporter=ctx.reporter,
        fusion_weight=params["fusion_weight"] if params["fusion_weight"] >= 0 else 1.0,
    )
    return state, extras, notes


def _prepare(ctx: UnlearnContext, params: dict, backend=None) -> CragruPrepared:
    ds, split = ctx.dataset, ctx.split
    ctx.reporter.log("cragru: building the retrieval store, item clusters and LLM backend")
    state, extras, notes = build_state(ctx, params, backend)
    exclude = ctx.request.forget_users
    has_history = np.bincount(ds.users[split.train], minlength=ds.n_users) > 0

    if params["strategy"] == "diversity":
        how = params["knapsack_values"]
        if how == "auto":
            how = "llm" if ctx.device.type == "cuda" and params["backend"] == "local" else "proxy"
        t = time.perf_counter()
        users = tuning_users(ds, split.valid, exclude, params["knapsack_users"], ctx.seed, has_history)
        truth = truth_sets(ds, split.valid, users)
        state.ratios, table, value = choose_ratios(state, users, truth, params["knapsack_levels"], how)
        extras["knapsack_s"] = time.perf_counter() - t
        extras["knapsack_users"] = float(len(users))
        extras["knapsack_value"] = value
        extras["knapsack_llm_prompts"] = float(state.tuning_llm_prompts)
        for c, r in enumerate(state.ratios):
            extras[f"ratio/cluster{c}"] = float(r)
        notes.append(f"diversity ratios {np.round(state.ratios, 2).tolist()} chosen by knapsack on validation hit@10 "
                     f"({how} ranker, {len(users)} users)")

    eval_users = ctx.eval_sample(resolved_sample_size(params, ctx.device))

    if params["fusion_weight"] < 0:
        t = time.perf_counter()
        users = eval_users["retain"]
        users = users[np.isin(users, np.unique(ds.users[split.valid]))]
        truth = truth_sets(ds, split.valid, users)
        state.fusion_weight, table = choose_fusion(state, users, truth)
        extras["fusion_tuning_s"] = time.perf_counter() - t
        extras["fusion_users"] = float(len(users))
        if table:
            for w in (0.0, state.fusion_weight, 1.0):
                extras[f"valid_hit@10/lambda={w:g}"] = table[w][0]
                extras[f"valid_ndcg@10/lambda={w:g}"] = table[w][1]
        notes.append(f"fusion weight λ={state.fusion_weight:g} (1 = LLM only, 0 = base only) chosen on validation "
                     f"items of {len(users)} retained users; their LLM answers are reused at evaluation")
    extras["fusion_weight"] = float(state.fusion_weight)
    return CragruPrepared(state=state, eval_users=eval_users, extras=extras, notes=notes)


def _unlearn(ctx: UnlearnContext, params: dict, prep: CragruPrepared) -> UnlearnOutcome:
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

    sizes = {k: len(v) for k, v in prep.eval_users.items()}
    per_group = resolved_sample_size(params, ctx.device)
    extras = dict(prep.extras)
    extras.update({
        "deletion_ms": report.seconds * 1000.0,
        "rows_deleted": float(report.rows_deleted),
        "users_affected": float(report.users_affected),
        "cache_entries_purged": float(report.entries_purged),
        "audit_findings": float(len(findings)),
        "audit_ms": audit_s * 1000.0,
        "eval_users_per_group": float(per_group),
        **{f"eval_sample/{k}": float(v) for k, v in sizes.items()},
        "history_budget": float(params["history_budget"]),
        "candidates": float(params["candidates"]),
    })
    source = params["forgotten_candidates"]
    notes = list(prep.notes) + [
        f"strategy {params['strategy']}, {params['mode']} mode, LLM {state.backend.name}",
        f"unlearning deleted {report.rows_deleted} rows from the retrieval store in {report.seconds * 1000:.1f} ms and "
        f"purged {report.entries_purged} cached entries of {report.users_affected} users; the erasure audit found none left",
        "LLM ranks the base model's top-"
        f"{params['candidates']} for a user sample ({', '.join(f'{k} {v}' for k, v in sizes.items())}); "
        "other users keep the base order",
        "candidates come from the base model, which is not retrained: its memory of forgotten data is what "
        "forgotten-item recall measures",
    ]
    if user_level:
        notes.append(f"forgotten users' candidates come from {'retained popularity' if source == 'popularity' else 'the base model'}"
                     + ("; their profiles were deleted too" if params["forget_profile"] else ""))
    notes.append("item clusters were fitted on all training rows before the request and are not refitted")
    scorer = CragruScorer(prep.state, prep.eval_users)
    return UnlearnOutcome(model=scorer, extras=extras, notes=notes, eval_sample=prep.eval_users,
                          late_extras=scorer.late_extras)


P = ParamSpec
PARAMS = (
    P("strategy", str, "diversity", "How history is retrieved for the prompt: preference (per-cluster quotas as the "
      "user's own shares), diversity (per-cluster ratios chosen by a knapsack on validation hit@10), attention "
      "(history weighted by the candidates' attention, base-model item embeddings), recent, or none (no history: "
      "the ablation showing what retrieval adds).",
      choices=STRATEGIES, label="Retrieval strategy"),
    P("history_budget", int, 10, "Most history items in a prompt.", 1, 200, label="History budget"),
    P("candidates", int, 20, "Base model's top-N that the LLM ranks per user.", 2, 200, label="Candidates"),
    P("clusters", int, 5, "Item clusters (KMeans on locally trained Word2Vec item vectors).", 1, 100, label="Clusters (K)"),
    P("w2v_dim", int, 32, "Word2Vec vector size.", 4, 512, label="Word2Vec size"),
    P("w2v_epochs", int, 10, "Word2Vec epochs.", 1, 200, label="Word2Vec epochs"),
    P("knapsack_values", str, "auto", "How the knapsack's validation hit@10 per (cluster, ratio) is measured: llm "
      "(exact, one LLM call per user·cluster·level), proxy (Word2Vec similarity stand-in, fast) or auto (llm on a GPU).",
      choices=("auto", "llm", "proxy"), label="Knapsack values"),
    P("knapsack_users", int, 200, "Validation users measuring the knapsack values (0 = all).", 0, 1_000_000,
      label="Knapsack users"),
    P("knapsack_levels", int, 10, "Ratio levels per cluster: 5 %, 10 %, … of the budget.", 1, 20, label="Ratio levels"),
    P("mode", str, "scoring", "scoring: rank candidates by the LLM's log-likelihood of their titles (deterministic); "
      "generate: the LLM writes a JSON ranking (parsed and repaired; base order as last resort).",
      choices=("scoring", "generate"), label="Generation mode"),
    P("fusion_weight", float, -1.0, "λ blending LLM and base ranks (1 = LLM only, 0 = base only); -1 chooses it on "
      "validation data.", -1.0, 1.0, label="Fusion λ"),
    P("forgotten_candidates", str, "popularity", "Where a user forgotten by a user-level request gets candidates: "
      "retained popularity (nothing of theirs is used) or the base model (as the paper; keeps its memory).",
      choices=("popularity", "base"), label="Forgotten users' candidates"),
    P("forget_profile", bool, True, "A user-level request deletes the users' profiles from prompts too.",
      label="Forget profiles"),
    P("profile_fields", str, "age,occupation", "User fields in the profile sentence (gender only if listed).",
      label="Profile fields"),
    P("prompt_template", str, "", "Prompt template with {profile}, {history}, {candidates}, {instruction}, {noun}; "
      "empty = the default.", label="Prompt template"),
    P("max_prompt_tokens", int, 640, "Token budget of a prompt: low-priority history lines are dropped to fit.",
      64, 32768, label="Prompt tokens"),
    P("title_words", int, 6, "Words kept of each title.", 1, 50, label="Title words"),
    P("gen_retries", int, 2, "Retries (seeded sampling) when generated output does not parse.", 0, 10,
      label="Generation retries"),
    P("gen_max_new_tokens", int, 0, "Tokens to generate (0 = 8 per candidate + 16).", 0, 8192, label="Max new tokens"),
    P("eval_users_per_group", int, -1, "Users per group (retain, forget, similar, forgotten) the LLM ranks for "
      "evaluation; 0 = all; -1 = auto (all on a GPU, 40 on a CPU).", -1, 1_000_000, label="Evaluation users per group"),
    P("backend", str, "local", "local: a transformers model in this process; http: an OpenAI-compatible server.",
      choices=("local", "http"), label="LLM backend"),
    P("llm_path", str, "", "Local model: a .gguf file or Hugging Face folder; empty = the bundled SmolLM2-135M-Instruct.",
      label="LLM"),
    P("llm_batch_size", int, 0, "Users per forward pass (0 = 64 on a GPU, 4 on a CPU).", 0, 4096, label="LLM batch"),
    P("http_base_url", str, "", "OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1.", label="HTTP base URL"),
    P("http_model", str, "", "Model name sent to the HTTP server.", label="HTTP model"),
    P("http_api_key_env", str, "OPENAI_API_KEY", "Name of the environment variable holding the API key (the key "
      "itself is never stored).", label="API key variable"),
    P("http_timeout_s", float, 60.0, "Seconds before an HTTP request times out.", 1.0, 3600.0, label="HTTP timeout"),
    P("use_cache", bool, True, "Reuse item clusters fitted earlier for the same data and split.", label="Cache clusters"),
)

SPEC = register(
    MethodSpec(
        name="cragru",
        label="CRAGRU (retrieval-augmented LLM re-ranking)",
        description=(
            "An LLM ranks the base model's top candidates from a prompt holding the user's profile and a "
            "retrieved subset of their retained history (preference-, diversity- or attention-aware "
            "retrieval, arXiv 2511.05494). Unlearning deletes rows from the retrieval store: no model "
            "is retrained, it takes milliseconds and other users' prompts stay the same."
        ),
        params=PARAMS,
        unlearn=_unlearn,
        prepare=_prepare,
        family="llm",
    )
)
