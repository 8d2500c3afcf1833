"""UnlearnRec: the influence encoder's update, its sparsity, the method on demo data, parameters."""

import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.config import ExperimentConfig
from core.data.demo import demo_dataset
from core.errors import ConfigError
from core.events import LogEvent, MetricEvent, Reporter
from core.experiment import prepare_data
from core.forget_request import ForgetRequest
from core.methods.registry import UnlearnContext, get_method
from core.methods.unlearnrec.influence import InfluenceEncoder, influence_graph
from core.methods.unlearnrec.pretrain import clear_memory_cache
from core.models.base import ModelConfig
from core.models.training import train_recommender

FAST = dict(pretrain_steps=30, finetune_epochs=5, batch_size=1024)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: on a shared 2-core machine, OpenMP threads spin-waiting on each other
    make a step ~100x slower than one thread does."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- the encoder itself ----------------------------------------------------------------
def test_empty_request_gives_exactly_zero_update():
    encoder = InfluenceEncoder(n_users=5, n_items=7, dim=4, layers=2)
    with torch.no_grad():  # a "trained" encoder: MLP(0) is not zero, so zero must be structural
        for p in encoder.parameters():
            p.add_(torch.randn(p.shape))
    user0, item0 = torch.randn(5, 4), torch.randn(7, 4)
    empty = torch.zeros(0, dtype=torch.long)
    graph = influence_graph(empty, empty)
    assert graph.n_nodes == 0 and graph.n_edges == 0
    delta = encoder(graph, user0, item0)
    assert delta.shape == (0, 4)
    new_user, new_item, _ = encoder.updated(graph, user0, item0)
    assert torch.equal(new_user, user0) and torch.equal(new_item, item0)


def test_update_touches_only_the_request_nodes():
    encoder = InfluenceEncoder(n_users=6, n_items=6, dim=3, layers=2)
    user0, item0 = torch.randn(6, 3), torch.randn(6, 3)
    graph = influence_graph(torch.tensor([1, 1, 4]), torch.tensor([2, 5, 2]))
    new_user, new_item, _ = encoder.updated(graph, user0, item0)
    changed_users = torch.nonzero((new_user != user0).any(1)).squeeze(1).tolist()
    changed_items = torch.nonzero((new_item != item0).any(1)).squeeze(1).tolist()
    assert changed_users == [1, 4] and changed_items == [2, 5]


def test_influence_matrix_is_normalised_with_self_loops():
    # edges u0–i0, u0–i1, u1–i1 (and a duplicate that must count once)
    graph = influence_graph(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1]))
    dense = graph.matrix.to_dense()
    # local nodes: u0, u1, i0, i1; degrees with self-loop: 3, 2, 2, 3
    degree = torch.tensor([3.0, 2.0, 2.0, 3.0])
    a = torch.eye(4)
    for u, i in [(0, 0), (0, 1), (1, 1)]:
        a[u, 2 + i] = a[2 + i, u] = 1.0
    expected = a / torch.sqrt(degree[:, None] * degree[None, :])
    assert torch.allclose(dense, expected)
    assert graph.n_edges == 3


def test_influence_matrix_stays_sparse_on_a_huge_catalogue():
    """2M users × 2M items: a dense (n_users+n_items)² matrix would need 64 TB."""
    n = 2_000_000
    users = torch.tensor([0, 17, 999_999, n - 1, n - 1, 123_456])
    items = torch.tensor([n - 1, 5, 1_500_000, 0, 42, 5])
    start = time.perf_counter()
    graph = influence_graph(users, items)
    elapsed = time.perf_counter() - start
    assert graph.matrix.is_sparse
    assert graph.matrix.shape == (graph.n_nodes, graph.n_nodes) == (10, 10)  # 5 users + 5 items
    assert graph.matrix._nnz() == 2 * 6 + 10  # both directions of 6 edges, 10 self-loops
    assert graph.users.tolist() == [0, 17, 123_456, 999_999, n - 1]
    assert elapsed < 2.0
    # the dropped views keep the node set and stay sparse too
    view = graph.dropped_view(0.5, torch.Generator().manual_seed(0))
    assert view.is_sparse and view.shape == (10, 10)
    # the encoder's forward works on the 10 affected rows only (its per-node tables are
    # linear in the catalogue, 4M × 2 floats here; nothing quadratic is ever built)
    encoder = InfluenceEncoder(n_users=n, n_items=n, dim=2, layers=2)
    user0, item0 = torch.zeros(n, 2), torch.zeros(n, 2)
    start = time.perf_counter()
    delta = encoder(graph, user0, item0)
    assert delta.shape == (10, 2) and time.perf_counter() - start < 2.0


