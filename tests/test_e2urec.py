"""E2URec: the teacher formula by hand, and the whole method on a tiny random Llama.

The bundled SmolLM2 takes ~30 s to load on a slow CPU, so these tests run the real
code paths (prepare, augmented model, teachers, student, scorer) on a 2-layer Llama of
width 32 with a word-hash tokenizer; the bench runs the real model.
"""

import re
import zlib

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

import core.llm.local as local_llm
from core.events import MetricEvent, Reporter
from core.llm.local import LocalLLM
from core.methods.common.lora import frozen_state, same_state
from core.methods.e2urec.distill import forgetting_teacher, jensen_shannon, soft_cross_entropy
from core.methods.e2urec.llm_rec import answer_logits, candidate_logits
from core.methods.e2urec.prompts import answer_token_ids
from core.methods.registry import get_method
from core.models.base import popularity_of
from tests.demo_context import demo_context, demo_data

VOCAB = 512


class WordTokenizer:
    """Each whitespace-separated word → a stable id (crc32); enough for prompts as id lists."""

    pad_token_id = 0

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [3 + zlib.crc32(w.encode()) % (VOCAB - 3) for w in re.findall(r"\S+", text)]


class PopularityScorer:
    """The base recommender stand-in: every user ranks items by training popularity."""

    def __init__(self, n_users: int, items: np.ndarray, n_items: int) -> None:
        self.n_users, self.n_items = n_users, n_items
        self.popularity = popularity_of(items, n_items)
        self.known_users = None
        self.device = torch.device("cpu")

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.popularity.expand(len(users), -1).clone()


def tiny_llama() -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval()


def test_forgetting_teacher_by_hand():
    z_o = torch.tensor([[1.0, 2.0], [0.5, -1.0]])
    z_a = torch.tensor([[3.0, 1.0], [0.5, 4.0]])
    # row 0: the augmented model is more confident in "no" by 2 → no drops by α·2 = 4
    # row 1: more confident in "yes" by 5 → yes drops by 10; where z_A ≤ z_O nothing moves
    expected = torch.tensor([[1.0 - 4.0, 2.0], [0.5, -1.0 - 10.0]])
    assert torch.equal(forgetting_teacher(z_o, z_a, alpha=2.0), expected)
    assert torch.equal(forgetting_teacher(z_o, z_a, alpha=0.0), z_o)


def test_losses_by_hand():
    teacher = torch.tensor([[0.0, 0.0]])  # uniform
    student = torch.tensor([[np.log(3.0), 0.0]])  # p = (3/4, 1/4)
    expected = -(0.5 * np.log(0.75) + 0.5 * np.log(0.25))
    assert soft_cross_entropy(teacher, student).item() == pytest.approx(expected, rel=1e-6)
    same = torch.tensor([[0.3, -0.2]])
    assert jensen_shannon(same, same)[0] == pytest.approx(0.0, abs=1e-7)
    assert jensen_shannon(torch.tensor([[30.0, -30.0]]), torch.tensor([[-30.0, 30.0]]))[0] == pytest.approx(
        1.0, abs=1e-6
    )


def test_prefix_cached_candidates_match_full_prompts():
    model, tok = tiny_llama(), WordTokenizer()
    ids = answer_token_ids(tok)
    prefix = tok.encode("User: 30 F writer. Liked: A b c; D e.")
    suffixes = [tok.encode(f" Will they like Film {k}{'x' * k}? Answer:") + [7] * (k % 3) for k in range(5)]
    cached = candidate_logits(model, prefix, suffixes, ids, 0, torch.device("cpu"))
    with torch.no_grad():
        full = answer_logits(model, [prefix + s for s in suffixes], ids, 0, torch.device("cpu"))
    assert torch.allclose(cached, full, atol=1e-4)


EVENTS: list = []


@pytest.fixture(scope="module")
def run():
    ds, split, _, _ = demo_data()
    base = PopularityScorer(ds.n_users, ds.items[split.train], ds.n_items)
    ctx = demo_context(base_model=base, reporter=Reporter(EVENTS.append).for_model("e2urec"))
    model = tiny_llama()
    before = frozen_state(model)
    llm = LocalLLM(
        model=model, tokenizer=WordTokenizer(), source="tiny", device=torch.device("cpu"), dtype=torch.float32
    )
    patch = pytest.MonkeyPatch()
    patch.setattr(local_llm, "load_local_llm", lambda *a, **k: llm)
    try:
        spec = get_method("e2urec")
        params = spec.validate(
            dict(
                rec_samples=32,
                forget_samples=16,
                retain_samples=16,
                test_samples=16,
                eval_users_per_group=3,
                candidates=10,
                lora_rank=4,
                unlearn_epochs=2,
                unlearn_lr=5e-3,
                use_cache=False,
            )
        )
        prepared = spec.prepare(ctx, params)
        rec_before = {n: p.detach().clone() for n, p in prepared.model.named_parameters() if ".rec." in n}
        outcome = spec.unlearn(ctx, params, prepared)
        assert "test_auc/student" not in outcome.extras  # own measures are not part of the timed step
        outcome.extras.update(outcome.late_extras())  # as the runner does once the model is measured
    finally:
        patch.undo()
    return ctx, prepared, outcome, before, rec_before


