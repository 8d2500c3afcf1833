"""CRAGRU (arXiv 2511.05494): recommendation unlearning by retrieval-augmented generation.

Recommendations come in two stages. *Retrieval* picks a small, informative subset of a
user's retained training interactions from the retrieval store (:mod:`.strategies`,
with item clusters from :mod:`.clusters` and knapsack-chosen ratios from
:mod:`.knapsack`/:mod:`.tuning`); *generation* gives an LLM (:mod:`.backends`) a prompt
(:mod:`.prompts`) with the user's profile, that history and the base recommender's
top-N candidates, and the LLM ranks them by likelihood (:mod:`.scoring`) or by writing
JSON (:mod:`.generation_parse`), optionally fused with the base order (:mod:`.fusion`).

Unlearning deletes rows from the store (:mod:`.store`) and purges the caches derived
from them (:mod:`.state`); :func:`.audit.audit_erasure` proves nothing is left.
``prepare`` and ``unlearn`` live in :mod:`.method` (imported on first use).
"""

from __future__ import annotations

from core.methods.cragru.prompts import parse_template, profile_field_names
from core.methods.cragru.strategies import STRATEGIES
from core.methods.registry import MethodSpec, ParamSpec, deferred, register

prepare, unlearn = deferred("core.methods.cragru.method")


def _check(params: dict) -> None:
    """The prompt template, profile fields and HTTP settings, refused before any stage runs."""
    from core.methods.cragru.http_answer import check_http_params

    parse_template(params["prompt_template"])
    profile_field_names(params["profile_fields"])
    check_http_params(params)  # backend=http needs its URL and model; the key must be a header value


