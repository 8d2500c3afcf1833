"""Issue 24, ``verify --replay``: E2URec trains the same weights whether its recommender adapter is
tuned on an empty cache or read back from it, whatever the process drew from the global random
stream before (loading the converted LLM draws from it, de-quantising the GGUF does not), and the
LLM's weights are computed on from aligned memory however they were read (a memory-mapped
safetensors file puts them at its own offsets, where MKL's products round otherwise)."""

import warnings

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM

import core.llm.local as local_llm
from core.events import Reporter
from core.llm.local import ALIGNMENT, LocalLLM, realign
from core.methods.registry import get_method
from core.weights_digest import weights_sha256
from tests.demo_context import demo_context, demo_data
from tests.test_e2urec import PopularityScorer, WordTokenizer, tiny_llama

PARAMS = dict(
    rec_samples=16,
    forget_samples=4,
    retain_samples=4,
    test_samples=4,
    eval_users_per_group=1,
    candidates=10,
    lora_rank=4,
    reference_retrain=False,
    check_frozen=False,
    use_cache=True,
)


def unlearned_digest(global_seed: int) -> tuple[str, list[str]]:
    """E2URec on the demo with a tiny Llama, the global stream at ``global_seed`` when it starts;
    (the scorer's weights digest, the run's log lines)."""
    ds, split, _, _ = demo_data()
    logs: list[str] = []
    reporter = Reporter(lambda e: logs.append(getattr(e, "text", "")))
    ctx = demo_context(base_model=PopularityScorer(ds.n_users, ds.items[split.train], ds.n_items), reporter=reporter)
    llm = LocalLLM(tiny_llama(), WordTokenizer(), "tiny", torch.device("cpu"), torch.float32)
    torch.manual_seed(global_seed)  # what the process drew before: another method, the LLM's loading
    spec = get_method("e2urec")
    params = spec.validate(PARAMS)
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        patch.setattr(local_llm, "load_local_llm", lambda *a, **k: llm)
        outcome = spec.unlearn(ctx, params, spec.prepare(ctx, params))
    return weights_sha256(outcome.model), logs


def test_a_cached_adapter_and_a_global_stream_drawn_elsewhere_change_no_weight(tmp_path, monkeypatch):
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(tmp_path / "cache"))
    cold, logs = unlearned_digest(global_seed=1)
    assert not any("loaded from cache" in line for line in logs)
    warm, logs = unlearned_digest(global_seed=2)
    assert any("adapter 'rec' loaded from cache" in line for line in logs)
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(tmp_path / "other cache"))
    cold_elsewhere, logs = unlearned_digest(global_seed=2)
    assert not any("loaded from cache" in line for line in logs)
    assert warm == cold  # the replay of a receipt signed on an empty cache
    assert cold_elsewhere == cold  # the adapters' initial weights come from the run's seed


def misaligned_copy(tensor: torch.Tensor, offset_bytes: int = 8) -> torch.Tensor:
    """``tensor``'s values at an address ``offset_bytes`` past a multiple of :data:`ALIGNMENT`."""
    step = offset_bytes // tensor.element_size()
    buffer = torch.empty(tensor.numel() + ALIGNMENT, dtype=tensor.dtype)
    start = (-buffer.data_ptr() % ALIGNMENT) // tensor.element_size() + step
    view = buffer[start : start + tensor.numel()].view_as(tensor)
    view.copy_(tensor)
    assert view.data_ptr() % ALIGNMENT == offset_bytes
    return view


def test_realign_moves_misaligned_weights_keeps_values_and_ties():
    model = tiny_llama()
    model.tie_weights()
    with torch.no_grad():
        model.lm_head.weight.data = misaligned_copy(model.lm_head.weight.data)
        model.model.norm.weight.data = misaligned_copy(model.model.norm.weight.data)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    tied = model.lm_head.weight is model.model.embed_tokens.weight
    assert realign(model) >= 2
    assert all(t.data_ptr() % ALIGNMENT == 0 for t in [*model.parameters(), *model.buffers()])
    assert all(torch.equal(before[n], p) for n, p in model.named_parameters())
    assert (model.lm_head.weight is model.model.embed_tokens.weight) == tied
    assert realign(model) == 0  # nothing left to move


def test_an_llm_read_from_a_safetensors_folder_computes_on_aligned_memory(tmp_path, monkeypatch):
    tiny_llama().save_pretrained(tmp_path / "llm")

    class Tokenizer(WordTokenizer):
        pad_token = "<pad>"

    def read_folder(folder, dtype, **kwargs):  # the real read of the weights (memory-mapped); no tokenizer files
        return Tokenizer(), AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype, local_files_only=True)

    monkeypatch.setattr(local_llm, "_load_folder", read_folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        llm = local_llm.load_local_llm(str(tmp_path / "llm"), "cpu", fresh=True)
    addresses = np.array([t.data_ptr() for t in [*llm.model.parameters(), *llm.model.buffers()]])
    assert (addresses % ALIGNMENT == 0).all()
    reference = tiny_llama()
    assert all(torch.equal(p, reference.state_dict()[n]) for n, p in llm.model.state_dict().items())
