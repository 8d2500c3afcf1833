"""Every metric family and evaluation group, written out for people.

Only words and rules here; :mod:`core.reporting.catalogue` resolves keys against them.
Explanations take ``{k}`` (the cut-off) and ``{group}`` (a group's label).
"""

from __future__ import annotations

from core.groups import GROUPS
from core.reporting.metric_types import (
    AGREEMENT,
    ATTACK,
    CLOSE_TO_RETRAIN,
    COST,
    HIGHER_IS_BETTER,
    JUDGE_BASE,
    JUDGE_NONE,
    JUDGE_THRESHOLD,
    LOWER_IS_BETTER,
    MEMORY,
    NOT_JUDGED,
    OTHER,
    UTILITY,
    GroupInfo,
    MetricFamily,
)
from core.reporting.numbers import AUC, COUNT, SCORE, SECONDS, SPEEDUP

GROUP_INFO: dict[str, GroupInfo] = {
    "retain": GroupInfo(
        "retain",
        "retained users",
        "retained",
        "Retained users are the people who asked for nothing: neither forgotten nor held out of training. "
        "Falling below the retrained model here is collateral damage.",
    ),
    "forget": GroupInfo(
        "forget",
        "forgotten users",
        "forgotten",
        "Forgotten users are the people whose data was removed. Staying at the original model's level, "
        "away from the retrained model, means the removed data still shapes their recommendations.",
    ),
    "similar": GroupInfo(
        "similar",
        "similar users",
        "similar",
        "Similar users are retained users whose tastes are closest to the forgotten ones, so harm from "
        "forgetting shows here first.",
    ),
}
assert tuple(GROUP_INFO) == GROUPS, "every evaluation group needs its words here"

AUC_TOLERANCE = 0.05
"""Two attack AUCs closer than this are the same attack outcome (AUC runs 0..1, guessing is 0.5)."""
AGREEMENT_TOLERANCE = 0.05
"""Agreement with retrain (0..1) must beat the original model's by more than this to count as closer."""

_GROUP = "(?P<group>" + "|".join(GROUPS) + ")"
_K = r"@(?P<k>\d+)"
_HELD_OUT = "their held-out test items, which no model trained on"


def _utility(metric: str, short: str, label: str, measures: str) -> MetricFamily:
    return MetricFamily(
        name=f"<group>/{metric}@<K>",
        pattern=f"{_GROUP}/{metric}{_K}",
        short=short,
        label=label,
        target=CLOSE_TO_RETRAIN,
        fmt=SCORE,
        section=UTILITY,
        higher_means="better recommendations",
        explanation=measures + " Measured on {group}, scored against " + _HELD_OUT + ".",
    )


def _agreement(metric: str, short: str, label: str, measures: str) -> MetricFamily:
    return MetricFamily(
        name=f"agreement/<group>/{metric}@<K>",
        pattern=f"agreement/{_GROUP}/{metric}{_K}",
        short=short,
        label=label,
        target=HIGHER_IS_BETTER,
        fmt=SCORE,
        section=AGREEMENT,
        judge_by=JUDGE_BASE,
        interval=True,
        tolerance=AGREEMENT_TOLERANCE,
        relative_tolerance=0.0,
        higher_means="closer to what retraining recommends",
        explanation=measures + " Averaged over {group}, with a 95 % interval. 1 means this model recommends "
        "exactly what a model that never saw the forgotten data would; the original model's agreement is the "
        "reference a method should improve on.",
    )


def _attack(key: str, short: str, label: str, measures: str) -> MetricFamily:
    return MetricFamily(
        name=key,
        pattern=key,
        short=short,
        label=label,
        target=CLOSE_TO_RETRAIN,
        fmt=AUC,
        section=ATTACK,
        interval=True,
        tolerance=AUC_TOLERANCE,
        relative_tolerance=0.0,
        higher_means="the attacker tells them apart more often",
        explanation=measures + " 0.5 means the attacker can only guess; 1.0 means it is always right. The "
        "target is the retrained model's value, not 0.5: it is near 0.5 only where the two sides are alike "
        "(forgotten people or interactions picked at random); for a request to forget items it lies far from "
        "0.5. Above the retrained model's value, traces of the forgotten data remain.",
    )


UTILITY_FAMILIES = (
    _utility(
        "hit",
        "Hit@{k}",
        "users with a right suggestion (Hit@{k})",
        "Hit@{k} is the share of users for whom at least one of the top {k} recommendations is an item "
        "they really went on to use (1 = every user got one, 0 = nobody did).",
    ),
    _utility(
        "ndcg",
        "NDCG@{k}",
        "ranking quality (NDCG@{k})",
        "NDCG@{k} scores the order of the top {k} recommendations: an item the user really went on to use "
        "counts more the higher it is placed (1 = a perfect list, 0 = no right suggestion).",
    ),
    _utility(
        "recall",
        "Recall@{k}",
        "share of a user's items found (recall@{k})",
        "Recall@{k} is the share of each user's later items that appear in their top {k} recommendations.",
    ),
    _utility(
        "precision",
        "Precision@{k}",
        "share of suggestions that were right (precision@{k})",
        "Precision@{k} is the share of the top {k} recommendations that the user really went on to use.",
    ),
    _utility(
        "mrr",
        "MRR@{k}",
        "how high the first right suggestion sits (MRR@{k})",
        "MRR@{k} rewards an early first right suggestion: 1 when it is first in the list, 1/2 when "
        "second, and so on; 0 when none of the top {k} is right.",
    ),
)

