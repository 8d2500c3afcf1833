"""The three plain verdicts per method, on hand-built runs whose answers are known in advance."""

from dataclasses import replace

import pytest

from core.attacks import AttackResult, KnownUserCheck
from core.evaluation.bootstrap import Interval
from core.evaluation.estimates import Bounds, Estimate
from core.reporting import verdicts as v
from core.reporting.cost import cost_of
from core.reporting.people import group_counts
from core.result import ModelReport, RunResult

RETAIN, SIMILAR, FORGET = list(range(0, 10)), [10, 11, 12, 13], [14, 15]
N_USERS, N_ITEMS = 16, 40


def _attack(auc, vs_retrain=None, width=0.03, name="fold-in"):
    found = AttackResult(name, auc, Interval(auc, auc - width, auc + width, 40))
    if vs_retrain is not None:
        found = replace(found, vs_retrain=Estimate(*vs_retrain))
    return {name: found}


def _report(
    name,
    *,
    recall,
    recall_diff=None,
    attack=None,
    attack_diff=None,
    ndcg=0.30,
    ndcg_diff=None,
    per_user_ndcg=None,
    time_s=1.0,
    prep=0.0,
    extras=None,
):
    groups = {g: {"hit@10": 0.5, "ndcg@10": ndcg} for g in ("retain", "forget", "similar")}
    report = ModelReport(
        name,
        name.title(),
        groups,
        {"forgotten_recall@10": recall},
        time_s=time_s,
        prep_time_s=prep,
        extras=dict(extras or {}),
    )
    report.intervals = {"forgotten_recall@10": Bounds(recall - 0.01, recall + 0.01)}
    if recall_diff is not None:
        report.differences.setdefault("retrain", {})["forgotten_recall@10"] = Estimate(*recall_diff)
    if ndcg_diff is not None:
        for group in ("retain", "similar"):
            report.differences.setdefault("retrain", {})[f"{group}/ndcg@10"] = Estimate(*ndcg_diff)
    if attack is not None:
        report.attacks = _attack(attack, attack_diff)
    values = per_user_ndcg if per_user_ndcg is not None else [ndcg] * 20
    report.per_user = {"retain": {"ndcg@10": values[:10]}, "similar": {"ndcg@10": values[10:14]}}
    return report


def _lists(shift: int, changed_users=()) -> list[list[int]]:
    """Top-10 per user: items shift..shift+9, or 30..39 for ``changed_users``."""
    return [list(range(30, 40)) if u in changed_users else list(range(shift, shift + 10)) for u in range(N_USERS)]


def _run(models: dict, topk: dict, kind="users") -> RunResult:
    return RunResult(
        run_id="verdicts",
        config={},
        dataset={"name": "hand-built"},
        split={},
        request={"description": "users: 2 chosen", "kind": kind, "n_removed_rows": 20},
        groups={
            "n_retain": 10,
            "n_forget": 2,
            "n_similar": 4,
            "users": {"retain": RETAIN, "similar": SIMILAR, "forget": FORGET},
        },
        models=models,
        environment={"device": "cpu"},
        timings={},
        topk=topk,
    )


@pytest.fixture
def run():
    """base remembers; retrain is the target; "forgot" matches retrain; "partly" moved more than
    halfway on recall but stays clearly different; "kept" stays at base's level; "few" has
    intervals too wide to tell."""
    flat_ndcg = (0.0, -0.004, 0.004)
    models = {
        "base": _report(
            "base",
            recall=0.40,
            recall_diff=(0.30, 0.27, 0.33),
            attack=0.95,
            attack_diff=(0.45, 0.40, 0.50),
            time_s=12.0,
        ),
        "retrain": _report("retrain", recall=0.10, attack=0.50, time_s=10.0),
        "forgot": _report(
            "forgot",
            recall=0.101,
            recall_diff=(0.001, -0.004, 0.006),
            attack=0.51,
            attack_diff=(0.01, -0.02, 0.04),
            ndcg_diff=flat_ndcg,
            time_s=1.0,
            prep=2.0,
        ),
        "partly": _report(
            "partly",
            recall=0.20,
            recall_diff=(0.10, 0.08, 0.12),
            attack=0.51,
            attack_diff=(0.01, -0.02, 0.04),
            ndcg_diff=flat_ndcg,
            time_s=0.01,
            prep=30.0,
        ),
        "kept": _report(
            "kept",
            recall=0.39,
            recall_diff=(0.29, 0.26, 0.32),
            attack=0.93,
            attack_diff=(0.43, 0.38, 0.48),
            ndcg=0.20,
            ndcg_diff=(-0.10, -0.12, -0.08),
            per_user_ndcg=[0.2] * 20,
            time_s=20.0,
        ),
        "few": _report(
            "few",
            recall=0.12,
            recall_diff=(0.02, -0.05, 0.09),
            attack=0.55,
            attack_diff=(0.05, -0.10, 0.20),
            ndcg_diff=(0.0, -0.2, 0.2),
            time_s=1.0,
        ),
    }
    topk = {
        "base": _lists(0),
        "retrain": _lists(0),
        "forgot": _lists(0),
        "partly": _lists(0),
        "kept": _lists(0, changed_users=RETAIN[:6] + SIMILAR),
        "few": _lists(0),
    }
    return _run(models, topk)


