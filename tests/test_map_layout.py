"""The 2-D maps: seeded and repeatable, the histories' structure visible, the lasso exact,
and what the colours say computed from the top-10 lists."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from core.breakdown.map_layout import exposure_change, inside_polygon, layout_2d, moved_from_retrain, run_maps
from core.breakdown.model import Breakdown, MapLayout
from tests.test_breakdown import _planted, _prepared


def test_same_seed_same_map_and_scaled():
    x = np.random.default_rng(0).normal(size=(300, 16))
    a, b = layout_2d(x, seed=1), layout_2d(x, seed=1)
    assert a.shape == (300, 2) and np.array_equal(a, b)
    assert np.abs(a).max() == pytest.approx(1.0)


def test_history_map_separates_two_taste_blocks():
    ds, in_a = _planted()
    maps, notes = run_maps(_prepared(ds), object(), seed=0)  # no vectors: the histories
    assert notes == [] and set(maps) == {"users", "items"}
    users = maps["users"]
    assert "histories" in users.source and len(users.x) == ds.n_users
    first = users.x  # the first principal axis splits the two blocks
    assert min(first[in_a].max(), first[~in_a].max()) < max(first[in_a].min(), first[~in_a].min())
    assert len(maps["items"].x) == ds.n_items


def test_sparse_and_tsne_paths():
    m = sp.random(200, 50, density=0.1, random_state=0, format="csr")
    assert layout_2d(m, seed=0).shape == (200, 2)
    assert layout_2d(np.random.default_rng(0).normal(size=(120, 8)), seed=0, method="tsne").shape == (120, 2)
    with pytest.raises(ValueError, match="unknown map method"):
        layout_2d(m, seed=0, method="umap")


def test_lasso_matches_a_square():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, 10_000), rng.uniform(-1, 1, 10_000)
    square = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    inside = inside_polygon(x, y, square, chunk=4096)
    assert np.array_equal(inside, (np.abs(x) < 0.5) & (np.abs(y) < 0.5))
    assert not inside_polygon(x, y, square[:2]).any()


def test_colours_from_lists():
    retrain = np.array([[0, 1, 2], [3, 4, 5]])
    lists = np.array([[0, 1, 2], [6, 7, 8]])
    assert moved_from_retrain(lists, retrain).tolist() == [0.0, 1.0]
    change = exposure_change(lists, retrain, 9)
    assert change.tolist() == [0, 0, 0, -1, -1, -1, 1, 1, 1]
    assert exposure_change(lists, retrain, 9, users=np.array([0])).tolist() == [0] * 9


def test_maps_travel_with_the_breakdown():
    layout = MapLayout("users", np.array([0.1, -0.2]), np.array([0.3, 0.4]), source="s")
    bd = Breakdown("retained users", [0, 1], ["ndcg@10"], 0, 20, maps={"users": layout})
    again = Breakdown.from_dict(bd.to_dict())
    assert again.maps["users"].x.tolist() == pytest.approx([0.1, -0.2])
    assert again.maps["users"].source == "s"


def test_moved_is_one_minus_the_agreement_jaccard():
    from core.evaluation.agreement import overlap_per_user

    rng = np.random.default_rng(4)
    retrain = np.argsort(rng.random((500, 30)), axis=1)[:, :10]
    lists = np.where(rng.random((500, 10)) < 0.5, retrain, retrain + 30)
    jaccard, _ = overlap_per_user(lists, retrain)
    assert moved_from_retrain(lists, retrain) == pytest.approx(1.0 - jaccard)


class _Vectors:
    """An original model with layer-0 vectors (an EmbeddingModel): two clusters of users."""

    def __init__(self, users, items) -> None:
        import torch

        self.u, self.i = torch.as_tensor(users, dtype=torch.float32), torch.as_tensor(items, dtype=torch.float32)

    def layer0(self):
        return self.u, self.i

    def embeddings(self):
        return self.u, self.i


def test_map_from_the_original_models_vectors():
    ds, in_a = _planted()
    rng = np.random.default_rng(1)
    users = rng.normal(scale=0.1, size=(ds.n_users, 8))
    users[in_a, 0] += 3.0  # group A's vectors lie apart from group B's along one direction
    items = rng.normal(size=(ds.n_items, 8))
    maps, _ = run_maps(_prepared(ds), _Vectors(users, items), seed=0)
    assert maps["users"].source == "the original model's user vectors"
    assert maps["items"].source == "the original model's item vectors" and len(maps["items"].x) == ds.n_items
    x = maps["users"].x
    assert min(x[in_a].max(), x[~in_a].max()) < max(x[in_a].min(), x[~in_a].min())  # the clusters stay apart
    again, _ = run_maps(_prepared(ds), _Vectors(users, items), seed=0)
    assert np.array_equal(again["users"].x, x)  # seeded: the same map
