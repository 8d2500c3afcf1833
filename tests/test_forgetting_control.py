"""The control the attacks must pass (PROTOCOL.md, "Controls"), on real ML-100K.

A "no-op" method keeps every base parameter and only forgets *who* the forgotten users
are (known users and popularity recounted on the retained rows). Measures that cannot
tell it from retraining are blind. On BPR, ``users:random:0.05``, seed 0, 10 %
outsiders: the fold-in attack must separate the no-op from retrain (paired difference
interval excluding 0), while retrain's own fold-in and record-level AUCs sit within
their intervals of 0.5.
"""

import copy

import numpy as np
import pytest
import torch

from core.attacks import (
    attack_difference,
    attack_result,
    fold_in_probe,
    fold_in_scores,
    known_user_check,
    record_probe,
    record_scores,
)
from core.config import DataConfig, ExperimentConfig
from core.errors import DatasetError
from core.evaluation.bootstrap import DIFFERENT, verdict
from core.experiment import load_data, prepare_data
from core.forget_request import ForgetRequest
from core.models.training import train_recommender

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def experiment():
    from core.data.paths import real_dataset_path

    try:
        path = real_dataset_path("ml-100k")
    except DatasetError as exc:
        pytest.skip(f"real MovieLens-100K not available: {exc}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two shared cores: a second intra-op thread mostly waits
    try:
        config = ExperimentConfig(data=DataConfig(path=str(path)), request=ForgetRequest.parse("users:random:0.05"))
        prepared = prepare_data(config, load_data(config))
        ds, split, request = prepared.dataset, prepared.split, prepared.request

        def train(rows, valid):
            return train_recommender(
                config.model,
                ds.n_users,
                ds.n_items,
                ds.users[rows],
                ds.items[rows],
                "cpu",
                valid=(ds.users[valid], ds.items[valid]),
            )

        base = train(split.train, split.valid)
        retrain = train(request.retained_rows, prepared.retrain_valid_rows)  # as the runner's retrain
    finally:
        torch.set_num_threads(threads)
    no_op = copy.deepcopy(base)  # every parameter kept; only who is known and popularity change
    no_op.set_training_rows(ds.users[request.retained_rows], ds.items[request.retained_rows])
    return prepared, {"base": base, "retrain": retrain, "no_op": no_op}


def test_no_op_keeps_every_parameter_and_forgets_only_who_the_users_are(experiment):
    prepared, models = experiment
    for p, q in zip(models["base"].parameters(), models["no_op"].parameters()):
        assert torch.equal(p, q)
    forgotten = prepared.request.forget_users
    assert known_user_check(models["base"], forgotten).n_known == len(forgotten)
    assert known_user_check(models["no_op"], forgotten).n_known == 0
    assert known_user_check(models["retrain"], forgotten).n_known == 0


def test_fold_in_separates_the_no_op_from_retrain(experiment):
    prepared, models = experiment
    probe = fold_in_probe(prepared.dataset, prepared.split, prepared.request, seed=0)
    scores = {name: fold_in_scores(model, probe) for name, model in models.items()}
    retrain = attack_result(probe, scores["retrain"])
    assert retrain.interval.contains(0.5), retrain
    assert attack_result(probe, scores["base"]).interval.low > 0.5  # base remembers them
    diff = attack_difference(probe, scores["no_op"], scores["retrain"])
    assert verdict(diff, 0.0) == DIFFERENT and diff.low > 0, diff


def test_record_level_is_neutral_for_retrain_and_blind_to_the_no_op(experiment):
    prepared, models = experiment
    probe = record_probe(prepared.dataset, prepared.split, prepared.request)
    scores = {name: record_scores(model, probe) for name, model in models.items()}
    retrain = attack_result(probe, scores["retrain"])
    assert retrain.interval.contains(0.5), retrain
    assert attack_result(probe, scores["base"]).interval.low > 0.5
    # Both score forgotten users by the same retained-rows popularity: the record-level
    # attack cannot tell them apart for user requests, which is why fold-in exists.
    assert np.array_equal(scores["no_op"], scores["retrain"])


@pytest.fixture(scope="module")
def run_with_control():
    """The same control through the product's own path: the runner, the registered
    ``ids_only`` method and the evidence every run computes."""
    from core.config import MethodChoice
    from core.data.paths import real_dataset_path
    from core.experiment import run_experiment

    try:
        path = real_dataset_path("ml-100k")
    except DatasetError as exc:
        pytest.skip(f"real MovieLens-100K not available: {exc}")
    config = ExperimentConfig(
        data=DataConfig(path=str(path)),
        request=ForgetRequest.parse("users:random:0.05"),
        methods=(MethodChoice("retrain"), MethodChoice("ids_only")),
        use_cache=False,
    )
    return run_experiment(config)


def test_the_runner_separates_the_ids_only_control_from_retrain(run_with_control):
    models = run_with_control.models
    control, retrain = models["ids_only"], models["retrain"]
    fold_in = control.attacks["fold-in"]
    assert fold_in.vs_retrain.low > 0, fold_in  # the control still fits forgotten users better than retrain does
    for attack in ("fold-in", "record-level"):
        interval = retrain.attacks[attack].interval
        assert interval.low <= 0.5 <= interval.high, (attack, interval)
    assert control.known_users.n_known == 0 == retrain.known_users.n_known
    assert models["base"].known_users.n_known == models["base"].known_users.n_users > 0
    # the old known-user signal cannot see it: forget-group metrics equal retrain's
    assert control.groups["forget"] == retrain.groups["forget"]
