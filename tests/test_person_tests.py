"""The white-box record-level attack and the per-person likelihood-ratio test (fast, synthetic)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core.attacks.common import AttackError, Probe, attack_difference, attack_result
from core.attacks.per_person import (
    NEVER_TRAINED,
    NEVER_WORDS,
    TRAINED,
    TRAINED_WORDS,
    UNLIKE_WORDS,
    PersonTests,
    person_tests,
)
from core.attacks.white_box import white_box_person_scores, white_box_probe, white_box_reason, white_box_scores
from core.models.base import ModelConfig
from core.models.bpr import BPRMF

N_USERS, N_ITEMS, DIM = 40, 80, 8


def _hand_made(seed: int = 0):
    """A BPR-MF model whose user vectors were "trained" on each user's favourite items, and a
    probe: each user's 4 favourite items are the forgotten rows (members), 6 random others the
    held-out rows. Every user is marked unknown (as ``ids_only`` leaves forgotten users)."""
    g = torch.Generator().manual_seed(seed)
    model = BPRMF(ModelConfig(dim=DIM), N_USERS, N_ITEMS, np.zeros(0, np.int64), np.zeros(0, np.int64))
    with torch.no_grad():
        model.item_embedding.weight.copy_(torch.randn(N_ITEMS, DIM, generator=g))
        model.user_embedding.weight.copy_(torch.randn(N_USERS, DIM, generator=g))
    scores = (model.user_embedding.weight @ model.item_embedding.weight.T).detach().numpy()
    rng = np.random.default_rng(seed)
    users, items, labels = [], [], []
    for u in range(N_USERS):  # building a tiny fixture
        top = np.argsort(-scores[u])[:4]
        rest = rng.choice(np.setdiff1d(np.arange(N_ITEMS), top), 6, replace=False)
        users += [u] * 10
        items += list(top) + list(rest)
        labels += [1] * 4 + [0] * 6
    probe = Probe(
        name="white-box",
        users=np.array(users),
        labels=np.array(labels),
        neutral_note="",
        items=np.array(items),
        within_user=True,
    )
    return model, probe


def _redrawn(model, seed: int):
    """The same model with every user vector re-drawn (what retrain leaves a forgotten user)."""
    other = BPRMF(ModelConfig(dim=DIM, seed=seed), N_USERS, N_ITEMS, np.zeros(0, np.int64), np.zeros(0, np.int64))
    with torch.no_grad():
        other.item_embedding.weight.copy_(model.item_embedding.weight)
    return other


def test_white_box_separates_a_trained_user_vector_from_an_untrained_one():
    trained, probe = _hand_made()
    assert not bool(trained.known_users.any())  # every user "unknown": the record-level attack reads popularity
    untrained = _redrawn(trained, seed=7)
    s_trained, s_untrained = white_box_scores(trained, probe), white_box_scores(untrained, probe)
    a, b = attack_result(probe, s_trained, seed=0), attack_result(probe, s_untrained, seed=0)
    assert a.auc == pytest.approx(1.0)
    assert 0.3 < b.auc < 0.7 and b.interval.contains(0.5)
    diff = attack_difference(probe, s_trained, s_untrained, seed=0)
    assert diff.low > 0.2
    per_user = white_box_person_scores(probe, s_trained, np.array([0, 5, N_USERS + 3]))
    assert per_user[:2] == pytest.approx([1.0, 1.0]) and np.isnan(per_user[2])


def test_white_box_is_seeded_and_deterministic():
    model, probe = _hand_made()
    scores = white_box_scores(_redrawn(model, seed=3), probe)
    first, again = attack_result(probe, scores, seed=5), attack_result(probe, scores, seed=5)
    assert first.interval == again.interval
    assert attack_result(probe, scores, seed=6).auc == first.auc


class _Reranker:
    """A scorer with no user table (as an LLM re-ranker)."""

    n_users, n_items, known_users = N_USERS, N_ITEMS, None

    def score(self, users):
        return torch.zeros(len(users), N_ITEMS)


def test_a_model_without_user_vectors_says_why():
    assert white_box_reason(_hand_made()[0]) is None
    reason = white_box_reason(_Reranker())
    assert reason and "no user vectors" in reason
    shards = SimpleNamespace(n_shards=4, score=None)
    assert "shard" in white_box_reason(shards)
    with pytest.raises(ValueError, match="does not apply"):
        white_box_scores(_Reranker(), _hand_made()[1])


def test_white_box_is_measured_for_user_requests_only():
    request = SimpleNamespace(request=SimpleNamespace(kind="items"))
    with pytest.raises(AttackError, match="users requests only"):
        white_box_probe(None, None, request)


# -- the per-person test -------------------------------------------------------------------
def _references(n=20, r=3, gap=1.0, noise=0.3, seed=0):
    """Per-person baselines ``a``; "in" models score a + gap, "out" models a, each ± noise."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, n)
    ins = [{"fold-in": a + gap + rng.normal(0, noise, n)} for _ in range(r)]
    outs = [{"fold-in": a + rng.normal(0, noise, n)} for _ in range(r)]
    fresh_out = {"fold-in": a + rng.normal(0, noise, n)}
    fresh_in = {"fold-in": a + gap + rng.normal(0, noise, n)}
    return ins, outs, fresh_in, fresh_out, [str(100 + i) for i in range(n)]