def _by_model(result):
    return {mv.model: mv for mv in v.verdicts(result)}


def test_every_method_gets_three_answers_but_not_the_references(run):
    found = _by_model(run)
    assert set(found) == {"forgot", "partly", "kept", "few"}
    for mv in found.values():
        assert [a.question for a in mv.answers] == list(v.QUESTIONS)
        assert all(a.light in v.LIGHTS and a.sentence for a in mv.answers)


def test_forgot_partly_not_and_unsure(run):
    found = _by_model(run)
    assert found["forgot"].forgotten.light == v.GREEN
    assert found["partly"].forgotten.light == v.AMBER
    assert "moved toward the retrained model" in found["partly"].forgotten.sentence
    assert found["kept"].forgotten.light == v.RED
    assert found["few"].forgotten.light == v.GREY
    assert "not enough users to tell" in found["few"].forgotten.sentence.lower()


def test_forgetting_sentence_names_its_evidence_with_intervals_and_tolerance(run):
    answer = _by_model(run)["kept"].forgotten
    assert "forgotten-item recall@10" in answer.sentence and "fold-in attack" in answer.sentence
    joined = " ".join(answer.evidence)
    assert "95 % interval" in joined and "counts as the same" in joined and "retrain 0.500" in joined


def test_attack_chosen_by_request_kind():
    report = ModelReport("m", "M", {}, {})
    report.attacks = {**_attack(0.6), **_attack(0.7, name="record-level")}
    assert v.attack_key(report, "users") == "attack/fold_in_auc"
    assert v.attack_key(report, "items") == "attack/record_auc"
    report.attacks = _attack(0.6)
    assert v.attack_key(report, "items") == "attack/fold_in_auc"  # the other one where the preferred is missing


def test_people_are_counted(run):
    counts = {c.group: c for c in group_counts(run, "kept")}
    assert counts["retain"].moved_further == 6 and counts["retain"].n_users == 10
    assert counts["similar"].moved_further == 4
    assert counts["retain"].lost_quality == 10  # 0.2 against retrain's 0.3, beyond the 0.03 tolerance
    assert counts["retain"].base_lost_quality == 0
    assert {c.group: c.moved_further for c in group_counts(run, "forgot")} == {"retain": 0, "similar": 0}


def test_affected_lights(run):
    found = _by_model(run)
    assert found["forgot"].affected.light == v.GREEN
    assert found["kept"].affected.light == v.RED
    assert "6 of 10 retained users" in found["kept"].affected.sentence
    assert found["few"].affected.light == v.GREY


def test_collateral_change_without_quality_loss_is_amber(run):
    run.topk["forgot"] = _lists(0, changed_users=RETAIN[:4])  # 40 % of retained users moved further
    assert _by_model(run)["forgot"].affected.light == v.AMBER


def test_cost_lights_and_never_green_when_total_exceeds_retraining(run):
    found = _by_model(run)
    assert found["forgot"].cost.light == v.GREEN  # 2 + 1 s against 10 s
    partly = found["partly"].cost  # 0.01 s per request, 30 s set-up: over retraining's 10 s
    assert partly.light == v.AMBER
    assert "pays for itself after 4 requests" in partly.sentence
    assert found["kept"].cost.light == v.RED  # 20 s per request
    cost = cost_of(run.models, "partly")
    assert cost.speedup_request == pytest.approx(1000.0)
    assert cost.speedup_incl_setup == pytest.approx(10.0 / 30.01)
    assert "including set-up" in partly.evidence[0] and "per request" in partly.evidence[0]


@pytest.mark.parametrize("prep,time_s", [(9.5, 1.0), (0.0, 10.5), (100.0, 0.0), (5.0, 5.01)])
def test_cost_is_never_green_over_retraining(run, prep, time_s):
    run.models["forgot"].prep_time_s, run.models["forgot"].time_s = prep, time_s
    assert _by_model(run)["forgot"].cost.light != v.GREEN


