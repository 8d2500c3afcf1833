"""Base recommenders: they learn structure, sample correctly, save, repeat and stop."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from core.errors import Cancelled, ConfigError
from core.evaluation.full_sort import evaluate_users, mean_metrics
from core.events import MetricEvent, Reporter
from core.models.base import ModelConfig, Scorer
from core.models.factory import create_model
from core.models.lightgcn import LightGCN, normalized_adjacency
from core.models.negative_sampling import NegativeSampler
from core.models.persistence import load_model, save_model
from core.models.training import _Validator, build_model, row_sets, train_recommender

N_USERS, N_ITEMS = 60, 80
FAST = dict(dim=16, lr=0.02, reg=1e-4, batch_size=256, epochs=60, patience=8)


def _clusters(seed: int = 0):
    """Two user clusters, each drawing from its own item block with skewed popularity.

    Returns (train, valid, test) as (users, items) array pairs; every user holds out 3
    valid and 4 test items from their own block.
    """
    rng = np.random.default_rng(seed)
    block = N_ITEMS // 2
    weights = 1.0 / np.arange(1, block + 1) ** 0.5
    weights /= weights.sum()
    parts = {"train": ([], []), "valid": ([], []), "test": ([], [])}
    for user in range(N_USERS):
        offset = 0 if user < N_USERS // 2 else block
        chosen = offset + rng.choice(block, size=22, replace=False, p=weights)
        for name, items in (("test", chosen[:4]), ("valid", chosen[4:7]), ("train", chosen[7:])):
            parts[name][0].extend([user] * len(items))
            parts[name][1].extend(items.tolist())
    return {k: (np.asarray(u, np.int64), np.asarray(i, np.int64)) for k, (u, i) in parts.items()}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These tensors are tiny: with several OpenMP threads on a busy machine, waiting at
    barriers costs more than the work (seconds instead of milliseconds)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    return _clusters()


def _config(name: str, **extra) -> ModelConfig:
    return ModelConfig(name=name, **{**FAST, **extra})


def _train(data, name: str, **extra):
    config = _config(name, **extra)
    return train_recommender(config, N_USERS, N_ITEMS, *data["train"], "cpu", valid=data["valid"])


def _test_ndcg(model, data) -> float:
    truth = row_sets(*data["test"], N_USERS, N_ITEMS)
    mask = row_sets(*data["train"], N_USERS, N_ITEMS)
    users = np.unique(data["test"][0])
    return mean_metrics(evaluate_users(model, users, truth, mask, ks=(10,)))["ndcg@10"]


class _Popularity:
    """Ranks every user by training popularity: the baseline a model must beat."""

    def __init__(self, items):
        self.n_users, self.n_items = N_USERS, N_ITEMS
        self.popularity = torch.as_tensor(np.bincount(items, minlength=N_ITEMS), dtype=torch.float32)
        self.known_users = None
        self.device = torch.device("cpu")

    def score(self, users):
        return self.popularity.expand(len(users), -1).clone()


@pytest.mark.parametrize("name", ["bpr", "lightgcn"])
def test_model_beats_popularity_on_held_out_items(data, name):
    model = _train(data, name)
    popular = _test_ndcg(_Popularity(data["train"][1]), data)
    learned = _test_ndcg(model, data)
    assert isinstance(model, Scorer)
    assert learned > popular + 0.1, (learned, popular)


def test_known_users_and_popularity_reflect_training_rows():
    users = np.array([0, 0, 2, 2, 2])
    items = np.array([1, 3, 1, 4, 1])  # (2, 1) twice: popularity counts rows
    for name in ("bpr", "lightgcn"):
        model = create_model(_config(name), 4, 5, users, items)
        assert model.known_users.tolist() == [True, False, True, False]
        assert model.popularity.tolist() == [0.0, 3.0, 0.0, 1.0, 1.0]
        assert model.score(torch.tensor([0, 3])).shape == (2, 5)


def test_negative_sampler_never_returns_a_positive():
    rng = np.random.default_rng(1)
    n_users, n_items = 50, 30
    users = rng.integers(0, n_users - 1, 900)
    items = rng.integers(0, n_items, 900)
    users = np.concatenate([users, np.full(n_items - 1, 49)])  # user 49 has all items but 11
    items = np.concatenate([items, np.delete(np.arange(n_items), 11)])
    sampler = NegativeSampler(users, items, n_users, n_items)
    positives = set(zip(users.tolist(), items.tolist()))
    generator = torch.Generator().manual_seed(0)
    query = torch.as_tensor(np.repeat(np.arange(n_users), 400))
    drawn = sampler.sample(query, generator)
    pairs = set(zip(query.tolist(), drawn.tolist()))
    assert not pairs & positives
    assert drawn[query == 49].unique().tolist() == [11]
    assert not sampler.is_positive(query, drawn).any()
    assert sampler.is_positive(torch.as_tensor(users), torch.as_tensor(items)).all()
    # Roughly uniform over a user's negatives: every negative of user 0 shows up.
    negatives_of_0 = set(range(n_items)) - {i for u, i in positives if u == 0}
    assert set(drawn[query == 0].tolist()) == negatives_of_0


def test_lightgcn_adjacency_is_symmetric_normalised():
    # users u0: {i0, i1}, u1: {i1}; degrees u0=2, u1=1, i0=1, i1=2.
    adj = normalized_adjacency(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]), 2, 2).to_dense()
    s = 2**-0.5
    expected = torch.tensor(
        [
            [0, 0, s, 0.5],
            [0, 0, 0, s],
            [s, 0, 0, 0],
            [0.5, s, 0, 0],
        ]
    )
    assert torch.allclose(adj, expected, atol=1e-6)


def test_lightgcn_propagates_and_refreshes_after_updates():
    config = _config("lightgcn", layers=1, dim=4)
    model = LightGCN(config, 2, 2, np.array([0, 0, 1]), np.array([0, 1, 1]))
    user0, item0 = model.layer0()
    adj = normalized_adjacency(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]), 2, 2).to_dense()
    ego = torch.cat([user0, item0]).detach()
    expected = (ego + adj @ ego) / 2
    with torch.no_grad():
        users, items = model.embeddings()
        assert torch.allclose(torch.cat([users, items]), expected, atol=1e-6)
        before = model.score(torch.tensor([0, 1])).clone()
        user0.add_(1.0)  # an in-place edit (optimizer step, unlearning) must not hit a stale cache
        assert not torch.allclose(model.score(torch.tensor([0, 1])), before)
        changed = model.score(torch.tensor([0, 1])).clone()
        model.set_graph(np.array([0]), np.array([0]))
        assert not torch.allclose(model.score(torch.tensor([0, 1])), changed)


def test_lightgcn_gradients_match_dense_propagation():
    users, items = np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2])
    model = LightGCN(_config("lightgcn", layers=2, dim=3), 3, 3, users, items)
    loss, _ = model.bpr_loss(torch.tensor([0, 2]), torch.tensor([1, 2]), torch.tensor([2, 0]))
    loss.backward()
    adj = normalized_adjacency(torch.as_tensor(users), torch.as_tensor(items), 3, 3).to_dense()
    ego = torch.cat([t.detach() for t in model.layer0()]).requires_grad_(True)
    final = (ego + adj @ ego + adj @ adj @ ego) / 3
    u, i = final[:3], final[3:]
    diff = (u[[0, 2]] * (i[[1, 2]] - i[[2, 0]])).sum(-1)
    (-torch.nn.functional.logsigmoid(diff).mean()).backward()
    grads = torch.cat([model.user_embedding.weight.grad, model.item_embedding.weight.grad])
    assert torch.allclose(grads, ego.grad, atol=1e-6)


@pytest.mark.parametrize("name", ["bpr", "lightgcn"])
def test_save_load_round_trip_gives_identical_scores(data, name, tmp_path):
    model = _train(data, name, epochs=3)
    path = tmp_path / f"{name}.pt"
    save_model(model, path)
    loaded = load_model(path, "cpu")
    users = torch.arange(N_USERS)
    with torch.no_grad():
        assert torch.equal(model.score(users), loaded.score(users))
    assert type(loaded) is type(model)
    assert loaded.config == model.config
    assert torch.equal(loaded.known_users, model.known_users)
    assert torch.equal(loaded.popularity, model.popularity)


@pytest.mark.parametrize("name", ["bpr", "lightgcn"])
def test_same_seed_same_numbers(data, name):
    users = torch.arange(N_USERS)
    with torch.no_grad():
        first = _train(data, name, epochs=5).score(users)
        second = _train(data, name, epochs=5).score(users)
        other = _train(data, name, epochs=5, seed=1).score(users)
    assert torch.equal(first, second)
    assert not torch.allclose(first, other)


def test_early_stopping_restores_the_best_evaluated_state(data):
    events = []
    config = _config("bpr", lr=0.05, epochs=40, patience=3)
    model = train_recommender(
        config,
        N_USERS,
        N_ITEMS,
        *data["train"],
        "cpu",
        valid=data["valid"],
        reporter=Reporter(events.append).for_model("test"),
        stage="train",
    )
    curve = [e for e in events if isinstance(e, MetricEvent)]
    assert curve and all(e.series == "test/train" for e in curve)
    scores = [e.values["valid_ndcg10"] for e in curve]
    best = max(scores)
    assert scores.index(best) + 1 + config.patience == len(scores) or len(scores) == config.epochs
    validator = _Validator(data["valid"], *data["train"], N_USERS, N_ITEMS)
    assert validator(model) == pytest.approx(best, abs=1e-6)


def test_continue_training_an_existing_model(data):
    base = _train(data, "bpr", epochs=2)
    before = base.user_embedding.weight.detach().clone()
    out = train_recommender(_config("bpr"), N_USERS, N_ITEMS, *data["train"], "cpu", model=base, epochs=2)
    assert out is base
    assert not torch.equal(before, base.user_embedding.weight)


def test_cancellation_stops_training_quickly(data):
    with pytest.raises(Cancelled):
        train_recommender(
            _config("lightgcn", epochs=10_000),
            N_USERS,
            N_ITEMS,
            *data["train"],
            "cpu",
            reporter=Reporter(should_stop=lambda: True),
        )
    calls = {"n": 0}

    def stop_after_a_few_checks() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    start = time.perf_counter()
    with pytest.raises(Cancelled):
        train_recommender(
            _config("bpr", epochs=10_000, batch_size=8),
            N_USERS,
            N_ITEMS,
            *data["train"],
            "cpu",
            valid=data["valid"],
            reporter=Reporter(should_stop=stop_after_a_few_checks),
        )
    assert time.perf_counter() - start < 10


def test_bpr_loss_parts():
    model = create_model(_config("bpr", dim=2), 2, 3, np.array([0]), np.array([0]))
    with torch.no_grad():
        model.user_embedding.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        model.item_embedding.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 0.0], [1.0, 1.0]]))
    loss, reg = model.bpr_loss(torch.tensor([0]), torch.tensor([0]), torch.tensor([2]))
    assert loss.item() == pytest.approx(-np.log(1 / (1 + np.exp(-1.0))), rel=1e-5)
    assert reg.item() == pytest.approx((1 + 4 + 2) / 2)


def test_unknown_model_name_is_a_config_error():
    with pytest.raises(ConfigError):
        build_model(ModelConfig(name="svd"), 2, 2, np.array([0]), np.array([0]), "cpu")


@pytest.mark.parametrize("name", ["bpr", "lightgcn"])
def test_whole_epoch_batches_give_the_numbers_of_per_step_draws(data, name, monkeypatch):
    """On the CPU an epoch's rows and negatives are gathered at its start; the weights are
    bit-identical to drawing each step's negatives in the step (the path kept for CUDA)."""
    import core.models.training as training

    users = torch.arange(N_USERS)
    with torch.no_grad():
        whole = _train(data, name, epochs=6, batch_size=100).score(users)
    original = training._Batches.__init__

    def per_step(self, *args):
        original(self, *args)
        self.whole_epoch = False

    monkeypatch.setattr(training._Batches, "__init__", per_step)
    with torch.no_grad():
        stepwise = _train(data, name, epochs=6, batch_size=100).score(users)
    assert torch.equal(whole, stepwise)
