"""User-bootstrap intervals and the verdict rule, against hand-computed cases."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from core.evaluation.bootstrap import (
    DIFFERENT,
    EQUIVALENT,
    UNDECIDED,
    Interval,
    auc_replicates,
    bootstrap_auc,
    bootstrap_auc_difference,
    bootstrap_mean,
    bootstrap_paired_difference,
    verdict,
)


def test_constant_values_give_a_zero_width_interval():
    iv = bootstrap_mean(np.full(30, 0.25))
    assert (iv.value, iv.low, iv.high, iv.n) == (0.25, 0.25, 0.25, 30)
    assert iv.width == 0.0


def test_nans_are_dropped_and_an_empty_sample_is_nan():
    iv = bootstrap_mean([1.0, np.nan, 3.0])
    assert iv.value == 2.0 and iv.n == 2 and 1.0 <= iv.low <= iv.high <= 3.0
    empty = bootstrap_mean([np.nan])
    assert empty.n == 0 and np.isnan(empty.value) and verdict(empty, 0.1) == UNDECIDED


def test_same_seed_same_interval_other_seed_other_interval():
    x = np.random.default_rng(3).normal(size=60)
    assert bootstrap_mean(x, seed=7) == bootstrap_mean(x, seed=7)
    assert bootstrap_mean(x, seed=7) != bootstrap_mean(x, seed=8)


def test_two_point_sample_quantiles_by_hand():
    # values {0, 1}, n = 2: a resample mean is 0, 0.5 or 1 with probability ¼, ½, ¼,
    # so the 2.5 % and 97.5 % quantiles of 4000 resamples are 0 and 1.
    iv = bootstrap_mean([0.0, 1.0], n_boot=4000)
    assert (iv.value, iv.low, iv.high) == (0.5, 0.0, 1.0)


def test_coverage_on_simulated_normal_samples_is_close_to_95_percent():
    rng = np.random.default_rng(0)
    covered = [bootstrap_mean(rng.normal(1.0, 2.0, size=80), n_boot=400, seed=s).contains(1.0) for s in range(300)]
    assert 0.90 <= np.mean(covered) <= 0.985
    # the width follows the standard error: 2·1.96·σ/√n ≈ 0.88
    widths = [bootstrap_mean(rng.normal(0, 2.0, size=80), n_boot=400).width for _ in range(20)]
    assert 0.75 < np.mean(widths) < 1.0


def test_paired_difference_cancels_what_the_users_share():
    rng = np.random.default_rng(1)
    hardness = rng.normal(0, 5, size=100)  # large between-user spread
    a, b = hardness + 0.3, hardness  # the method is uniformly 0.3 better
    paired = bootstrap_paired_difference(a, b)
    assert paired.value == pytest.approx(0.3) and paired.width == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="same users"):
        bootstrap_paired_difference(a, b[:-1])


def test_auc_matches_sklearn_including_ties():
    rng = np.random.default_rng(2)
    s = rng.normal(size=200).round(1)  # many ties
    y = rng.integers(0, 2, size=200)
    auc, reps = auc_replicates(s, y, n_boot=50)
    assert auc == pytest.approx(roc_auc_score(y, s))
    assert reps.shape == (50,) and np.all((reps >= 0) & (reps <= 1))


def test_auc_bootstrap_resamples_users_not_rows():
    # Two users, each a block of identical rows. Pooled: members 1.0 beat every
    # non-member, members 0.1 beat only the 0.0s → AUC 0.75. Drawing user 0 twice gives
    # 1, user 1 twice gives 0: resampling users shows there are only two of them.
    scores = np.r_[np.full(50, 1.0), np.full(50, 0.0), np.full(50, 0.9), np.full(50, 0.1)]
    labels = np.r_[np.ones(50), np.zeros(50), np.zeros(50), np.ones(50)]
    users = np.r_[np.zeros(100), np.ones(100)]
    by_user = bootstrap_auc(scores, labels, users, n_boot=400)
    assert by_user.n == 2 and by_user.value == pytest.approx(0.75)
    assert by_user.low == pytest.approx(0.0) and by_user.high == pytest.approx(1.0)


def test_stratified_auc_keeps_both_sides_and_perfect_separation_is_exact():
    s = np.r_[np.linspace(1, 2, 5), np.linspace(-2, -1, 20)]
    y = np.r_[np.ones(5), np.zeros(20)]
    iv = bootstrap_auc(s, y)
    assert (iv.value, iv.low, iv.high, iv.n) == (1.0, 1.0, 1.0, 25)


def test_paired_auc_difference_of_a_model_with_itself_is_zero_and_a_shift_is_found():
    rng = np.random.default_rng(4)
    y = np.r_[np.ones(40), np.zeros(80)]
    s = rng.normal(size=120)
    same = bootstrap_auc_difference(s, s.copy(), y)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    better = bootstrap_auc_difference(s + 1.5 * y, s, y)
    assert better.low > 0 and verdict(better, 0.0) == DIFFERENT


@pytest.mark.parametrize(
    ("low", "high", "tol", "expected"),
    [
        (-0.02, 0.03, 0.05, EQUIVALENT),  # inside the band
        (-0.05, 0.05, 0.05, EQUIVALENT),  # touching the edges still inside
        (0.06, 0.20, 0.05, DIFFERENT),  # entirely above the band
        (-0.30, -0.051, 0.05, DIFFERENT),  # entirely below
        (0.01, 0.09, 0.05, UNDECIDED),  # straddles +tol
        (-0.20, 0.20, 0.05, UNDECIDED),  # wider than the band: more users needed
        (0.01, 0.02, 0.0, DIFFERENT),  # tol 0: excludes zero
        (-0.01, 0.02, 0.0, UNDECIDED),
    ],
)
def test_verdict_rule(low, high, tol, expected):
    assert verdict(Interval((low + high) / 2, low, high, 10), tol) == expected


def test_verdict_rejects_a_negative_tolerance():
    with pytest.raises(ValueError):
        verdict(Interval(0, 0, 0, 1), -0.1)


def test_remembered_draws_give_the_intervals_drawn_afresh(monkeypatch):
    import core.evaluation.bootstrap as bootstrap

    rng = np.random.default_rng(3)
    for n in (2, 5, 256, 1500):
        x = rng.random(n)
        x[1::7] = np.nan
        for seed in (0, 7, [0, 12, 3]):
            bootstrap._DRAWS.clear()
            kept = bootstrap.bootstrap_mean(x, seed=seed), bootstrap.bootstrap_mean(x, seed=seed)
            with monkeypatch.context() as m:
                m.setattr(bootstrap, "_MEMO_CELLS", 0)  # nothing kept: drawn in chunks as before
                fresh = bootstrap.bootstrap_mean(x, seed=seed)
            assert kept[0] == kept[1] == fresh
    assert bootstrap._remembered_draws(np.random.default_rng(0), 5, 10) is None  # stateful: never kept
