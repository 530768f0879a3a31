"""Training loops and runners.

- :func:`train_link`: the NCN / NCNC link-prediction runner (``specs/ncn.md`` §3-§4) for a
  :class:`LinkConfig`; :func:`link_config` gives the shipped per-dataset configuration
  (:data:`LINK_CONFIGS`) with overrides.
- Results: :class:`LinkResult` (runs, ``summary()`` = mean ± std ×100), :class:`RunResult`,
  :class:`EpochRecord`, per-metric model selection :func:`select_best`.
"""

from graphpair.train._config import (
    LINK_CONFIGS,
    LINK_LOSSES,
    LINK_PREDICTORS,
    NODE_INPUTS,
    TRAIN_NEGATIVES,
    ConfigError,
    LinkConfig,
    link_config,
)
from graphpair.train._link import (
    EpochCallback,
    RunCallback,
    bce_loss,
    build_encoder,
    build_predictor,
    evaluate_link,
    link_objective,
    train_link,
)
from graphpair.train._results import (
    EpochRecord,
    LinkResult,
    MetricSummary,
    RunResult,
    Selection,
    select_best,
)

__all__ = [
    "LINK_CONFIGS",
    "LINK_LOSSES",
    "LINK_PREDICTORS",
    "NODE_INPUTS",
    "TRAIN_NEGATIVES",
    "ConfigError",
    "EpochCallback",
    "EpochRecord",
    "LinkConfig",
    "LinkResult",
    "MetricSummary",
    "RunCallback",
    "RunResult",
    "Selection",
    "bce_loss",
    "build_encoder",
    "build_predictor",
    "evaluate_link",
    "link_config",
    "link_objective",
    "select_best",
    "train_link",
]
