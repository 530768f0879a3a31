"""Evaluation metrics, identical in value to OGB's evaluators.

Pure functions of torch tensors that return Python floats, computed in float64, with OGB's tie
rules (``ogb.linkproppred.Evaluator``, ``ogb.graphproppred.Evaluator``, scikit-learn's
``roc_auc_score`` / ``average_precision_score`` behind them):

- link ranking: :func:`hits_at_k` (shared negatives), :func:`ranks`, :func:`mrr` and
  :func:`ranked_hits_at_k` (per-positive negatives);
- per-task graph/node metrics with NaN labels: :func:`roc_auc`, :func:`average_precision`,
  :func:`rmse`, :func:`mae`, :func:`accuracy`, :func:`balanced_accuracy`; sequences:
  :func:`subtoken_f1`;
- :class:`Evaluator`, OGB's dict-in, dict-out interface, constructed from a dataset name (as
  OGB's) or a metric name; :data:`OGB_METRICS`, the metric of every OGB dataset; and
  :class:`SmallPoolWarning`, raised when Hits@K has fewer than K negatives.

See ``docs/metrics.md`` for the definitions and tie rules.
"""

from graphpair.metrics._classification import (
    accuracy,
    average_precision,
    balanced_accuracy,
    mae,
    rmse,
    roc_auc,
)
from graphpair.metrics._evaluator import METRICS, OGB_METRICS, Evaluator, SmallPoolWarning
from graphpair.metrics._link import hits_at_k, mrr, ranked_hits_at_k, ranks
from graphpair.metrics._sequence import SubtokenF1, subtoken_f1

__all__ = [
    "METRICS",
    "OGB_METRICS",
    "Evaluator",
    "SmallPoolWarning",
    "SubtokenF1",
    "accuracy",
    "average_precision",
    "balanced_accuracy",
    "hits_at_k",
    "mae",
    "mrr",
    "ranked_hits_at_k",
    "ranks",
    "rmse",
    "roc_auc",
    "subtoken_f1",
]
