"""Metrics checked against values computed by hand."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from core.evaluation.full_sort import RowSets, evaluate_users, mean_metrics
from core.evaluation.metrics import ranking_metrics


def test_single_user_hand_computed():
    # ranks 1..5: relevant at ranks 2 and 4; |truth| = 3
    hits = torch.tensor([[0, 1, 0, 1, 0]], dtype=torch.bool)
    m = ranking_metrics(hits, torch.tensor([3]), ks=(1, 3, 5))
    dcg5 = 1 / math.log2(3) + 1 / math.log2(5)
    idcg5 = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # min(3, 5) = 3 ideal hits
    assert m["ndcg@5"].item() == pytest.approx(dcg5 / idcg5)
    dcg3 = 1 / math.log2(3)
    idcg3 = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg@3"].item() == pytest.approx(dcg3 / idcg3)
    assert m["hit@1"].item() == 0.0 and m["hit@3"].item() == 1.0
    assert m["recall@5"].item() == pytest.approx(2 / 3)
    assert m["precision@5"].item() == pytest.approx(2 / 5)
    assert m["mrr@5"].item() == pytest.approx(1 / 2)
    assert m["mrr@1"].item() == 0.0


def test_ideal_dcg_uses_min_of_truth_and_k():
    # one relevant item at rank 1 → NDCG must be exactly 1 (a K-based ideal would give < 1)
    hits = torch.tensor([[1, 0, 0, 0, 0]], dtype=torch.bool)
    m = ranking_metrics(hits, torch.tensor([1]), ks=(5,))
    assert m["ndcg@5"].item() == pytest.approx(1.0)


def test_empty_truth_is_nan_and_excluded_from_mean():
    hits = torch.tensor([[1, 0], [0, 0]], dtype=torch.bool)
    m = ranking_metrics(hits, torch.tensor([1, 0]), ks=(2,))
    assert math.isnan(m["hit@2"][1].item())
    assert mean_metrics({"hit@2": m["hit@2"].numpy()})["hit@2"] == 1.0


class FixedScorer:
    """Scores given by a fixed matrix; user 2 unknown (popularity fallback)."""

    def __init__(self, scores, known=None, popularity=None):
        self.scores = torch.as_tensor(scores, dtype=torch.float32)
        self.n_users, self.n_items = self.scores.shape
        self._known = known
        self._pop = popularity if popularity is not None else torch.zeros(self.n_items)

    @property
    def device(self):
        return torch.device("cpu")

    @property
    def known_users(self):
        return self._known

    @property
    def popularity(self):
        return self._pop

    def score(self, users):
        return self.scores[users]


def _rows(pairs, shape):
    r, c = zip(*pairs) if pairs else ((), ())
    return RowSets(sp.csr_matrix((np.ones(len(r)), (r, c)), shape=shape))


def test_full_sort_masks_training_items_and_uses_popularity_for_unknown_users():
    scores = [[5, 4, 3, 2, 1], [1, 2, 3, 4, 5], [9, 9, 9, 9, 9]]
    known = torch.tensor([True, True, False])
    pop = torch.tensor([0.0, 0.0, 0.0, 10.0, 0.0])
    model = FixedScorer(scores, known, pop)
    mask = _rows([(0, 0)], (3, 5))  # user 0 trained on item 0: masked
    truth = _rows([(0, 1), (1, 0), (2, 3)], (3, 5))
    out = evaluate_users(model, np.array([0, 1, 2]), truth, mask, ks=(1, 5))
    assert out["hit@1"].tolist() == [1.0, 0.0, 1.0]  # user 0: item 1 first once item 0 masked
    assert out["mrr@5"][1] == pytest.approx(1 / 5)  # user 1: item 0 ranked last