FORGOTTEN_RECALL = MetricFamily(
    name="forgotten_recall@<K>",
    pattern=r"forgotten_recall" + _K,
    short="forgotten-item recall@{k}",
    label="removed items still recommended (forgotten-item recall@{k})",
    target=CLOSE_TO_RETRAIN,
    fmt=SCORE,
    section=MEMORY,
    higher_means="more of the removed data is still recommended",
    explanation="Does the model still recommend what it was asked to forget? For each forgotten user, the "
    "share of their removed items that still appear in their top {k}. A model that never saw those items "
    "can still suggest some of them because they are popular, so the target is the retrained model's value, "
    "not zero. Above the retrained model's value, the model still remembers the removed data.",
)

ATTACK_FAMILIES = (
    _attack(
        "mia_auc",
        "old MIA AUC",
        "retired membership classifier (AUC)",
        "Shown only for runs stored before the attacks were reworked: a classifier that told forgotten "
        "users from users the model never trained on. It mostly detected whether the model still has a "
        "personal vector for a user (outsiders all share the popularity fallback), so a model that merely "
        "marks people unknown passed it; the fold-in and record-level attacks replace it.",
    ),
    _attack(
        "attack/fold_in_auc",
        "fold-in attack AUC",
        "fold-in attack on forgotten users (AUC)",
        "An attacker adds each person's history to the model in the same way for every person and every "
        "model, then checks how well the model predicts the rest of that history; this tells forgotten "
        "users apart from people the model never saw.",
    ),
    _attack(
        "attack/record_auc",
        "record attack AUC",
        "record-level attack (AUC)",
        "For the forgotten users, can the model's scores tell the interactions it was asked to forget "
        "from the same users' interactions it never trained on?",
    ),
    _attack(
        "attack/white_box_auc",
        "white-box attack AUC",
        "white-box attack on forgotten users' vectors (AUC)",
        "The record-level question asked of the parameters themselves: each forgotten user's rows are scored "
        "with the user vector the model still keeps, even for users it marks unknown (a model that only "
        "marks them unknown keeps their trained vectors; one that never trained them holds a random vector).",
    ),
)

ATTACK_CALIBRATION = MetricFamily(
    name="attack/calibration_auc",
    pattern="attack/calibration_auc",
    short="attack check AUC",
    label="record-level attack on kept data (calibration AUC)",
    target=CLOSE_TO_RETRAIN,
    fmt=AUC,
    section=ATTACK,
    interval=True,
    tolerance=AUC_TOLERANCE,
    relative_tolerance=0.0,
    higher_means="the model tells its training data from new data more easily",
    explanation="A check that the record-level attack works: the same attack on data every model keeps — "
    "retained users' training interactions against their held-out ones. Any trained model scores well above "
    "0.5 here, so it is the yardstick for the record-level figure. It should stay close to the retrained "
    "model's value; a large change means the method altered what the model knows about people who asked "
    "for nothing.",
)

KNOWN_USERS = MetricFamily(
    name="known_forgotten_users",
    pattern="known_forgotten_users",
    short="forgotten users still known",
    label="forgotten users the model still has a profile for",
    target=CLOSE_TO_RETRAIN,
    fmt=COUNT,
    section=MEMORY,
    higher_means="more forgotten people keep a personal profile",
    explanation="How many forgotten users still have a personal profile (their own learned vector) in the "
    "model. After a request to forget whole users the retrained model has none. For item or interaction "
    "requests the users keep their other data, so retraining knows them too and the count says little. A "
    "plain count, not an attack: a model that merely marks people unknown has not thereby forgotten what "
    "they taught it.",
)

AGREEMENT_FAMILIES = (
    _agreement(
        "jaccard",
        "top-{k} agreement (Jaccard)",
        "top-{k} agreement with retraining (Jaccard)",
        "For each user, the share of items that this model's top {k} and the retrained model's top {k} "
        "have in common, out of all items in either list (1 = the same items, 0 = none shared).",
    ),
    _agreement(
        "rbo",
        "top-{k} agreement (RBO)",
        "top-{k} agreement with retraining (rank-biased overlap)",
        "For each user, how alike this model's top {k} and the retrained model's top {k} are, the top "
        "places counting most (rank-biased overlap: 1 = the same list in the same order, 0 = nothing "
        "shared).",
    ),
)


