"""The breakdown by user attribute: intervals equal to the one-figure bootstrap, a planted
effect found where it was planted (and nowhere else), an attribute-free CSV split by
activity only, and old result files still opening."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from core.breakdown.attributes import ACTIVITY, activity_attribute, age_attribute, available, user_attributes
from core.breakdown.measure import run_breakdown
from core.breakdown.model import Breakdown
from core.breakdown.stats import bootstrap_columns
from core.data.dataset import Dataset
from core.evaluation.bootstrap import bootstrap_mean
from core.evaluation.full_sort import RowSets
from core.reporting.breakdown_text import breakdown_table, hurt_most, who_else_sentence
from core.result import RunResult

N_USERS, N_ITEMS, BLOCK = 240, 120, 60


class BlockScorer:
    """Scores each user's own taste block high (items 0-59 for group A, 60-119 for B), with a
    fixed item order inside the block; ``drop_a`` pushes group A's block to the bottom for
    group A's users: the planted effect ("one group's items removed")."""

    def __init__(self, in_a: np.ndarray, drop_a: bool = False) -> None:
        self.n_users, self.n_items = N_USERS, N_ITEMS
        self.in_a = torch.as_tensor(np.array(in_a))
        self.drop_a = drop_a
        self.order = torch.linspace(1.0, 0.0, N_ITEMS)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    @property
    def known_users(self):
        return None

    @property
    def popularity(self) -> torch.Tensor:
        return torch.ones(N_ITEMS)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        a = self.in_a[users].unsqueeze(1)
        block_a = torch.arange(N_ITEMS) < BLOCK
        own = torch.where(a, block_a, ~block_a).float()
        if self.drop_a:
            own = torch.where(a & block_a, torch.full_like(own, -1.0), own)
        return own * 2 + self.order


def _planted():
    """Users 0..239 (first half group A), each with 8 train and 4 test items in their block."""
    rng = np.random.default_rng(0)
    in_a = np.arange(N_USERS) < N_USERS // 2
    rows = []
    for u in range(N_USERS):
        start = 0 if in_a[u] else BLOCK
        items = start + rng.choice(BLOCK, 12, replace=False)
        rows += [(f"{u:03d}", f"{i:03d}", float(r), r) for r, i in enumerate(items)]
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    meta = pd.DataFrame(
        {"group": np.where(in_a, "A", "B"), "age": rng.integers(15, 70, N_USERS)},
        index=[f"{u:03d}" for u in range(N_USERS)],
    )
    ds = Dataset.from_frame(frame, "planted", user_meta=meta)
    in_a_index = (ds.user_meta["group"] == "A").to_numpy()
    return ds, in_a_index


def _prepared(ds: Dataset, test_share: int = 4):
    """A tiny stand-in for the run's Prepared: the last ``test_share`` rows of each user are test."""
    position = np.arange(ds.n_interactions) - np.searchsorted(ds.users, ds.users, side="left")
    per_user = np.bincount(ds.users)[ds.users]
    test = np.flatnonzero(position >= per_user - test_share)
    train = np.setdiff1d(np.arange(ds.n_interactions), test)
    targets = SimpleNamespace(truth=RowSets.from_rows(ds, test), mask=RowSets.from_rows(ds, train), ks=(5, 10, 20))
    return SimpleNamespace(
        dataset=ds,
        split=SimpleNamespace(train=train),
        groups=SimpleNamespace(retain=np.arange(ds.n_users)),
        targets=targets,
    )


def _topk(scorer, prepared) -> np.ndarray:
    from core.evaluation.grouped import top_lists

    return top_lists(scorer, prepared.dataset.n_users, prepared.targets.mask)


@pytest.fixture(scope="module")
def planted():
    ds, in_a = _planted()
    prepared = _prepared(ds)
    scorers = {"base": BlockScorer(in_a), "retrain": BlockScorer(in_a), "dropper": BlockScorer(in_a, drop_a=True)}
    topk = {name: _topk(s, prepared) for name, s in scorers.items()}
    return run_breakdown(prepared, scorers, topk, {}, seed=3), in_a


def test_columns_share_the_one_figure_bootstrap():
    x = np.random.default_rng(1).random((3000, 4))
    mean, low, high, reps = bootstrap_columns(x, seed=[7, 1, 2])
    assert reps.shape == (1000, 4)
    for j in range(4):
        one = bootstrap_mean(x[:, j], seed=[7, 1, 2])
        assert mean[j] == pytest.approx(one.value, abs=1e-12)
        assert (low[j], high[j]) == pytest.approx((one.low, one.high), abs=1e-12)