def test_a_model_identical_to_an_in_model_gets_small_p_and_an_out_like_one_large_p():
    ins, outs, fresh_in, fresh_out, ids = _references()
    same = person_tests(ins[0], ins, outs, ids, seed=0)
    assert same.verdict == TRAINED and same.group_p < 1e-6 and same.group_llr[1] > 0
    assert np.median([p.p_value for p in same.people]) < 0.05
    assert same.trained_like >= 15 and same.people[0].words == TRAINED_WORDS
    new_in = person_tests(fresh_in, ins, outs, ids, seed=0)
    assert new_in.verdict == TRAINED
    out = person_tests(fresh_out, ins, outs, ids, seed=0)
    assert out.verdict == NEVER_TRAINED and out.group_p > 0.05 and out.group_llr[2] < 0
    assert np.median([p.p_value for p in out.people]) > 0.2
    assert sum(p.words == NEVER_WORDS for p in out.people) >= 15
    assert [p.user_id for p in out.people] == ids and out.references == 3 and out.score == "fold-in"


def test_out_like_models_read_never_trained_at_about_the_nominal_rate():
    """Calibration under "never trained on them": over many fresh out-like models, people's
    p-values are roughly uniform and the group says "trained" about α of the time or less."""
    trained, small = 0, []
    for seed in range(60):
        ins, outs, _fresh_in, fresh_out, ids = _references(seed=seed, r=2)
        found = person_tests(fresh_out, ins, outs, ids, seed=seed, n_boot=200)
        trained += found.verdict == TRAINED
        small += [p.p_value < 0.05 for p in found.people]
    assert trained <= 8  # α = 0.05 of 60 is 3: a margin for the few reference models
    assert np.mean(small) < 0.1


def test_two_scores_are_combined_and_weighted_by_the_references_separation():
    ins, outs, fresh_in, fresh_out, ids = _references()
    rng = np.random.default_rng(9)
    flat = [{"white-box": rng.normal(0.5, 0.05, len(ids))} for _ in range(6)]  # no separation at all
    both = person_tests(
        {**fresh_in, **flat[0]},
        [{**a, **b} for a, b in zip(ins, flat[1:4])],
        [{**a, **b} for a, b in zip(outs, flat[3:])],
        ids,
    )
    assert both.score == "fold-in+white-box"
    assert both.weights["fold-in"] > 1 and both.weights["white-box"] < both.weights["fold-in"] / 3
    assert both.verdict == TRAINED and set(both.people[0].scores) == {"fold-in", "white-box"}


def test_group_interval_is_seeded_and_round_trips():
    ins, outs, _fresh_in, fresh_out, ids = _references()
    a = person_tests(fresh_out, ins, outs, ids, seed=3)
    b = person_tests(fresh_out, ins, outs, ids, seed=3)
    c = person_tests(fresh_out, ins, outs, ids, seed=4)
    assert a == b and a.group_llr[0] == c.group_llr[0]
    assert PersonTests.from_dict(a.as_dict()) == a


def test_too_few_references_or_no_common_score_gives_none():
    ins, outs, fresh_in, _fresh_out, ids = _references()
    assert person_tests(fresh_in, ins[:1], outs, ids) is None
    assert person_tests({"white-box": fresh_in["fold-in"]}, ins, outs, ids) is None