def test_student_leaves_the_frozen_llm_bit_identical(run):
    _, prepared, outcome, before, rec_before = run
    assert same_state(before, frozen_state(prepared.model))
    assert outcome.extras["frozen_weights_unchanged"] == 1.0
    # the original recommender (remembering teacher) is untouched too; the student moved
    named = dict(prepared.model.named_parameters())
    assert all(torch.equal(named[n], p) for n, p in rec_before.items())
    student = {n.replace(".student.", ".rec."): p for n, p in named.items() if ".student." in n}
    assert any(not torch.equal(p, named[n]) for n, p in student.items())


def test_scorer_reranks_only_the_candidates_of_sampled_users(run):
    ctx, _, outcome, _, _ = run
    scorer = outcome.model
    sample = outcome.eval_sample
    assert set(sample) == {"retain", "forget", "similar", "forgotten"}
    assert all(len(v) <= 3 for v in sample.values())
    user = int(sample["retain"][0])
    scores = scorer.score(torch.tensor([user]))[0]
    candidates = scorer.candidates(np.array([user]))[0]
    order = torch.argsort(scores, descending=True)[: len(candidates)].numpy()
    assert set(order) == set(candidates)  # the N candidates on top, in the LLM's order
    rest = np.setdiff1d(np.arange(ctx.dataset.n_items), candidates)
    base = ctx.base_model.score(torch.tensor([user]))[0]
    assert torch.equal(scores[rest], base[rest])  # everything else keeps the base scores
    outsider = int(np.setdiff1d(np.arange(ctx.dataset.n_users), np.concatenate(list(sample.values())))[0])
    assert torch.equal(scorer.score(torch.tensor([outsider]))[0], ctx.base_model.score(torch.tensor([outsider]))[0])


def test_own_measures_are_reported(run):
    _, _, outcome, _, _ = run
    e = outcome.extras
    for key in (
        "test_auc/student",
        "test_auc/original",
        "jsd_forget/student_vs_retrained",
        "jsd_forget/original_vs_retrained",
        "student_train_s",
    ):
        assert key in e and np.isfinite(e[key]), key
    assert 0.0 <= e["jsd_forget/student_vs_retrained"] <= 1.0


def test_every_reported_curve_is_declared(run):
    metrics = [e for e in EVENTS if isinstance(e, MetricEvent)]
    declared = {c.key for c in get_method("e2urec").curves}
    assert {e.stage for e in metrics} == {"rec adapter", "retrain adapter", "augmented adapter", "student"}
    assert all(e.model == "e2urec" and set(e.values) <= declared for e in metrics)
    student = [e for e in metrics if e.stage == "student"]
    assert len(student) == 2 and {"loss", "label", "remember", "forget"} <= set(student[-1].values)  # one per epoch


def test_answers_are_remembered_only_under_the_same_weights(run):
    from core.methods.e2urec import answers
    from core.methods.e2urec.llm_rec import STUDENT

    ctx, prepared, outcome, _, _ = run
    scorer = outcome.model
    user = int(next(iter(outcome.eval_sample.values()))[0])
    items = scorer.candidates(np.array([user]))[0]
    first = scorer.llm_scores(user, items)
    size = answers.memo_size()
    assert np.array_equal(scorer.llm_scores(user, items), first) and answers.memo_size() == size  # reused
    student = dict(prepared.model.named_parameters())
    name = next(n for n in student if f".{STUDENT}." in n and "lora_B" in n)
    saved = student[name].detach().clone()
    try:
        with torch.no_grad():
            student[name].add_(0.5)
        other = answers.adapter_digest(prepared.model, STUDENT)
        assert other != scorer.weights  # changed weights: another key, never an old answer
    finally:
        with torch.no_grad():
            student[name].copy_(saved)
    assert answers.adapter_digest(prepared.model, STUDENT) == scorer.weights


def test_lora_on_the_last_blocks_only():
    from core.methods.e2urec.method import lora_config

    params = get_method("e2urec").validate({"lora_last_layers": 2})
    assert lora_config(params, 30).layers_to_transform == [28, 29]
    assert lora_config(get_method("e2urec").validate({}), 30).layers_to_transform is None  # all blocks
    assert get_method("e2urec").validate({}, demo=True)["lora_last_layers"] == 4