def test_planted_effect_is_found_in_its_group_only(planted):
    bd, _ = planted
    group = bd.attributes["group"]
    a, b = group.groups.index("A"), group.groups.index("B")
    hurt = group.cell("vs_retrain", "dropper", "ndcg@10", a)
    same = group.cell("vs_retrain", "dropper", "ndcg@10", b)
    assert hurt[2] < -0.1  # the whole interval well below retraining
    assert same == [0.0, 0.0, 0.0]  # group B ranks exactly as under retraining
    assert group.cell("vs_retrain", "base", "ndcg@10", a) == [0.0, 0.0, 0.0]
    gap = group.gaps["dropper"]["ndcg@10"]
    assert gap[1] > 0.1 and gap[0] == pytest.approx(-hurt[0])
    assert group.gaps["base"]["ndcg@10"] == [0.0, 0.0, 0.0]
    assert group.sizes["dropper"] == [120, 120]
    # every utility metric and the agreement with retraining are broken down
    assert {"hit@5", "recall@20", "mrr@10", "precision@10", "jaccard@10", "rbo@10"} <= set(bd.metrics)
    assert group.cell("value", "dropper", "jaccard@10", a)[0] < 0.5 < group.cell("value", "dropper", "jaccard@10", b)[0]


def test_sentence_names_the_hurt_group_and_not_the_others(planted):
    bd, _ = planted
    sentence = who_else_sentence(bd, "dropper")
    assert sentence is not None and sentence.startswith("Users with group A (-0.") and "group B" not in sentence
    assert "lost NDCG@10 against retraining" in sentence and "other group groups did not" in sentence
    assert "age" not in sentence  # the ages were drawn at random: no age band singled out
    assert who_else_sentence(bd, "base") is None
    worst = hurt_most(bd, "dropper", "group")
    assert worst.label == "users with group A" and worst.hurt
    table = breakdown_table(bd, ["group", "nosuch"])
    assert "fairness gap" in table and "nosuch: not in this run's data" in table


def test_members_are_the_group(planted):
    bd, in_a = planted
    group = bd.attributes["group"]
    members = group.members(np.asarray(bd.users), group.groups.index("A"))
    assert in_a[members].all() and len(members) == in_a.sum()


def test_attribute_free_csv_is_split_by_activity_only(tmp_path):
    from core.data.loaders import load_dataset

    rng = np.random.default_rng(2)
    lines = ["user,item,rating"]
    for u in range(80):
        for i in rng.choice(40, 6 + u % 20, replace=False):
            lines.append(f"u{u},i{i},4")
    path = tmp_path / "plain.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load_dataset(str(path))
    assert available(ds) == [ACTIVITY]
    prepared = _prepared(ds, test_share=2)
    in_a = np.zeros(ds.n_users, dtype=bool)
    scorers = {"retrain": _PopScorer(ds), "base": _PopScorer(ds)}
    bd = run_breakdown(prepared, scorers, {n: _topk(s, prepared) for n, s in scorers.items()}, {}, seed=0)
    assert list(bd.attributes) == [ACTIVITY]
    activity = bd.attributes[ACTIVITY]
    assert len(activity.groups) == 4 and activity.groups[0].startswith("least active")
    assert sum(activity.sizes["base"]) == ds.n_users
    del in_a


class _PopScorer(BlockScorer):
    def __init__(self, ds: Dataset) -> None:
        self.n_users, self.n_items = ds.n_users, ds.n_items
        self.pop = torch.as_tensor(ds.item_counts(), dtype=torch.float32)

    @property
    def popularity(self) -> torch.Tensor:
        return self.pop

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.pop.expand(len(users), -1).clone()


def test_activity_bands_follow_the_population():
    ds, _ = _planted()
    prepared = _prepared(ds)
    attr = activity_attribute(ds, prepared.split.train, np.arange(ds.n_users))
    assert (attr.codes >= 0).all()  # every user has 8 training rows: one band
    assert len(attr.groups) == 1 and "8 interactions" in attr.groups[0]


def test_age_bands_cover_movielens_codings():
    ages = pd.Series([1, 17, 18, 24, 25, 35, 45, 49, 50, 56, None])
    attr = age_attribute(ages)
    assert [attr.groups[c] if c >= 0 else None for c in attr.codes] == [
        "under 18",
        "under 18",
        "18–24",
        "18–24",
        "25–34",
        "35–49",
        "35–49",
        "35–49",
        "50+",
        "50+",
        None,
    ]


def test_list_columns_are_not_attributes():
    ds, _ = _planted()
    ds.user_meta["genres"] = [["a", "b"]] * ds.n_users
    names = [a.name for a in user_attributes(ds, np.arange(ds.n_interactions), np.arange(ds.n_users))]
    assert names == [ACTIVITY, "group", "age"]


def test_round_trip_and_old_files(planted):
    bd, _ = planted
    again = Breakdown.from_dict(json.loads(json.dumps(bd.to_dict(), allow_nan=False)))
    a = again.attributes["group"]
    assert a.cell("vs_retrain", "dropper", "ndcg@10", 0) == pytest.approx(
        bd.attributes["group"].cell("vs_retrain", "dropper", "ndcg@10", 0), abs=1e-6
    )
    assert again.users == bd.users and a.codes == bd.attributes["group"].codes
    old = {"run_id": "x", "models": {}}
    assert RunResult.from_dict(old).breakdown is None
    assert RunResult.from_dict({**old, "breakdown": None}).breakdown is None