P = ParamSpec
PARAMS = (
    P(
        "strategy",
        str,
        "diversity",
        "How history is retrieved for the prompt: preference (per-cluster quotas as the "
        "user's own shares), diversity (per-cluster ratios chosen by a knapsack on validation hit@10), attention "
        "(history weighted by the candidates' attention, base-model item embeddings), recent, or none (no history: "
        "the ablation showing what retrieval adds).",
        choices=STRATEGIES,
        label="Retrieval strategy",
    ),
    P("history_budget", int, 10, "Most history items in a prompt.", 1, 200, label="History budget"),
    P("candidates", int, 20, "Base model's top-N that the LLM ranks per user.", 2, 200, label="Candidates"),
    P(
        "clusters",
        int,
        5,
        "Item clusters (KMeans on locally trained Word2Vec item vectors).",
        1,
        100,
        label="Clusters (K)",
    ),
    P("w2v_dim", int, 32, "Word2Vec vector size.", 4, 512, label="Word2Vec size"),
    P("w2v_epochs", int, 10, "Word2Vec epochs.", 1, 200, label="Word2Vec epochs"),
    P(
        "knapsack_values",
        str,
        "auto",
        "How the knapsack's validation hit@10 per (cluster, ratio) is measured: llm "
        "(exact, one LLM call per user·cluster·level), proxy (Word2Vec similarity stand-in, fast) "
        "or auto (llm on a GPU).",
        choices=("auto", "llm", "proxy"),
        label="Knapsack values",
    ),
    P(
        "knapsack_users",
        int,
        200,
        "Validation users measuring the knapsack values (0 = every retained user outside "
        "the evaluation sample); never a user the method is evaluated on.",
        0,
        1_000_000,
        label="Knapsack users",
    ),
    P("knapsack_levels", int, 10, "Ratio levels per cluster: 5 %, 10 %, … of the budget.", 1, 20, label="Ratio levels"),
    P(
        "mode",
        str,
        "scoring",
        "scoring: rank candidates by the LLM's log-likelihood of their titles (deterministic); "
        "generate: the LLM writes a JSON ranking (parsed and repaired; base order as last resort).",
        choices=("scoring", "generate"),
        label="Generation mode",
    ),
    P(
        "fusion_weight",
        float,
        -1.0,
        "λ blending LLM and base ranks (1 = LLM only, 0 = base only); -1 chooses it on "
        "validation data of users the method is not evaluated on.",
        -1.0,
        1.0,
        label="Fusion λ",
    ),
    P(
        "fusion_users",
        int,
        -1,
        "Validation users λ is chosen on, never a user the method is evaluated on (0 = every "
        "retained user outside the evaluation sample; -1 = auto: as many as the sample has per group, or 200 held out "
        "of the evaluation when it covers everyone).",
        -1,
        1_000_000,
        label="Fusion tuning users",
    ),
    P(
        "forgotten_candidates",
        str,
        "popularity",
        "Where a user forgotten by a user-level request gets candidates: "
        "retained popularity (nothing of theirs is used) or the base model (as the paper; keeps its memory).",
        choices=("popularity", "base"),
        label="Forgotten users' candidates",
    ),
    P(
        "forget_profile",
        bool,
        True,
        "A user-level request deletes the users' profiles from prompts too.",
        label="Forget profiles",
    ),
    P(
        "profile_fields",
        str,
        "age,occupation",
        "User fields in the profile sentence (gender only if listed).",
        label="Profile fields",
    ),
    P(
        "prompt_template",
        str,
        "",
        "Prompt template with {profile}, {history}, {candidates}, {instruction}, {noun}; empty = the default.",
        label="Prompt template",
    ),
    P(
        "max_prompt_tokens",
        int,
        640,
        "Token budget of a prompt: low-priority history lines are dropped to fit.",
        64,
        32768,
        label="Prompt tokens",
    ),
    P("title_words", int, 6, "Words kept of each title.", 1, 50, label="Title words"),
    P(
        "gen_retries",
        int,
        2,
        "Retries (seeded sampling) when generated output does not parse.",
        0,
        10,
        label="Generation retries",
    ),
    P("gen_max_new_tokens", int, 0, "Tokens to generate (0 = 8 per candidate + 16).", 0, 8192, label="Max new tokens"),
    P(
        "eval_users_per_group",
        int,
        -1,
        "Users per group (retain, forget, similar, forgotten) the LLM ranks for "
        "evaluation; 0 = all; -1 = auto (all on a GPU; on a CPU 40, or 4 on data of at most 1,000 users such as the "
        "demo, so a live demo stays near a minute; the sample size is shown beside the figures).",
        -1,
        1_000_000,
        label="Evaluation users per group",
        demo=2,
    ),
    P(
        "backend",
        str,
        "local",
        "local: a transformers model in this process; http: an OpenAI-compatible server.",
        choices=("local", "http"),
        label="LLM backend",
    ),
    P(
        "llm_path",
        str,
        "",
        "Local model: a .gguf file or Hugging Face folder; empty = the bundled SmolLM2-135M-Instruct.",
        label="LLM",
    ),
    P("llm_batch_size", int, 0, "Users per forward pass (0 = 64 on a GPU, 4 on a CPU).", 0, 4096, label="LLM batch"),
    P("http_base_url", str, "", "OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1.", label="HTTP base URL"),
    P("http_model", str, "", "Model name sent to the HTTP server.", label="HTTP model"),
    P(
        "http_api_key_env",
        str,
        "OPENAI_API_KEY",
        "Name of the environment variable holding the API key (the key itself is never stored).",
        label="API key variable",
    ),
    P("http_timeout_s", float, 60.0, "Seconds before an HTTP request times out.", 1.0, 3600.0, label="HTTP timeout"),
    P(
        "use_cache",
        bool,
        True,
        "Reuse item clusters fitted earlier for the same data and split.",
        label="Cache clusters",
    ),
)

register(
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
        unlearn=unlearn,
        prepare=prepare,
        curves=(),  # nothing is trained: no curve
        capabilities=frozenset({"samples_users", "uses_llm"}),
        check=_check,
    )
)
