"""Controls: do-nothing and retrain-like "methods" that calibrate the verdicts (PROTOCOL.md, "Controls").

Not unlearning methods. Each has a known right answer, so the words a run prints can be
checked against it (``tests/test_calibration*.py``, ``bench/bench_calibration.py``):

* a **second retraining** with another model seed (offset :data:`SEED_OFFSET`, never a
  reference ensemble's seed) is what the gold standard itself gives: it must read as
  retraining on every question;
* the **base unchanged**, the **base + 1 % noise** and the forgotten users' **vectors
  re-drawn** (item side kept) forget nothing the model learned from the deleted data: each
  must fail "Is the data forgotten?". ``ids_only`` (its own package) is the fourth.

Every control declares the ``control`` capability, so the window and ``cragru-run
--list-methods`` list them apart from the methods.
"""

from core.curves import BASE_CURVES
from core.methods.controls import method
from core.methods.registry import MethodSpec, register

SEED_OFFSET = method.SEED_OFFSET

_SHOULD_FAIL = "Forgets nothing the model learned from the deleted data: it must fail “Is the data forgotten?”."

for _name, _label, _text, _caps in (
    (
        "control_retrain_seed",
        "Control: second retraining, another seed (should pass)",
        "Trains the same model on the retained rows again with the model seed + 1000: exactly what retraining "
        "gives, up to its own seed noise. A verdict that flags it judges seed noise, not unlearning.",
        {"exact"},
    ),
    (
        "control_base",
        "Control: base unchanged (should fail)",
        "Returns the base model as it is — every parameter, every known user. " + _SHOULD_FAIL,
        {"needs_embeddings"},
    ),
    (
        "control_noise",
        "Control: base + 1 % noise (should fail)",
        "The base model with Gaussian noise of 1 % of each parameter table's spread added (seeded). " + _SHOULD_FAIL,
        {"needs_embeddings"},
    ),
    (
        "control_redraw",
        "Control: forgotten users' vectors re-drawn (should fail)",
        "The base model with the forgotten users marked unknown and their vectors re-drawn from the "
        "initialisation (as a model that never trained them has); the item side — which learned from their "
        "rows — is kept. Only users the request removes entirely are re-drawn (a user who keeps rows is "
        "trained on them by retraining too). " + _SHOULD_FAIL,
        {"needs_embeddings"},
    ),
):
    register(
        MethodSpec(
            name=_name,
            label=_label,
            description="A control, not a real method. " + _text,
            params=(),
            unlearn=method.UNLEARN[_name],
            curves=BASE_CURVES if _name == "control_retrain_seed" else (),
            capabilities=frozenset({"control", *_caps}),
        )
    )
