"""Training loops and runners. Every model they train is a class of :mod:`graphpair.nn`;
this package configures, builds (:func:`build_encoder`, :func:`build_predictor`,
:func:`build_graph_model`), trains, evaluates and records.

- :func:`train_link`: the NCN / NCNC link-prediction runner (``specs/ncn.md`` §3-§4) for a
  :class:`LinkConfig`; :func:`link_config` gives the shipped per-dataset configuration
  (:data:`LINK_CONFIGS`) with overrides.
- Results: :class:`LinkResult` (runs, ``summary()`` = mean ± std ×100), :class:`RunResult`,
  :class:`EpochRecord`, per-metric model selection :func:`select_best`, and
  :class:`EarlyStopping` (the runners' ``patience``); checkpoints and resuming
  (:class:`RunCheckpoints`, :class:`CheckpointError`, ``train_link(checkpoint_dir=...,
  resume=True)``).
- :func:`train_graph`: the graph-level runner (graph regression / classification, node
  classification on graph sets) for a :class:`GraphConfig`; :func:`graph_config` gives the
  shipped per-dataset configuration (:data:`GRAPH_CONFIGS`); models from
  :func:`build_graph_model` (:data:`GRAPH_MODELS`); results in :class:`GraphResult`;
  :func:`precise_batch_norm` recomputes BatchNorm statistics from the training graphs
  before an evaluation (the ``precise_bn`` field).
- :func:`train_grace`: GRACE contrastive pre-training scored by a :func:`linear_probe`, for a
  :class:`GRACEConfig` (:func:`grace_config`, :data:`GRACE_CONFIGS`).
- :func:`train_node`: node classification on one graph (``graphpair node``), an encoder and
  a linear head, for a :class:`NodeConfig` (:func:`node_config`); results in
  :class:`NodeResult`.
- Reports (``graphpair report``): :func:`read_records` reads the runners' JSON records,
  :func:`group_records` groups runs of one configuration (:class:`ReportGroup`), and
  :func:`render_markdown`, :func:`render_csv`, :func:`write_figures` and
  :func:`write_report` make the leaderboard table and figures.
- Configuration: every ``*Config`` is a frozen dataclass whose fields are declared once
  (with their documentation and check); the CLI flags and the YAML keys of ``--config``
  come from the same declarations; :class:`ConfigError` names the field and the value.
- Saved models: ``save_model=`` on a runner writes the model of each run's selected epoch
  (tensors only, with a JSON manifest); :func:`load_model` reads it back as a
  :class:`SavedLinkModel` (``score``, ``embed``, ``recommend``), :class:`SavedGraphModel`,
  :class:`SavedNodeModel` (``predict``) or :class:`SavedEncoder` (``embed``);
  :class:`ModelFileError` names an unusable folder.
- :func:`deterministic`: torch's deterministic algorithms for a block (the runners'
  ``deterministic`` config field and ``--deterministic`` flag).
"""

from graphpair.train._allocator import release_freed_memory, reuse_freed_memory
from graphpair.train._artifact import ModelFileError
from graphpair.train._callbacks import EpochCallback, RunCallback, StepCallback
from graphpair.train._checkpoint import CheckpointError, RunCheckpoints, config_key
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
from graphpair.train._deterministic import deterministic
from graphpair.train._grace import (
    GRACE_CONFIGS,
    GRACEConfig,
    GRACEResult,
    grace_config,
    linear_probe,
    train_grace,
)
from graphpair.train._graph import GraphRunCallback, make_folds, train_graph
from graphpair.train._graph_builder import build_graph_model
from graphpair.train._graph_config import (
    GRAPH_CONFIGS,
    GRAPH_MODEL_CONFIGS,
    GRAPH_MODELS,
    GraphConfig,
    graph_config,
)
from graphpair.train._graph_results import GraphResult, GraphRun, GraphSummary, select_graph_best
from graphpair.train._graph_task import GraphTask, evaluate_graph, infer_task, task_loss
from graphpair.train._link import bce_loss, link_objective, train_link
from graphpair.train._link_builder import build_encoder, build_predictor
from graphpair.train._link_eval import evaluate_link
from graphpair.train._memory import MemoryEstimate, estimate_link_memory, estimate_node_memory
from graphpair.train._node import NodeConfig, NodeResult, NodeRun, node_config, train_node
from graphpair.train._precise_bn import precise_batch_norm
from graphpair.train._report import (
    ReportError,
    ReportGroup,
    group_records,
    read_records,
    render_csv,
    render_markdown,
    write_figures,
    write_report,
)
from graphpair.train._results import (
    EarlyStopping,
    EpochRecord,
    LinkResult,
    MetricSummary,
    RunResult,
    Selection,
    select_best,
)
from graphpair.train._saved import load_model
from graphpair.train._saved_graph import SavedGraphModel
from graphpair.train._saved_link import Recommendations, SavedLinkModel
from graphpair.train._saved_node import SavedEncoder, SavedNodeModel

__all__ = [
    "GRACE_CONFIGS",
    "GRAPH_CONFIGS",
    "GRAPH_MODELS",
    "GRAPH_MODEL_CONFIGS",
    "LINK_CONFIGS",
    "LINK_LOSSES",
    "LINK_PREDICTORS",
    "NODE_INPUTS",
    "TRAIN_NEGATIVES",
    "CheckpointError",
    "ConfigError",
    "EarlyStopping",
    "EpochCallback",
    "EpochRecord",
    "GRACEConfig",
    "GRACEResult",
    "GraphConfig",
    "GraphResult",
    "GraphRun",
    "GraphRunCallback",
    "GraphSummary",
    "GraphTask",
    "LinkConfig",
    "LinkResult",
    "MemoryEstimate",
    "MetricSummary",
    "ModelFileError",
    "NodeConfig",
    "NodeResult",
    "NodeRun",
    "Recommendations",
    "ReportError",
    "ReportGroup",
    "RunCallback",
    "RunCheckpoints",
    "RunResult",
    "SavedEncoder",
    "SavedGraphModel",
    "SavedLinkModel",
    "SavedNodeModel",
    "Selection",
    "StepCallback",
    "bce_loss",
    "build_encoder",
    "build_graph_model",
    "build_predictor",
    "config_key",
    "deterministic",
    "estimate_link_memory",
    "estimate_node_memory",
    "evaluate_graph",
    "evaluate_link",
    "grace_config",
    "graph_config",
    "group_records",
    "infer_task",
    "linear_probe",
    "link_config",
    "link_objective",
    "load_model",
    "make_folds",
    "node_config",
    "precise_batch_norm",
    "read_records",
    "release_freed_memory",
    "render_csv",
    "render_markdown",
    "reuse_freed_memory",
    "select_best",
    "select_graph_best",
    "task_loss",
    "train_grace",
    "train_graph",
    "train_link",
    "train_node",
    "write_figures",
    "write_report",
]