def test_without_retraining_cost_is_grey(run):
    del run.models["retrain"]
    assert _by_model(run)["forgot"].cost.light == v.GREY


def test_sampled_model_flags_its_sample_and_skips_per_person_quality(run):
    report = run.models["forgot"]
    report.extras.update({"eval_sample/retain": 5.0, "eval_sample/similar": 2.0})
    report.per_user = {"retain": {"ndcg@10": [0.3] * 5}, "similar": {"ndcg@10": [0.3] * 2}}
    mv = _by_model(run)["forgot"]
    assert mv.sampled
    counts = {c.group: c for c in group_counts(run, "forgot")}
    assert counts["retain"].n_users == 5 and counts["retain"].lost_quality is None
    assert any("user sample" in line for line in mv.affected.evidence)


def test_verdicts_text_and_dict(run):
    text = v.verdicts_text(v.verdicts(run), evidence=True)
    assert "[   pass   ] Is the data forgotten?" in text and "[   fail   ]" in text
    assert "95 % interval" in text
    assert v.verdicts(run)[0].as_dict()["forgotten"]["light"] in v.LIGHTS


def test_run_without_evidence_falls_back_to_point_rule(hand_built_result):
    found = _by_model(hand_built_result)
    assert found["close"].forgotten.light == v.GREEN
    assert found["far"].forgotten.light == v.RED
    assert found["far"].cost.light == v.RED  # 20 s per request against retraining's 8 s


def test_both_speedups_are_catalogue_keys_and_total_over_retraining_is_never_good(hand_built_result):
    from core.reporting import judgement
    from core.reporting.catalogue import HEADLINE_KEYS, SUMMARY_KEYS, entry_for

    close = hand_built_result.models["close"]  # 0.5 s per request, retraining 8 s: 16×
    assert close.flat()["speedup_incl_setup"] == pytest.approx(16.0)
    close.prep_time_s = 20.0  # set-up + request 20.5 s > retraining's 8 s
    flat = close.flat()
    assert flat["speedup_vs_retrain"] == pytest.approx(16.0)
    assert flat["speedup_incl_setup"] == pytest.approx(8.0 / 20.5)
    assert entry_for("speedup_incl_setup").short == "speed-up incl. set-up"
    for keys in (HEADLINE_KEYS, SUMMARY_KEYS):
        assert {"time_s", "prep_time_s", "speedup_vs_retrain", "speedup_incl_setup"} <= set(keys)
    per_request = judgement.judge_report("speedup_vs_retrain", hand_built_result.models, "close")
    assert per_request.verdict != judgement.GOOD and "set-up" in per_request.reason
    assert judgement.judge_report("speedup_incl_setup", hand_built_result.models, "close").verdict == judgement.BAD


def test_overshooting_retraining_is_not_called_forgotten_and_a_quality_rise_is_not_harm(run):
    over = run.models["forgot"]
    over.forgotten_recall["forgotten_recall@10"] = 0.02  # base 0.40, retrain 0.10: past retrain
    over.differences["retrain"]["forgotten_recall@10"] = Estimate(-0.08, -0.10, -0.06)
    answer = _by_model(run)["forgot"].forgotten
    assert answer.light == v.AMBER and "overshot" in answer.sentence
    over.differences["retrain"]["retain/ndcg@10"] = Estimate(0.10, 0.08, 0.12)  # clearly above retrain's
    affected = _by_model(run)["forgot"].affected
    assert affected.light == v.AMBER and "rose" in affected.sentence


# -- issue 22: words calibrated on controls ---------------------------------------------------------
def _marks_unknown(report, n=2):
    report.known_users = KnownUserCheck(n_users=n, n_known=0)


def test_measures_matched_by_construction_cannot_lift_forgotten_above_fail(run):
    """ids_only: forgotten users ranked by the popularity fallback match retrain's recall exactly;
    the fold-in attack still remembers them: fail, not partly."""
    control = run.models["kept"]
    control.forgotten_recall["forgotten_recall@10"] = 0.10
    control.differences["retrain"]["forgotten_recall@10"] = Estimate(0.0, 0.0, 0.0)
    _marks_unknown(control)
    answer = _by_model(run)["kept"].forgotten
    assert answer.light == v.RED and answer.word == "fail"
    assert "fold-in attack" in answer.sentence and "recall" not in answer.sentence
    assert any("by construction" in line and "recall" in line for line in answer.evidence)
    control.attacks = {}  # only the by-construction figure left: never a pass
    only = _by_model(run)["kept"].forgotten
    assert only.light == v.GREY and "by construction" in only.sentence


