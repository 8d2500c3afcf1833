"""The e2urec method's prepare / unlearn steps (imported on first use: transformers and
peft stay out of ``import core.methods``)."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.errors import ConfigError
from core.llm.answer_store import model_identity, store_for
from core.methods.common.lora import copy_adapter, count_parameters, frozen_state, same_state
from core.methods.e2urec import answers
from core.methods.e2urec.answers import adapter_digest
from core.methods.e2urec.frozen_bottom import sharing_frozen_blocks
from core.methods.e2urec.llm_rec import (
    AUG,
    REC,
    RETRAIN,
    STUDENT,
    Samples,
    answer_logits,
    labelled_samples,
    pick_rows,
    train_adapter,
    use_adapter,
)
from core.methods.e2urec.measures import own_measures
from core.methods.e2urec.prompts import PromptBuilder, answer_token_ids
from core.methods.e2urec.scorer import E2URecScorer
from core.methods.e2urec.student import train_student
from core.methods.registry import UnlearnContext, UnlearnOutcome
from core.model_cache import cache_key, cached_path, load_entry, save_entry

CACHE_KIND = "e2urec"
CACHE_VERSION = "e2urec-v4"
"""v2: adapters trained on core.fit_loop; v3: keyed, checksummed entries; v4: trained on the LLM's realigned
weights (core.llm.local.realign: a v3 adapter tuned on the memory-mapped converted copy rounds otherwise),
from a seeded initialisation (v3's drew from the process's global stream)."""
ANSWERS_VERSION = "aligned weights"  # answers stored before core.llm.local.realign may round otherwise


@dataclass
class E2UPrepared:
    model: torch.nn.Module  # peft model holding the adapters
    tokenizer: object
    prompts: PromptBuilder  # history = base training rows (what a request carries)
    answer_ids: tuple[int, int]
    pad_id: int
    device: torch.device
    has_retrain: bool
    frozen_before: dict[str, torch.Tensor] | None  # a copy of the LLM's own weights, when they are checked
    extras: dict[str, float]
    notes: list[str]


def lora_config(params: dict, n_layers: int):
    """LoRA on the named modules of every block, or of the last ``lora_last_layers`` blocks
    (gradients then stop at the lowest adapted block: a much cheaper backward pass)."""
    from peft import LoraConfig

    targets = [t.strip() for t in params["lora_targets"].split(",") if t.strip()]
    if not targets:
        raise ConfigError("e2urec: lora_targets names no module (e.g. q_proj,v_proj)")
    last = params["lora_last_layers"]
    layers = list(range(max(0, n_layers - last), n_layers)) if 0 < last < n_layers else None
    return LoraConfig(
        r=params["lora_rank"],
        lora_alpha=2 * params["lora_rank"],
        lora_dropout=params["lora_dropout"],
        target_modules=targets,
        bias="none",
        layers_to_transform=layers,
    )


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), stream])


def _label_loss(model, prompts: list[list[int]], labels: np.ndarray, prep_ids, device):
    answer_ids, pad_id = prep_ids

    def loss(idx: np.ndarray) -> torch.Tensor:
        logits = answer_logits(model, [prompts[i] for i in idx], answer_ids, pad_id, device)
        return F.cross_entropy(logits, torch.as_tensor(labels[idx], device=device))

    return loss


def _adapter_key(ctx: UnlearnContext, params: dict, name: str, extra: tuple = ()) -> str:
    keys = (
        "n_history",
        "title_words",
        "lora_rank",
        "lora_targets",
        "lora_last_layers",
        "lora_dropout",
        "rec_samples",
        "rec_epochs",
        "rec_lr",
        "batch_size",
        "llm_path",
    )
    return cache_key(
        ctx.dataset.fingerprint(),
        ctx.split.as_dict(),
        {k: params[k] for k in keys},
        ctx.device.type,
        CACHE_VERSION,
        name,
        ctx.seed,
        *extra,
    )


def _adapter_state(model, adapter: str) -> dict[str, torch.Tensor]:
    from peft import get_peft_model_state_dict

    with warnings.catch_warnings():  # peft looks for a config.json beside a GGUF file
        warnings.simplefilter("ignore", UserWarning)
        return {k: v.detach().cpu() for k, v in get_peft_model_state_dict(model, adapter_name=adapter).items()}


def _load_adapter(ctx: UnlearnContext, model, adapter: str, path, key: str) -> bool:
    """Load the intact entry of ``key`` into ``adapter``; False (with a warning when a file
    was refused: another key's, altered, unkeyed, other names or shapes) leaves the adapter
    as it was: the names and shapes are checked before anything is copied."""
    from peft import set_peft_model_state_dict

    state, warning = load_entry(path, key)
    if state is not None:
        own = _adapter_state(model, adapter)
        if (
            not isinstance(state, dict)
            or state.keys() != own.keys()
            or any(not isinstance(state[k], torch.Tensor) or state[k].shape != own[k].shape for k in own)
        ):
            warning = f"cache entry {path.name} not used: its tensors do not match adapter {adapter!r}; training again"
        else:
            set_peft_model_state_dict(model, state, adapter_name=adapter)
            ctx.reporter.log(f"e2urec: adapter {adapter!r} loaded from cache")
            return True
    if warning:
        ctx.reporter.log(f"e2urec: {warning}", "warning")
    return False


def _train_recommender(
    ctx, params, model, adapter: str, rows: np.ndarray, prompts: PromptBuilder, ids, extra_key: tuple
) -> bool:
    """Tune ``adapter`` as a Yes/No recommender on ``rows`` (+ one negative each); cached as
    a keyed, checksummed entry (an unwritable cache is a warning). Returns from_cache."""
    key = _adapter_key(ctx, params, adapter, extra_key)
    path = cached_path(key, CACHE_KIND)
    if params["use_cache"] and _load_adapter(ctx, model, adapter, path, key):
        return True
    ds = ctx.dataset
    rng = _rng(ctx.seed, 1)  # same stream for rec and retrain: same sampling procedure
    chosen = pick_rows(rows, params["rec_samples"], rng)
    samples = labelled_samples(ds.users[chosen], ds.items[chosen], ds.matrix(rows), ds.n_items, rng)
    texts = prompts.prompts(samples.users, samples.items)
    train_adapter(
        model,
        adapter,
        len(samples),
        _label_loss(model, texts, samples.labels, ids, ctx.device),
        epochs=params["rec_epochs"],
        batch_size=params["batch_size"],
        lr=params["rec_lr"],
        seed=ctx.seed,
        reporter=ctx.reporter,
        stage=f"{adapter} adapter",
    )
    if params["use_cache"]:
        warning = save_entry(path, key, _adapter_state(model, adapter), {"adapter": adapter, "rows": len(rows)})
        if warning:
            ctx.reporter.log(f"e2urec: {warning}", "warning")
    return False


def prepare(ctx: UnlearnContext, params: dict) -> E2UPrepared:
    from peft import get_peft_model

    from core.llm.local import adaptable_copy, load_local_llm

    t0 = time.perf_counter()
    ctx.reporter.log("e2urec: loading the local LLM")
    # the process's LLM (CRAGRU's too), with a module tree of its own for the adapters: weights shared
    llm = adaptable_copy(load_local_llm(params["llm_path"] or None, ctx.device))
    load_s = time.perf_counter() - t0
    identity = (
        model_identity(llm.source, llm.device, llm.dtype, "e2urec answers", ANSWERS_VERSION) if ctx.use_cache else None
    )
    answers.use_store(store_for(identity))  # a second launch reuses evaluation's answers (keyed by adapter weights)
    for level, note in llm.notes:
        ctx.reporter.log(f"e2urec: {note}", level)
    config = lora_config(params, llm.model.config.num_hidden_layers)
    # the adapters' random initial weights from the seed, not from whatever the process drew before (loading
    # the converted LLM draws from the global stream, the GGUF does not): a tuned and a cached one then agree
    with warnings.catch_warnings(), torch.random.fork_rng(devices=[ctx.device] if ctx.device.type == "cuda" else []):
        warnings.simplefilter("ignore", FutureWarning)
        torch.manual_seed(int(ctx.seed))
        ctx.reporter.check()
        model = get_peft_model(llm.model, config, adapter_name=REC)
        for name in (AUG, STUDENT) + ((RETRAIN,) if params["reference_retrain"] else ()):
            ctx.reporter.check()  # each adapter is a pass over the model: a stop is honoured between them
            model.add_adapter(name, config)
    ctx.reporter.check()
    frozen_before = frozen_state(model) if params["check_frozen"] else None
    ctx.reporter.check()
    ids = answer_token_ids(llm.tokenizer), llm.tokenizer.pad_token_id
    ds, split = ctx.dataset, ctx.split
    prompts = PromptBuilder(ds, llm.tokenizer, split.train, params["n_history"], params["title_words"])
    ctx.reporter.check()
    notes = []
    t1 = time.perf_counter()
    if _train_recommender(ctx, params, model, REC, split.train, prompts, ids, ()):
        notes.append("LLM recommender adapter loaded from cache")
    extras = {"llm_load_s": load_s, "recommender_tune_s": time.perf_counter() - t1}
    if params["reference_retrain"]:
        t2 = time.perf_counter()
        retained_prompts = PromptBuilder(
            ds, llm.tokenizer, ctx.retained_rows, params["n_history"], params["title_words"]
        )
        _train_recommender(
            ctx, params, model, RETRAIN, ctx.retained_rows, retained_prompts, ids, (ctx.request.as_dict(),)
        )
        extras["reference_retrain_tune_s"] = time.perf_counter() - t2
    return E2UPrepared(
        model=model,
        tokenizer=llm.tokenizer,
        prompts=prompts,
        answer_ids=ids[0],
        pad_id=ids[1],
        device=ctx.device,
        has_retrain=params["reference_retrain"],
        frozen_before=frozen_before,
        extras=extras,
        notes=notes,
    )


def _training_samples(ctx: UnlearnContext, params: dict, prompts: PromptBuilder) -> tuple[Samples, Samples, int]:
    """(forget, retain) labelled samples: removed / retained interactions, one negative each."""
    ds = ctx.dataset
    seen = ds.matrix(ctx.split.train)
    rng = _rng(ctx.seed, 2)
    f_rows = pick_rows(ctx.removed_rows, params["forget_samples"], rng)
    forget = labelled_samples(ds.users[f_rows], ds.items[f_rows], seen, ds.n_items, rng)
    r_rows = pick_rows(ctx.retained_rows, params["retain_samples"], rng)
    retain = labelled_samples(ds.users[r_rows], ds.items[r_rows], seen, ds.n_items, rng)
    return forget, retain, len(f_rows)


def unlearn(ctx: UnlearnContext, params: dict, prep: E2UPrepared) -> UnlearnOutcome:
    """Augmented model, teachers and the LoRA student; the LLM then re-ranks a user sample."""
    device, model, prompts, ids = prep.device, prep.model, prep.prompts, (prep.answer_ids, prep.pad_id)
    t0 = time.perf_counter()
    forget, retain, n_removed = _training_samples(ctx, params, prompts)
    forget_prompts = prompts.prompts(forget.users, forget.items)
    retain_prompts = prompts.prompts(retain.users, retain.items)
    with sharing_frozen_blocks(model) as lower:  # adapters on the last blocks only: the rest once per prompt
        # 1. augmented model: the recommender fine-tuned further on the forget data.
        copy_adapter(model, REC, AUG)
        train_adapter(
            model,
            AUG,
            len(forget),
            _label_loss(model, forget_prompts, forget.labels, ids, device),
            epochs=params["aug_epochs"],
            batch_size=params["batch_size"],
            lr=params["aug_lr"],
            seed=ctx.seed,
            reporter=ctx.reporter,
            stage="augmented adapter",
        )
        # 2-3. teachers and the student.
        parts = train_student(
            model,
            retain_prompts,
            retain.labels,
            forget_prompts,
            *ids,
            device,
            alpha=params["alpha"],
            lam=params["lam"],
            epochs=params["unlearn_epochs"],
            batch_size=params["batch_size"],
            lr=params["unlearn_lr"],
            seed=ctx.seed,
            reporter=ctx.reporter,
        )
    extras = dict(prep.extras)
    extras["student_train_s"] = time.perf_counter() - t0
    if lower.n:
        extras["frozen_blocks_shared"] = float(lower.n)
        extras["frozen_blocks_prompts_reused"] = float(lower.reused)
    extras.update({f"student_loss/{k}": v for k, v in parts.items()})
    extras["student_parameters"] = float(
        count_parameters(p for n, p in model.named_parameters() if f".{STUDENT}." in n)
    )
    use_adapter(model, STUDENT)

    def late_extras() -> dict[str, float]:  # checks and E2URec's own figures: not part of a request's cost
        late = {}
        if prep.frozen_before is not None:
            late["frozen_weights_unchanged"] = float(same_state(prep.frozen_before, frozen_state(model)))
        with sharing_frozen_blocks(model, lower):
            late.update(own_measures(ctx, params, prep, forget, forget_prompts))
        use_adapter(model, STUDENT)
        return late

    sample = ctx.eval_sample(params["eval_users_per_group"])
    scorer = E2URecScorer(
        model,
        prompts,
        prep.answer_ids,
        prep.pad_id,
        ctx.base_model,
        ctx.targets.mask,
        params["candidates"],
        np.concatenate(list(sample.values())),
        device,
        ctx.reporter,
        weights=adapter_digest(model, STUDENT),
    )
    sizes = ", ".join(f"{k} {len(v)}" for k, v in sample.items())
    notes = list(prep.notes) + [
        f"LLM re-ranks the base model's top-{params['candidates']} for a user sample ({sizes}); "
        "other users keep the base order",
        f"trained on {len(forget)} forget prompts ({n_removed} removed interactions + negatives) and "
        f"{len(retain)} retain prompts",
        "requests carry the user's training history (forgotten items included): "
        "the weights must forget, not the prompt",
        "membership inference sees the base order for users outside the sample",
        "the LLM's own weights were compared before/after (frozen_weights_unchanged)"
        if params["check_frozen"]
        else "the LLM's own weights were not compared before/after this time "
        "(check_frozen is off; they get no gradient)",
        "candidates come from the base model, which is not unlearned: a forgotten item leaves the top-10 only "
        "if the student ranks it below the other candidates",
    ]
    return UnlearnOutcome(
        model=scorer,
        extras=extras,
        notes=notes,
        eval_sample=sample,
        late_extras=late_extras,
        fold_in_model=ctx.base_model,
    )  # it re-ranks the kept base model's top-N
