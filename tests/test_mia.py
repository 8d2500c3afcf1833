"""Membership inference: features, the attack, and the runner's entry point.

The key test trains a deliberately over-fitted model: the attack must tell its members
from outsiders, and must not tell the same users from outsiders under a model that
never saw them.
"""

import copy

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from core.config import ExperimentConfig
from core.data.demo import demo_dataset
from core.errors import CragruError
from core.forget_request import ForgetRequest
from core.mia import MembershipAttack, MembershipInferenceError, membership_auc_for_models
from core.mia_features import FEATURE_NAMES, membership_features
from core.models.base import ModelConfig
from core.models.training import train_recommender
from core.runner import prepare
from core.split import SplitConfig, make_split


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Two shared cores: a second intra-op thread mostly waits on the other jobs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class _Fixed:
    """A scorer with fixed scores (and popularity for nobody: every user known)."""

    def __init__(self, scores: np.ndarray) -> None:
        self.table = torch.as_tensor(scores, dtype=torch.float32)
        self.n_users, self.n_items = self.table.shape
        self.known_users = None
        self.popularity = torch.zeros(self.n_items)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.table[users]


def _own(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    users = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    items = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows])
    return sp.csr_matrix((np.ones(len(items)), (users, items)), shape=(len(rows), n_items))


def test_features_are_per_item_means_so_the_item_count_does_not_matter():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(1, 50))
    scores[0, :5] += 3.0
    model = _Fixed(np.repeat(scores, 6, axis=0))
    sets = [[0], [1], [7], [30], [0, 1, 7, 30], [0, 0, 1, 7, 30]]  # row 5 repeats item 0 (stored once)
    feats = membership_features(model, np.arange(6), _own(sets, 50))
    assert feats.shape == (6, len(FEATURE_NAMES))
    np.testing.assert_allclose(feats[4], feats[:4].mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(feats[5], feats[4], rtol=1e-6)
    # an item scored at the very top: percentile 1 and inside the top 10
    top = int(np.argmax(scores[0]))
    single = membership_features(model, np.array([0]), _own([[top]], 50))[0]
    assert single[FEATURE_NAMES.index("pct_mean")] == pytest.approx(1.0)
    assert single[FEATURE_NAMES.index("top10_share")] == 1.0


def test_features_ignore_the_scale_of_scores():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(3, 40))
    own = _own([[0, 3], [5, 6, 7], [1]], 40)
    a = membership_features(_Fixed(scores), np.arange(3), own)
    b = membership_features(_Fixed(scores * 250.0 + 17.0), np.arange(3), own)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_attack_separates_members_of_an_overfitted_model_but_not_of_one_that_never_saw_them():
    ds = demo_dataset(seed=3, n_users=400, n_items=300)
    split = make_split(ds, SplitConfig(outsider_fraction=0.3, seed=1))
    rng = np.random.default_rng(0)
    members = rng.permutation(np.unique(ds.users[split.train]))
    attack_members, held_members = np.sort(members[: len(members) // 2]), np.sort(members[len(members) // 2 :])
    outsiders = rng.permutation(split.outsiders)
    attack_out, held_out = np.sort(outsiders[: len(outsiders) // 2]), np.sort(outsiders[len(outsiders) // 2 :])
    own = ds.matrix(np.concatenate([split.train, split.outsider_rows]))

    overfit = ModelConfig(dim=64, reg=0.0, lr=0.02, epochs=40, batch_size=1024, seed=0)
    train = split.train
    model = train_recommender(overfit, ds.n_users, ds.n_items, ds.users[train], ds.items[train], "cpu")
    attack = MembershipAttack.fit(model, attack_members, own, attack_out, own)
    auc_members = attack.auc(model, held_members, own, held_out, own)
    assert auc_members > 0.8, auc_members

    # the same held-out users under a model trained without them: ranked like outsiders
    keep = train[np.isin(ds.users[train], attack_members)]
    without = train_recommender(overfit, ds.n_users, ds.n_items, ds.users[keep], ds.items[keep], "cpu")
    assert not bool(without.known_users[torch.as_tensor(held_members)].any())
    auc_without = attack.auc(without, held_members, own, held_out, own)
    assert abs(auc_without - 0.5) < 0.15, auc_without
    assert auc_members - auc_without > 0.25


def test_boosting_attack_is_available():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(40, 30))
    rows = [list(rng.choice(30, 5, replace=False)) for _ in range(40)]
    for u in range(20):  # members: their items scored high
        scores[u, rows[u]] += 2.0
    own = _own(rows, 30)
    model = _Fixed(scores)
    attack = MembershipAttack.fit(model, np.arange(0, 20, 2), own, np.arange(20, 40, 2), own, kind="boosting")
    assert attack.auc(model, np.arange(1, 20, 2), own, np.arange(21, 40, 2), own) > 0.8


def test_runner_entry_point_refuses_an_experiment_without_outsiders():
    config = ExperimentConfig(
        split=SplitConfig(outsider_fraction=0.0), request=ForgetRequest.parse("users:random:0.05")
    )
    prepared = prepare(config, demo_dataset())
    with pytest.raises(MembershipInferenceError, match="outsider") as info:
        membership_auc_for_models(prepared, {"base": _Fixed(np.zeros((prepared.dataset.n_users, 400)))}, seed=0)
    assert isinstance(info.value, CragruError)


def test_runner_entry_point_gives_base_high_and_a_never_trained_view_near_chance():
    ds = demo_dataset()
    config = ExperimentConfig(request=ForgetRequest.parse("users:random:0.1"),
                              model=ModelConfig(dim=32, lr=0.01, epochs=25, batch_size=1024))
    prepared = prepare(config, ds)
    train = prepared.split.train
    base = train_recommender(config.model, ds.n_users, ds.n_items, ds.users[train], ds.items[train], "cpu")
    kept = prepared.request.retained_rows
    # "retrain-like": the same weights, but the forgotten users are unknown and ranked by
    # the retained data's popularity, as the protocol ranks users a model never saw
    never = replace_known(base, ds, kept)
    aucs = membership_auc_for_models(prepared, {"base": base, "never": never}, seed=0)
    assert set(aucs) == {"base", "never"}
    assert aucs["base"] > 0.8
    assert abs(aucs["never"] - 0.5) < 0.2
    assert aucs == membership_auc_for_models(prepared, {"base": base, "never": never}, seed=0)  # seeded


def replace_known(model, ds, rows):
    out = copy.deepcopy(model)
    out.set_training_rows(ds.users[rows], ds.items[rows])
    return out