# -- the method on demo data ---------------------------------------------------------------
def _context(model_name: str, reporter: Reporter | None = None) -> UnlearnContext:
    dataset = demo_dataset(0, n_users=120, n_items=150)
    config = ExperimentConfig(
        model=ModelConfig(name=model_name, dim=16, epochs=5, batch_size=512, lr=5e-2),
        request=ForgetRequest("users", "random", 0.1, seed=0),
    )
    prepared = prepare_data(config, dataset)
    ds, train = prepared.dataset, prepared.split.train
    base = train_recommender(config.model, ds.n_users, ds.n_items, ds.users[train], ds.items[train], "cpu")
    return UnlearnContext(
        dataset=ds,
        split=prepared.split,
        request=prepared.request,
        groups=prepared.groups,
        base_model=base,
        model_config=config.model,
        device=torch.device("cpu"),
        reporter=reporter or Reporter(),
        seed=0,
        train_model=lambda *a, **k: None,
        targets=prepared.targets,
        retrain_valid_rows=prepared.retrain_valid_rows,
    )


@pytest.fixture(scope="module")
def bpr_context():
    return _context("bpr")


def _forgotten_scores(model, ctx) -> torch.Tensor:
    ds, removed = ctx.dataset, ctx.removed_rows
    with torch.no_grad():
        user, item = model.embeddings()
        return (user[torch.as_tensor(ds.users[removed])] * item[torch.as_tensor(ds.items[removed])]).sum(1)


def test_deleted_edges_scores_fall_and_others_barely_move(bpr_context, isolated_home):
    events = []
    ctx = replace(bpr_context, reporter=Reporter(events.append).for_model("unlearnrec"))
    spec = get_method("unlearnrec")
    params = spec.validate(FAST)
    state = spec.prepare(ctx, params)
    outcome = spec.unlearn(ctx, params, state)
    before = _forgotten_scores(ctx.base_model, ctx)
    after = _forgotten_scores(outcome.model, ctx)
    assert after.mean() < before.mean() - 0.5 * before.std()
    # users untouched by the request keep exactly their vectors (BPR-MF: no propagation)
    forgotten = np.unique(ctx.dataset.users[ctx.removed_rows])
    others = np.setdiff1d(np.arange(ctx.dataset.n_users), forgotten)
    new_user, _ = outcome.model.layer0()
    old_user, _ = ctx.base_model.layer0()
    assert torch.equal(new_user[others], old_user[others])
    # the base model itself is not modified
    assert not torch.equal(new_user[forgotten], old_user[forgotten])
    # forgotten users keep a (rewritten) representation; popularity counts retained rows only
    assert bool(outcome.model.known_users[forgotten].all())
    expected_pop = np.bincount(ctx.dataset.items[ctx.retained_rows], minlength=ctx.dataset.n_items)
    assert np.array_equal(outcome.model.popularity.numpy(), expected_pop)
    # progress went through the reporter: a log line and a pre-training curve
    assert any(isinstance(e, LogEvent) and "pre-training the influence encoder" in e.text for e in events)
    assert any(isinstance(e, MetricEvent) and e.series == "unlearnrec/pretrain" for e in events)