# -- the white-box entry of the run's evidence ----------------------------------------------
def test_attack_evidence_adds_white_box_with_a_not_applicable_entry():
    from core.data.demo import demo_dataset
    from core.evidence import ModelEvidence, ModelInputs, attack_evidence
    from core.forget_request import ForgetRequest, resolve_request
    from core.split import SplitConfig, make_split

    ds = demo_dataset(0)
    split = make_split(ds, SplitConfig(seed=0))
    request = resolve_request(ds, split, ForgetRequest.parse("users:random:0.05", seed=0))
    train = np.setdiff1d(split.train, request.removed_rows)

    def bpr(seed: int) -> BPRMF:
        return BPRMF(ModelConfig(dim=DIM, seed=seed), ds.n_users, ds.n_items, ds.users[train], ds.items[train])

    retrain, kept = bpr(1), bpr(2)
    with torch.no_grad():  # "kept": each forgotten user's vector points at their removed items
        items = kept.item_embedding.weight
        for u in request.forget_users:
            kept.user_embedding.weight[u] = items[
                ds.items[request.removed_rows[ds.users[request.removed_rows] == u]]
            ].sum(0)
    reranker = _Reranker()
    reranker.n_users, reranker.n_items = ds.n_users, ds.n_items
    reranker.device, reranker.popularity = torch.device("cpu"), kept.popularity
    reranker.score = lambda users: torch.zeros(len(users), ds.n_items)
    models = {
        name: ModelInputs(scorer=m, measured=None, top10=None, item_side=side)
        for name, m, side in (("retrain", retrain, retrain), ("ids_only", kept, kept), ("llm", reranker, kept))
    }
    evidence = {name: ModelEvidence() for name in models}
    prepared = SimpleNamespace(dataset=ds, split=split, request=request)
    notes = attack_evidence(prepared, models, 0, evidence)
    kept_entry, retrain_entry = evidence["ids_only"].attacks["white-box"], evidence["retrain"].attacks["white-box"]
    assert kept_entry.vs_retrain.low > 0.0 and kept_entry.auc > 0.6 and abs(retrain_entry.auc - 0.5) < 0.15
    record = evidence["ids_only"].attacks["record-level"]  # unknown users: popularity, not separated
    assert record.vs_retrain.value == pytest.approx(0.0)
    na = evidence["llm"].attacks["white-box"]
    assert np.isnan(na.auc) and "no user vectors" in na.not_applicable
    assert any("not applicable to llm" in n for n in notes)


# -- the per-person lines ---------------------------------------------------------------------
def test_person_lines_in_natural_id_order_with_words_and_p():
    from core.reporting.people_tests import named_request_lines, p_text, person_lines

    ins, outs, _fresh_in, fresh_out, _ids = _references(n=4)
    ids = ["u10", "u2", "104", "u1"]
    tests = person_tests(fresh_out, ins, outs, ids, seed=0)
    report = SimpleNamespace(person_tests=tests.as_dict(), label="Retraining")  # as stored in a run file
    lines = person_lines(report)
    assert [line.split(":")[0] for line in lines] == ["user 104", "user u1", "user u2", "user u10"]
    by_id = {p.user_id: p for p in tests.people}
    assert lines[0] == f"user 104: {by_id['104'].words}, {p_text(by_id['104'].p_value)}"
    assert [p_text(x) for x in (0.6234, 0.0042, 0.0001, float("nan"))] == [
        "p = 0.62",
        "p = 0.004",
        "p < 0.001",
        "p = ?",
    ]
    assert person_lines(SimpleNamespace(person_tests=None)) == []
    run = SimpleNamespace(
        request={"kind": "users", "selector": "ids"},
        models={"base": report, "retrain": report, "ids_only": SimpleNamespace(person_tests=None, label="x")},
        references=None,
    )
    joined = person_lines(run)
    assert len(joined) == 4 and joined[0].startswith("user 104: retrain ") and "base" not in joined[0]
    printed = named_request_lines(run)
    assert printed[1].startswith("Retraining — ") and printed[2].startswith("  user 104: ")
    assert len(printed) == 2 + 4
    run.models = {"retrain": SimpleNamespace(person_tests=None)}
    assert "--references" in named_request_lines(run)[1]
    run.request = {"kind": "users", "selector": "random"}  # a drawn request: each person too, up to the cap
    run.models = {"retrain": report}
    drawn = named_request_lines(run)
    assert drawn[0].startswith("Each forgotten person") and drawn[2].startswith("  user 104: ") and len(drawn) == 6
    import core.reporting.people_tests as people_tests

    people_tests.PERSON_LINES_CAP, cap = 3, people_tests.PERSON_LINES_CAP
    try:  # more people than the cap: the group result and where the lines are
        assert named_request_lines(run)[2] == "  (4 people: one line each in the report and the result file)"
    finally:
        people_tests.PERSON_LINES_CAP = cap
    run.request = {"kind": "items", "selector": "random"}
    assert named_request_lines(run) == []