def test_a_matching_measure_does_not_outweigh_one_that_remembers(run):
    """A re-draw of the forgotten users' vectors: the white-box attack matches retraining, the
    fold-in attack (the item side) still remembers them: fail."""
    redraw = run.models["kept"]
    _marks_unknown(redraw)
    redraw.attacks.update(_attack(0.50, vs_retrain=(0.0, -0.01, 0.01), name="white-box"))
    answer = _by_model(run)["kept"].forgotten
    assert answer.light == v.RED
    assert "white-box" in answer.sentence and "match" in answer.sentence


def test_without_an_ensemble_the_words_say_so(run):
    mv = _by_model(run)["forgot"]
    assert any("no reference ensemble" in line for line in mv.forgotten.evidence + mv.affected.evidence)


@pytest.mark.parametrize(
    "prep,time_s,light",
    [(0.0, 1.0, v.GREEN), (0.0, 9.0, v.LEVEL), (2.0, 12.0, v.LEVEL), (0.0, 19.0, v.RED), (40.0, 0.1, v.AMBER)],
)
def test_cost_about_the_same_is_its_own_word(run, prep, time_s, light):
    run.models["forgot"].prep_time_s, run.models["forgot"].time_s = prep, time_s  # retraining 10 s, the base model 12 s
    answer = _by_model(run)["forgot"].cost
    assert answer.light == light
    if light == v.LEVEL:
        assert answer.word == "about the same" and "timing noise" in answer.sentence


def test_timing_noise_comes_from_the_measured_retraining_times(run):
    from core.reporting.cost import TIMING_FLOOR_SHARE

    alone = cost_of(run.models, "forgot")  # retraining 10 s, no other retraining timed
    assert alone.tolerance_s == pytest.approx(TIMING_FLOOR_SHARE * 10.0) and "no other" in alone.tolerance_from
    assert (alone.low_s, alone.high_s) == pytest.approx((10.0 - alone.tolerance_s, 10.0 + alone.tolerance_s))
    measured = cost_of(run.models, "forgot", reference_times=[4.0, 18.0])
    share = TIMING_FLOOR_SHARE
    assert (measured.low_s, measured.high_s) == pytest.approx((4.0 * (1 - share), 18.0 * (1 + share)))
    run.models["forgot"].prep_time_s, run.models["forgot"].time_s = 0.0, 0.001
    busy = cost_of(run.models, "forgot", reference_times=[2.0, 90.0])  # one training timed at a busy moment
    assert busy.cheaper and not busy.about_the_same  # an instant method stays cheaper however wide the range
    assert "3 trainings took 4.00 s to 18.00 s" in measured.tolerance_from


def test_a_set_up_reused_from_the_cache_is_said_and_judged_at_its_first_cost(run):
    cragru = run.models["forgot"]  # 2 s set-up + 1 s request: cheaper than retraining's 10 s
    cragru.extras.update({"setup_cached_s": 1.5, "setup_first_s": 40.0})
    answer = _by_model(run)["forgot"].cost
    assert "set-up reused from cache; first computed in 40.50 s" in answer.sentence
    assert answer.light == v.AMBER  # 40.5 + 1 s against 10 s: the first run paid for it
    del cragru.extras["setup_first_s"]  # first-time cost not recorded: no fair comparison
    assert _by_model(run)["forgot"].cost.light == v.GREY


def test_sampled_counts_are_over_the_samples_own_users(run):
    report = run.models["kept"]  # moved 6 of the 10 retained users over everyone
    report.extras.update({"eval_sample/retain": 2.0, "eval_sample/similar": 2.0})
    report.per_user = {"retain": {"ndcg@10": [0.2] * 2}, "similar": {"ndcg@10": [0.2] * 2}}
    counts = {c.group: c for c in group_counts(run, "kept")}
    assert counts["retain"].n_users == 2 and counts["retain"].moved_further is None  # members not named
    run.groups["samples"] = {"kept": {"retain": [0, 9], "similar": [10, 11]}}
    counts = {c.group: c for c in group_counts(run, "kept")}
    assert (counts["retain"].moved_further, counts["retain"].n_users) == (1, 2)  # user 0 moved, user 9 not
    assert counts["similar"].moved_further == 2
    text = " ".join(_by_model(run)["kept"].affected.evidence)
    assert "1 of 2" in text and "of 2 retained users (" not in text.replace("1 of 2 retained users (50%)", "")


def test_no_green_on_a_sample_too_small_for_its_interval(run):
    from core.reporting import judgement

    report = run.models["forgot"]
    report.extras.update({"eval_sample/retain": 2.0, "eval_sample/similar": 2.0, "eval_sample/forgotten": 2.0})
    found = judgement.judge_report("retain/ndcg@10", run.models, "forgot")
    assert found.verdict == judgement.UNSURE and "only 2 users" in found.reason
    mv = _by_model(run)["forgot"]
    assert mv.affected.light == v.GREY and mv.forgotten.light != v.GREEN