def _fairness_gap(attribute: str, groups: str) -> MetricFamily:
    """A sweep's fairness gap of one user attribute (``core.sweeps.fairness``, issue 25)."""
    return MetricFamily(
        name=f"fairness_gap/{attribute}/ndcg@<K>",
        pattern=f"fairness_gap/{attribute}/ndcg{_K}",
        short=f"fairness gap · {attribute} (NDCG@{{k}})",
        label=f"fairness gap across {groups} (NDCG@{{k}} against retraining)",
        target=LOWER_IS_BETTER,
        fmt=SCORE,
        section=UTILITY,
        judge_by=JUDGE_NONE,
        higher_means="the change against retraining falls more unequally",
        explanation=f"How unequally the change against retraining falls across {groups}: each group's "
        "NDCG@{k} under the method minus under retraining, over the same retained users, then the largest "
        "minus the smallest group (groups of at least 20 users), in the spirit of CURE4Rec's A-IGF. 0 means "
        "every group moved alike. The original model's gap is only the noise between two trainings: read a "
        "method's gap against it.",
    )


FAIRNESS_GAP_FAMILIES = (
    _fairness_gap("activity", "activity bands"),
    _fairness_gap("age", "age bands"),
    _fairness_gap("gender", "genders"),
    _fairness_gap("occupation", "occupations"),
)

COST_FAMILIES = (
    MetricFamily(
        name="time_s",
        pattern="time_s",
        short="time for the request",
        label="time for this request",
        target=LOWER_IS_BETTER,
        fmt=SECONDS,
        section=COST,
        judge_by=JUDGE_NONE,
        higher_means="slower",
        explanation="Wall-clock time of the unlearning step itself: what every new request to forget costs "
        "(for the original model, its training time; for retraining, training from scratch). "
        "One-off set-up is counted apart (see the set-up time).",
    ),
    MetricFamily(
        name="prep_time_s",
        pattern="prep_time_s",
        short="set-up time",
        label="one-off set-up time",
        target=LOWER_IS_BETTER,
        fmt=SECONDS,
        section=COST,
        judge_by=JUDGE_NONE,
        higher_means="slower",
        explanation="Preparation a method does once, before any request (pre-training, building shards, "
        "clustering), shared by later requests. Read it with the time for the request: a "
        "method that is quick per request but needs a long set-up can cost more than retraining overall.",
    ),
    MetricFamily(
        name="speedup_vs_retrain",
        pattern="speedup_vs_retrain",
        short="speed-up vs retrain",
        label="speed-up against retraining",
        target=HIGHER_IS_BETTER,
        fmt=SPEEDUP,
        section=COST,
        judge_by=JUDGE_THRESHOLD,
        threshold=1.0,
        higher_means="faster than retraining",
        explanation="Retraining time divided by this method's time for the request, both measured in the "
        "same run. Above 1 the method is faster than retraining from scratch, below 1 slower. One-off "
        "set-up time is not included: read it beside the speed-up including set-up, and never judged good "
        "when set-up + request took longer than retraining.",
    ),
    MetricFamily(
        name="speedup_incl_setup",
        pattern="speedup_incl_setup",
        short="speed-up incl. set-up",
        label="speed-up against retraining, set-up included",
        target=HIGHER_IS_BETTER,
        fmt=SPEEDUP,
        section=COST,
        judge_by=JUDGE_THRESHOLD,
        threshold=1.0,
        higher_means="faster than retraining overall",
        explanation="Retraining time divided by this method's set-up time plus its time for the request, all "
        "measured in the same run: what this request really cost. Below 1 the method took longer than "
        "retraining from scratch; later requests share the set-up, so it pays off after enough of them.",
    ),
)

FAMILIES: tuple[MetricFamily, ...] = (
    *UTILITY_FAMILIES,
    FORGOTTEN_RECALL,
    KNOWN_USERS,
    *ATTACK_FAMILIES,
    ATTACK_CALIBRATION,
    *AGREEMENT_FAMILIES,
    *COST_FAMILIES,
    *FAIRNESS_GAP_FAMILIES,
)

OTHER_FAMILY = MetricFamily(
    name="<other>",
    pattern=r"(?!)",
    short="{key}",
    label="{key}",
    target=NOT_JUDGED,
    fmt=SCORE,
    section=OTHER,
    judge_by=JUDGE_NONE,
    explanation="A figure a method reports about itself (a diagnostic), outside the shared evaluation "
    "protocol; not judged.",
)

HEADLINE_KEYS = (
    "retain/hit@10",
    "retain/ndcg@10",
    "forget/hit@10",
    "forget/ndcg@10",
    "similar/hit@10",
    "similar/ndcg@10",
    "forgotten_recall@10",
    "known_forgotten_users",
    "mia_auc",
    "attack/fold_in_auc",
    "attack/record_auc",
    "attack/white_box_auc",
    "agreement/retain/rbo@10",
    "agreement/similar/rbo@10",
    "prep_time_s",
    "time_s",
    "speedup_vs_retrain",
    "speedup_incl_setup",
)
"""The report's key-results columns (those a run measured)."""

SUMMARY_KEYS = (
    "retain/ndcg@10",
    "forget/ndcg@10",
    "similar/ndcg@10",
    "forgotten_recall@10",
    "mia_auc",
    "attack/fold_in_auc",
    "attack/record_auc",
    "attack/white_box_auc",
    "prep_time_s",
    "time_s",
    "speedup_vs_retrain",
    "speedup_incl_setup",
)
"""The ``cragru-run`` summary columns (those a run measured)."""