def test_people_a_score_misses_are_left_out_and_identical_references_divide_by_nothing():
    ins, outs, fresh_in, _fresh_out, ids = _references(n=6)
    target = {"fold-in": fresh_in["fold-in"].copy()}
    target["fold-in"][2] = np.nan
    found = person_tests(target, ins, outs, ids)
    assert [p.user_id for p in found.people] == [ids[i] for i in (0, 1, 3, 4, 5)]
    same = [{"fold-in": np.ones(6)}] * 2
    flat = person_tests({"fold-in": np.ones(6)}, same, same, ids)
    assert flat is not None and all(np.isfinite(p.p_value) for p in flat.people)


def test_person_scores_on_the_demo_align_with_the_forgotten_people():
    from core.attacks.per_person import person_probes, person_scores
    from core.data.demo import demo_dataset
    from core.forget_request import ForgetRequest, resolve_request
    from core.split import SplitConfig, make_split

    ds = demo_dataset(0)
    split = make_split(ds, SplitConfig(seed=0))
    request = resolve_request(ds, split, ForgetRequest.parse("users:random:0.05", seed=0))
    probes = person_probes(ds, split, request, seed=0)
    assert set(probes.users) <= set(request.forget_users) and len(probes.users) >= 10
    model = BPRMF(ModelConfig(dim=DIM), ds.n_users, ds.n_items, ds.users[split.train], ds.items[split.train])
    scores = person_scores(model, probes)
    assert set(scores) == {"fold-in", "white-box"}
    assert all(len(v) == len(probes.users) and np.isfinite(v).mean() > 0.9 for v in scores.values())
    assert set(person_scores(_Reranker(), probes, item_side=model)) == {"fold-in"}
    items_request = resolve_request(ds, split, ForgetRequest.parse("items:genre:Horror", seed=0))
    assert person_probes(ds, split, items_request).white_box is None


def test_a_model_unlike_both_kinds_of_reference_is_not_called_trained():
    """Scores a little above never-trained models but far from trained ones (another kind of
    model, as SISA's shards against single retrainings): p is small, the LLR says "out"."""
    ins, outs, _fresh_in, fresh_out, ids = _references(gap=4.0, noise=0.3)
    shifted = {"fold-in": fresh_out["fold-in"] + 0.6}  # two "out" sds above, ten below "in"
    found = person_tests(shifted, ins, outs, ids)
    assert found.by_score["fold-in"]["group_p"] < 0.001 and found.group_llr[2] < 0
    assert found.verdict == NEVER_TRAINED and found.trained_like == 0
    assert sum(p.words == UNLIKE_WORDS for p in found.people) == sum(p.p_value < 0.05 for p in found.people) >= 5


def test_one_channel_that_remembers_makes_the_group_trained():
    """A re-draw of the user vectors: white-box reads never-trained, fold-in (item side kept) trained."""
    ins, outs, fresh_in, fresh_out, ids = _references()
    rng = np.random.default_rng(4)

    def wb(level):
        return {"white-box": rng.normal(level, 0.05, len(ids))}

    found = person_tests(
        {**fresh_in, **wb(0.5)},
        [{**r, **wb(0.6)} for r in ins],
        [{**r, **wb(0.5)} for r in outs],
        ids,
    )
    assert found.by_score["white-box"]["group_llr"][2] < 0 < found.by_score["fold-in"]["group_llr"][1]
    assert found.verdict == TRAINED


def test_cragru_run_prints_one_line_per_named_person(isolated_home, capsys):
    """A named request on the demo with a small ensemble: each model's group result, then one
    line per person in natural ID order; the ids_only control reads trained."""
    from core.cli import main

    named = ["104", "111", "120", "146", "169", "18", "229", "231", "261", "264", "272", "47", "49", "75"]
    argv = ["--data", "demo", "--forget", "users:ids:" + ",".join(named), "--methods", "retrain,ids_only"]
    assert main(argv + ["--references", "2", "--epochs", "15", "--quiet", "--no-history"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("Each named person") :].splitlines()
    people = [line.strip().split(":")[0] for line in block if line.startswith("  user ")]
    in_order = [f"user {u}" for u in sorted(named, key=int)]
    assert people == in_order * 2  # retrain's lines, then ids_only's
    control = next(line for line in block if line.startswith("Control: IDs only"))
    assert "— trained:" in control
