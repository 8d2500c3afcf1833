"""Who was affected: every measure split by user attribute (activity, age, gender, occupation...),
with intervals, paired differences against retraining and the original, and fairness gaps."""

from core.breakdown.model import AttributeBreakdown, Breakdown

__all__ = ["AttributeBreakdown", "Breakdown"]