# -- with a reference ensemble --------------------------------------------------------------------------
def _ensemble(run, band=None, times=(9.0, 11.0), r=3):
    from core.references.results import ReferenceSummary

    run.references = ReferenceSummary(
        r=r, retrain_seeds=[1, 2, 3][:r], base_seeds=[501, 502, 503][:r], retrain_times_s=list(times), band=band or {}
    )


def test_band_and_interval_decide_with_an_ensemble(run):
    """A difference the interval alone could not settle (±0.05 tolerance, 14 forgotten people) is
    "like retraining" when retrainings with other seeds differ as much."""
    few = run.models["few"]  # fold-in +0.05 [−0.10, +0.20]: can't tell against ±0.05
    few.attacks["fold-in"] = replace(few.attacks["fold-in"], vs_retrain=Estimate(0.03, -0.06, 0.12))
    few.differences["retrain"]["forgotten_recall@10"] = Estimate(0.0, -0.01, 0.01)
    assert _by_model(run)["few"].forgotten.light == v.GREY
    _ensemble(run, band={"attack/fold_in_auc": [-0.09, 0.11], "forgotten_recall@10": [-0.01, 0.01]})
    answer = _by_model(run)["few"].forgotten
    assert answer.light == v.GREEN
    assert any("retrainings with other seeds differ by" in line for line in answer.evidence)
    kept = _by_model(run)["kept"].forgotten  # +0.43 [0.38, 0.48]: beyond any band
    assert kept.light == v.RED


def test_the_per_person_test_decides_forgotten(run):
    from core.attacks.per_person import PersonLine, PersonTests

    _ensemble(run)

    def tests(verdict, trained):
        people = [PersonLine(str(u), 0.1, 0.0, 0.5, "") for u in FORGET]
        return PersonTests("fold-in+white-box", people, [-1.0, -1.5, -0.5], 0.6, trained, verdict, references=3)

    run.models["few"].person_tests = tests("never-trained", 0)
    few = _by_model(run)["few"].forgotten
    assert few.light == v.GREEN and "never trained on them" in few.sentence
    assert "0 of 2 forgotten people" in few.evidence[0]
    run.models["forgot"].person_tests = tests("trained", 2)
    assert _by_model(run)["forgot"].forgotten.light == v.RED  # the test outweighs matching attacks
    run.models["kept"].person_tests = tests("never-trained", 0)
    kept = _by_model(run)["kept"].forgotten
    assert kept.light == v.RED  # the attacks still remember: not outweighed
    assert kept.sentence.startswith("No: the per-person test is consistent with models never trained on them, but ")
    run.models["few"].person_tests = tests("unsure", 0)
    assert _by_model(run)["few"].forgotten.light == v.GREY


def test_affected_counts_people_only_beyond_the_ensemble(run):
    from core.references.results import PeopleBeyondSpread

    _ensemble(run, band={"retain/ndcg@10": [-0.01, 0.01], "similar/ndcg@10": [-0.3, 0.3]})
    run.topk["forgot"] = _lists(0, changed_users=RETAIN[:6])  # 60 % further than the original's lists
    run.models["forgot"].beyond_spread = {
        "retain": PeopleBeyondSpread(10, 2, 1),
        "similar": PeopleBeyondSpread(4, 1, 0),
    }  # about 1 in 4 by chance with R = 3: no flag
    affected = _by_model(run)["forgot"].affected
    assert affected.light == v.GREEN
    assert "2 of 10 retained users" in affected.sentence and "other retrainings" in affected.sentence
    run.models["forgot"].beyond_spread["retain"] = PeopleBeyondSpread(10, 10, 0)
    assert _by_model(run)["forgot"].affected.light == v.AMBER


def test_ensemble_retraining_times_set_the_timing_noise(run):
    _ensemble(run, times=(6.0, 19.0))  # + the run's retrain 10 s and base 12 s: the same from 3 s to 28.5 s
    run.models["forgot"].prep_time_s, run.models["forgot"].time_s = 0.0, 22.0
    answer = _by_model(run)["forgot"].cost
    assert answer.light == v.LEVEL and "4 trainings took" in answer.evidence[0]
    run.models["forgot"].time_s = 2.9
    assert _by_model(run)["forgot"].cost.light == v.GREEN
    run.models["forgot"].time_s = 29.0
    assert _by_model(run)["forgot"].cost.light == v.RED