def test_paper_target_lowers_scores_and_leaves_the_pretrained_encoder_intact(bpr_context, isolated_home):
    ctx = replace(bpr_context, reporter=Reporter())
    spec = get_method("unlearnrec")
    params = spec.validate({**FAST, "unlearn_target": "zero", "cache": False})
    state = spec.prepare(ctx, params)
    pretrained = {k: v.clone() for k, v in state.encoder.state_dict().items()}
    outcome = spec.unlearn(ctx, params, state)
    assert all(torch.equal(v, state.encoder.state_dict()[k]) for k, v in pretrained.items())
    before = _forgotten_scores(ctx.base_model, ctx)
    after = _forgotten_scores(outcome.model, ctx)
    assert after.mean() < before.mean() - 0.5 * before.std()
    assert outcome.extras["forgotten_score_after"] < outcome.extras["forgotten_score_before"]


def test_pretraining_is_cached_in_memory_and_on_disk(bpr_context, isolated_home):
    ctx = replace(bpr_context, reporter=Reporter())
    clear_memory_cache()
    spec = get_method("unlearnrec")
    params = spec.validate({**FAST, "pretrain_steps": 3, "finetune_epochs": 0})
    first = spec.prepare(ctx, params)
    assert first.source == "trained"
    assert spec.prepare(ctx, params).source == "memory"
    clear_memory_cache()
    from_disk = spec.prepare(ctx, params)
    assert from_disk.source == "disk"
    a = spec.unlearn(ctx, params, first).model
    b = spec.unlearn(ctx, params, from_disk).model
    assert torch.equal(a.layer0()[0], b.layer0()[0])
    # different pre-training settings never reuse that entry
    other = spec.validate({**FAST, "pretrain_steps": 4, "finetune_epochs": 0})
    assert spec.prepare(ctx, other).source == "trained"


def test_lightgcn_unlearned_model_propagates_over_the_retained_graph(isolated_home):
    ctx = _context("lightgcn")
    spec = get_method("unlearnrec")
    params = spec.validate({**FAST, "pretrain_steps": 5, "finetune_epochs": 1})
    outcome = spec.unlearn(ctx, params, spec.prepare(ctx, params))
    model, ds = outcome.model, ctx.dataset
    graph = set(zip(model.graph_users.tolist(), model.graph_items.tolist()))
    assert graph == set(zip(ds.users[ctx.retained_rows].tolist(), ds.items[ctx.retained_rows].tolist()))
    assert len(ctx.base_model.graph_users) == len(ctx.split.train)  # the base keeps its own graph
    scores = model.score(torch.arange(5))
    assert scores.shape == (5, ds.n_items) and torch.isfinite(scores).all()
    assert _forgotten_scores(model, ctx).mean() < _forgotten_scores(ctx.base_model, ctx).mean()


# -- parameters -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "values, message",
    [
        ({"layers": -1}, "'layers' must be in"),
        ({"pretrain_steps": 0}, "'pretrain_steps' must be in"),
        ({"pretrain_ratio": 0.9}, "'pretrain_ratio' must be in"),
        ({"user_share": 1.5}, "'user_share' must be in"),
        ({"finetune_epochs": 2.5}, "'finetune_epochs' must be int"),
        ({"unlearn_weight": -0.1}, "'unlearn_weight' must be in"),
        ({"cache": "maybe"}, "'cache' must be bool"),
        ({"unlearn_target": "nowhere"}, "'unlearn_target' must be one of"),
        ({"steps": 3}, "has no parameter 'steps'"),
    ],
)
def test_parameter_validation(values, message):
    with pytest.raises(ConfigError, match=message):
        get_method("unlearnrec").validate(values)


def test_defaults_are_valid_and_cover_the_issue_knobs():
    spec = get_method("unlearnrec")
    defaults = spec.validate({})
    assert spec.prepare is not None
    assert {
        "layers",
        "pretrain_steps",
        "finetune_epochs",
        "unlearn_weight",
        "preserve_weight",
        "contrast_weight",
        "model_weight",
    } <= set(defaults)
    assert 0 < defaults["finetune_epochs"] <= 10
