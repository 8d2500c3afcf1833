"""E2URec's own figures beside the shared protocol: answer AUCs and JSD to a retrained reference.

The paper reports test AUC of the Yes/No recommender and the Jensen–Shannon divergence
of the unlearned model's answers on the forget prompts to those of a model tuned on
retained data only; both are measured here on the same sampled prompts.
"""

from __future__ import annotations

import numpy as np

from core.methods.e2urec.answers import remembered_logits
from core.methods.e2urec.distill import jensen_shannon, yes_probability
from core.methods.e2urec.llm_rec import REC, RETRAIN, STUDENT, Samples, labelled_samples, pick_rows, use_adapter


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else float("nan")


def own_measures(ctx, params: dict, prep, forget: Samples, forget_prompts: list[list[int]]) -> dict[str, float]:
    """E2URec's own figures: test AUC (student and original) and JSD to the retrained reference.

    Measured after the timed step (``UnlearnOutcome.late_extras``): they are not part of
    what a request costs; answers asked before under the same weights are reused."""
    ds, split, device = ctx.dataset, ctx.split, prep.device
    model, ids = prep.model, (prep.answer_ids, prep.pad_id)
    out: dict[str, float] = {}
    rng = np.random.default_rng([int(ctx.seed), 3])
    retained_test = split.test[~np.isin(ds.users[split.test], ctx.request.forget_users)]
    t_rows = pick_rows(retained_test, params["test_samples"], rng)
    test = labelled_samples(
        ds.users[t_rows], ds.items[t_rows], ds.matrix(np.concatenate([split.train, split.test])), ds.n_items, rng
    )
    test_prompts = prep.prompts.prompts(test.users, test.items)
    logits = {}
    for adapter in (STUDENT, REC) + ((RETRAIN,) if prep.has_retrain else ()):
        logits[adapter] = remembered_logits(model, adapter, forget_prompts, *ids, device, reporter=ctx.reporter)
        test_logits = remembered_logits(model, adapter, test_prompts, *ids, device, reporter=ctx.reporter)
        name = {STUDENT: "student", REC: "original", RETRAIN: "retrained"}[adapter]
        out[f"test_auc/{name}"] = _auc(test.labels, yes_probability(test_logits))
        out[f"forget_auc/{name}"] = _auc(forget.labels, yes_probability(logits[adapter]))
        out[f"forget_p_yes_positives/{name}"] = float(yes_probability(logits[adapter])[forget.labels == 1].mean())
    if prep.has_retrain:
        out["jsd_forget/student_vs_retrained"] = float(jensen_shannon(logits[STUDENT], logits[RETRAIN]).mean())
        out["jsd_forget/original_vs_retrained"] = float(jensen_shannon(logits[REC], logits[RETRAIN]).mean())
    use_adapter(model, STUDENT)
    return out
