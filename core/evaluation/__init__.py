"""Full-sort ranking metrics, computed one way for every model and group."""

from core.evaluation.full_sort import RowSets, evaluate_users, top_k  # noqa: F401
from core.evaluation.metrics import DEFAULT_KS, metric_names, ranking_metrics  # noqa: F401