def planted_breakdown(method: str = "dropper", twin: str | None = None, seed: int = 3):
    """The planted run's breakdown with the hurting method named ``method`` (and, when given,
    a method ``twin`` that ranks exactly as retraining does)."""
    ds, in_a = _planted()
    prepared = _prepared(ds)
    scorers = {"base": BlockScorer(in_a), "retrain": BlockScorer(in_a), method: BlockScorer(in_a, drop_a=True)}
    if twin is not None:
        scorers[twin] = BlockScorer(in_a)
    topk = {name: _topk(s, prepared) for name, s in scorers.items()}
    return run_breakdown(prepared, scorers, topk, {}, seed=seed)


def test_a_failing_breakdown_is_a_warning_not_a_lost_run():
    from core.errors import Cancelled

    said = []
    broken = SimpleNamespace(groups=SimpleNamespace(retain=np.arange(3)), dataset=None, split=None)
    assert run_breakdown(broken, {}, {}, {}, seed=0, log=lambda text, level: said.append((level, text))) is None
    assert said and said[0][0] == "warning" and "breakdown by user attribute skipped" in said[0][1]
    with pytest.raises(AttributeError):
        run_breakdown(broken, {}, {}, {}, seed=0)  # without a log (tests, benches): the error itself

    class Stopping:
        @property
        def retain(self):
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        run_breakdown(SimpleNamespace(groups=Stopping()), {}, {}, {}, seed=0, log=lambda *a: None)


class _NeverScored(BlockScorer):
    def score(self, users):
        raise AssertionError("a sampled (slow) model is not scored again for the breakdown")


def test_a_sampled_model_reuses_its_stored_values():
    from core.evaluation.full_sort import evaluate_users

    ds, in_a = _planted()
    prepared = _prepared(ds)
    sample = np.arange(0, ds.n_users, 2)
    dropper = BlockScorer(in_a, drop_a=True)
    measured = evaluate_users(dropper, sample, prepared.targets.truth, prepared.targets.mask)
    report = SimpleNamespace(per_user={"retain": {m: measured[m].tolist() for m in ("ndcg@10", "hit@10")}})
    scorers = {"base": BlockScorer(in_a), "retrain": BlockScorer(in_a), "slow": _NeverScored(in_a, drop_a=True)}
    topk = {"base": _topk(scorers["base"], prepared), "retrain": _topk(scorers["retrain"], prepared)}
    topk["slow"] = _topk(dropper, prepared)
    bd = run_breakdown(prepared, scorers, topk, {"slow": {"retain": sample}}, seed=3, reports={"slow": report})
    group = bd.attributes["group"]
    a = group.groups.index("A")
    assert group.sizes["slow"] == [60, 60]
    assert group.cell("vs_retrain", "slow", "ndcg@10", a)[2] < -0.1
    assert group.cell("value", "slow", "recall@10", a) is None  # not measured per user: left out, not invented
    assert group.cell("value", "slow", "jaccard@10", a) is not None  # lists exist for everyone


def test_a_group_the_original_already_served_worse_is_not_the_methods_doing():
    ds, in_a = _planted()
    prepared = _prepared(ds)
    scorers = {
        "base": BlockScorer(in_a, drop_a=True),  # the original already lost group A's items
        "retrain": BlockScorer(in_a),
        "keeper": BlockScorer(in_a, drop_a=True),  # a method that changed nothing of that
    }
    topk = {name: _topk(s, prepared) for name, s in scorers.items()}
    bd = run_breakdown(prepared, scorers, topk, {}, seed=3)
    group = bd.attributes["group"]
    assert group.cell("vs_retrain", "keeper", "ndcg@10", group.groups.index("A"))[2] < -0.1
    assert who_else_sentence(bd, "keeper") is None
    assert not hurt_most(bd, "keeper", "group").hurt


def test_each_cell_is_the_one_figure_bootstrap_of_its_group():
    from core.breakdown.attributes import Attribute
    from core.breakdown.compute import _group_seed, compute_breakdown

    rng = np.random.default_rng(5)
    n = 300
    attr = Attribute("colour", "colour", rng.integers(0, 3, n), ("red", "green", "blue"))
    values = {m: rng.random((n, 2)) for m in ("base", "retrain", "m")}
    bd = compute_breakdown([attr], np.arange(n), values, ["ndcg@10", "hit@10"], seed=9)
    ab = bd.attributes["colour"]
    for g in range(3):
        rows = attr.codes == g
        seed = _group_seed(9, "colour", g)
        own = bootstrap_mean(values["m"][rows, 0], seed=seed)
        diff = bootstrap_mean(values["m"][rows, 0] - values["retrain"][rows, 0], seed=seed)
        assert ab.cell("value", "m", "ndcg@10", g) == pytest.approx([own.value, own.low, own.high], abs=1e-12)
        assert ab.cell("vs_retrain", "m", "ndcg@10", g) == pytest.approx([diff.value, diff.low, diff.high], abs=1e-12)
