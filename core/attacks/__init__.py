"""Membership attacks that score members and non-members by the same mechanism.

* :mod:`core.attacks.record_level` — forgotten rows vs the same users' held-out rows,
  scored by the model's own score for that user (plus a calibration line);
* :mod:`core.attacks.fold_in` — forgotten users vs outsiders, each folded into the
  model's frozen item side the same way; no popularity fallback in the path;
* :mod:`core.attacks.known_users` — the plain "still has a vector for N forgotten
  users" count, which is not an attack.

Build each probe once per experiment; score it under every model; compare models
with :func:`core.attacks.common.attack_difference` (paired over the same users).
"""

from core.attacks.common import AttackError, AttackResult, Probe, attack_difference, attack_result
from core.attacks.fold_in import FoldInConfig, FoldInProbe, fold_in_probe, fold_in_scores
from core.attacks.known_users import KnownUserCheck, known_user_check
from core.attacks.record_level import calibration_probe, record_probe, record_scores

__all__ = [
    "AttackError",
    "AttackResult",
    "FoldInConfig",
    "FoldInProbe",
    "KnownUserCheck",
    "Probe",
    "attack_difference",
    "attack_result",
    "calibration_probe",
    "fold_in_probe",
    "fold_in_scores",
    "known_user_check",
    "record_probe",
    "record_scores",
]
