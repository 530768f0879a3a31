"""The graph-level run configuration.

:class:`GraphConfig` is one frozen dataclass holding everything a run of
:func:`graphpair.train.train_graph` needs (graph regression, graph classification, and node
classification on a set of graphs); it checks itself when built, so a bad value fails before
any data is loaded. :func:`graph_config` starts from the configuration shipped for a dataset
(:data:`GRAPH_CONFIGS`, with the differences of :data:`GRAPH_MODEL_CONFIGS` for a model; both
in :mod:`graphpair.train._graph_tables`) and applies overrides. The fields are declared with
the mechanism of :mod:`graphpair.train._fields`, which every runner's configuration shares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from graphpair._validation import describe
from graphpair.data import DatasetSpec, get_spec
from graphpair.train._fields import (
    Bool,
    Check,
    Choice,
    Config,
    ConfigError,
    Dataset,
    Int,
    Number,
    Probability,
    cache_option,
    data_root_option,
    deterministic_option,
    device_option,
    download_option,
    option,
)
from graphpair.train._graph_tables import GRAPH_CONFIGS, GRAPH_MODEL_CONFIGS

__all__ = [
    "GRAPH_ACTIVATIONS",
    "GRAPH_AGGREGATIONS",
    "GRAPH_CONFIGS",
    "GRAPH_METRICS",
    "GRAPH_MODELS",
    "GRAPH_MODEL_CONFIGS",
    "GRAPH_NORMS",
    "GRAPH_OPTIMIZERS",
    "GRAPH_POOLINGS",
    "GRAPH_RESIDUALS",
    "GRAPH_SCHEDULERS",
    "GraphConfig",
    "fixed_split",
    "fold_count",
    "graph_config",
]

#: Models a graph run can train: PyG baselines (``gin``, ``gine`` with edge features, ``gcn``,
#: ``sage``), SINC-GCN and its context-free special case SIR-GCN, and GRIT.
GRAPH_MODELS = ("gin", "gine", "gcn", "sage", "sinc", "sir", "grit")
#: Readouts of graph-level tasks (node-level tasks have none).
GRAPH_POOLINGS = ("sum", "mean", "max")
#: Normalisation after every layer of the baseline and SINC stacks.
GRAPH_NORMS = ("batch", "layer", "none")
#: Residual connections around a layer: none, the identity (where the layer keeps the width),
#: or a learned linear map (the SINC-GCN authors' ``resid`` Linear).
GRAPH_RESIDUALS = ("none", "identity", "linear")
#: Activations (``leaky_relu`` has slope 0.2, the SINC authors' choice).
GRAPH_ACTIVATIONS = ("relu", "leaky_relu", "gelu", "tanh")
#: SINC / SIR aggregations (``specs/sinc.md`` §2): of the messages and of the context.
GRAPH_AGGREGATIONS = ("sum", "mean", "max", "sym")
GRAPH_OPTIMIZERS = ("adam", "adamw")
#: ``'cosine'``: linear warm-up over ``warmup_epochs`` then cosine decay to 0, stepped once per
#: epoch (GRIT's ``cosine_with_warmup``, ``specs/grit.md`` §3.3); ``'plateau'``:
#: ``ReduceLROnPlateau`` on the validation loss (the training loss where the split has no
#: validation set), as the SINC authors.
GRAPH_SCHEDULERS = ("none", "cosine", "plateau")
#: Metrics a graph run can report (names of :class:`graphpair.metrics.Evaluator`).
GRAPH_METRICS = ("mae", "rmse", "acc", "balanced_acc", "rocauc", "ap")

# Split protocols (DatasetSpec.split) with one fixed train/valid/test split; every other
# protocol is cross-validation over folds.
_FIXED_SPLITS = ("benchmarking-gnns", "ogb-scaffold", "ogb-time", "lrgb", "first-80-percent")
# Loader options are plain JSON scalars (seeds, sizes, probabilities).
_SCALARS = (bool, int, float, str, type(None))


def fixed_split(protocol: str) -> bool:
    """Whether a dataset's split protocol is one fixed split (``True``) or folds (``False``)."""
    return protocol in _FIXED_SPLITS


def fold_count(protocol: str) -> int:
    """Folds of a cross-validation protocol without fold files: the number in its name
    (``'5-fold'`` -> 5, ``'errica-10fold'`` -> 10), else 10."""
    match = re.search(r"(\d+)-?fold", protocol)
    return int(match.group(1)) if match else 10


def _graph_sets_only(spec: DatasetSpec) -> str | None:
    if spec.task not in ("graph", "node"):
        return (
            f"a graph or node dataset; {spec.name!r} is a {spec.task} dataset (use the link runner)"
        )
    if spec.task == "node" and "graphs" not in spec.stats:
        return (
            f"a set of graphs; {spec.name!r} is a single graph (node classification on one "
            "graph is not a graph-set task)"
        )
    return None


class _LoaderOptions(Check):
    """Loader option names to JSON scalars, stored sorted and read-only."""

    def check(self, field: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(field, "a mapping of loader option names to values", value)
        for key, item in value.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise self.fail(field, "keyed by option names", key)
            if not isinstance(item, _SCALARS):
                raise ConfigError(
                    field,
                    f"{field}[{key!r}] must be a bool, int, float, str or None; got "
                    f"{describe(item)}",
                )
        return MappingProxyType(dict(sorted(value.items())))

    @property
    def hint(self) -> str:
        return "KEY=VALUE pairs separated by commas"


_DROPOUT = Probability()
_BOOL = Bool()
_POSITIVE = Int(minimum=1)
_AGGREGATION = Choice(GRAPH_AGGREGATIONS)


@dataclass(frozen=True)
class GraphConfig(Config):
    """Everything one graph-level run needs.

    Build it with :func:`graph_config` to start from a dataset's shipped configuration; the
    constructor alone gives the defaults below. Names are resolved case- and
    separator-insensitively (``'GINE'`` -> ``'gine'``, ``'zinc'`` -> ``'ZINC'``), and every
    field is checked at construction: a :class:`ConfigError` (a ``ValueError``) names the field
    and the value.

    Example:
        >>> config = GraphConfig(dataset="zinc", model="GINE", epochs=10)
        >>> config.dataset, config.model, config.epochs, config.hidden_channels
        ('ZINC', 'gine', 10, 64)
    """

    dataset: str = option(
        "CSL",
        "registered graph dataset, or node dataset made of many graphs (PATTERN, CLUSTER, "
        "UniqueSignature).",
        Dataset(_graph_sets_only),
    )
    model: str = option("gin", "one of :data:`GRAPH_MODELS`.", Choice(GRAPH_MODELS))
    dataset_options: Mapping[str, Any] = option(
        MappingProxyType({}),
        "options of the dataset's loader (``seed`` of generated sets; ``p``, "
        "``num_features``, ``num_graphs`` of UniqueSignature; ``num_train``, ``num_valid``, "
        "``num_test`` of PATTERN / CLUSTER); see :func:`graphpair.data.load_dataset`.",
        _LoaderOptions(),
    )
    hidden_channels: int = option(64, "width of every layer.", _POSITIVE)
    num_layers: int = option(4, "message-passing (or GRIT) layers.", _POSITIVE)
    heads: int = option(
        8, "attention heads (GRIT); ``hidden_channels`` must be a multiple.", _POSITIVE
    )
    walk_length: int = option(
        21,
        "GRIT's RRWP length ``K`` (channels: the random-walk matrices ``I, P, ..., P^(K-1)``).",
        _POSITIVE,
    )
    full_pairs: bool = option(
        True,
        "GRIT attends over every ordered pair of each graph (the reference's ``full_attn``); "
        "``False`` keeps only the pairs RRWP reaches.",
        _BOOL,
    )
    fused: bool = option(
        False,
        "compile GRIT's pair kernels with ``torch.compile`` (``GRIT(fused=True)``): the same "
        "numbers, several times faster per step after a one-time compilation (tens of "
        "seconds; needs a C++ compiler on CPU).",
        _BOOL,
    )
    dropout: float = option(
        0.0,
        "dropout after every layer (inside GRIT's block where the reference has it).",
        _DROPOUT,
    )
    attn_dropout: float = option(0.0, "dropout on GRIT's attention weights.", _DROPOUT)
    norm: str = option("batch", "one of ``GRAPH_NORMS``, after every layer.", Choice(GRAPH_NORMS))
    act: str = option("relu", "one of ``GRAPH_ACTIVATIONS``.", Choice(GRAPH_ACTIVATIONS))
    residual: str = option(
        "identity",
        "one of ``GRAPH_RESIDUALS`` around every layer (``'identity'`` only where the layer "
        "keeps the width); GRIT always has its own residuals.",
        Choice(GRAPH_RESIDUALS),
    )
    pooling: str = option(
        "mean",
        "graph readout, one of ``GRAPH_POOLINGS`` (ignored by node-level tasks).",
        Choice(GRAPH_POOLINGS),
    )
    head_layers: int = option(
        0,
        "hidden layers of the output MLP; each halves the width (GRIT's ZINC head is 2: 64 -> "
        "32 -> 16 -> 1); 0 is a single linear map.",
        Int(minimum=0),
    )
    head_bias: bool = option(True, "bias in the last linear map of the head.", _BOOL)
    aggr: str = option(
        "sum",
        "SINC's (and SIR's) message aggregation, one of ``GRAPH_AGGREGATIONS``.",
        _AGGREGATION,
    )
    context_aggr: str = option(
        "sum", "SINC's context aggregation, one of ``GRAPH_AGGREGATIONS``.", _AGGREGATION
    )
    optimizer: str = option("adam", "``'adam'`` or ``'adamw'``.", Choice(GRAPH_OPTIMIZERS))
    lr: float = option(1e-3, "optimiser learning rate.", Number(at_least=0))
    weight_decay: float = option(
        0.0, "optimiser weight decay (on every parameter).", Number(at_least=0)
    )
    scheduler: str = option("none", "one of ``GRAPH_SCHEDULERS``.", Choice(GRAPH_SCHEDULERS))
    warmup_epochs: int = option(0, "linear warm-up of ``'cosine'``.", Int(minimum=0))
    plateau_factor: float = option(
        0.5, "``ReduceLROnPlateau``'s ``factor``.", Number(above=0, below=1)
    )
    plateau_patience: int = option(10, "``ReduceLROnPlateau``'s ``patience``.", Int(minimum=0))
    grad_clip: float | None = option(
        None,
        "clip the gradient norm to this value every step; ``None`` = no clipping.",
        Number(above=0, optional=True),
    )
    class_weights: bool = option(
        False,
        "weight the classification loss per batch by :math:`(V - V_c) / V` for class "
        ":math:`c` (GRIT's weighted cross-entropy on PATTERN / CLUSTER).",
        _BOOL,
    )
    supcon_weight: float = option(
        0.0,
        "weight ``w`` of an auxiliary supervised-contrastive term: the loss is ``task + w * "
        "SupCon(z, y)`` on the pooled graph representations ``z`` of each batch "
        "(:func:`graphpair.losses.sup_con`); graph classification only, not GRIT; ``0`` = off.",
        Number(at_least=0),
    )
    supcon_temperature: float = option(0.1, ":math:`\\tau` of that term.", Number(above=0))
    epochs: int = option(100, "training epochs.", _POSITIVE)
    batch_size: int = option(
        32, "graphs per training step (the last batch may be smaller).", _POSITIVE
    )
    eval_batch_size: int | None = option(
        None,
        "graphs per evaluation batch; ``None`` = ``batch_size``.",
        Int(minimum=1, optional=True),
    )
    eval_every: int = option(1, "evaluate every this many epochs (and after the last).", _POSITIVE)
    precise_bn: bool = option(
        False,
        "before every evaluation, set each BatchNorm's statistics to their average over one "
        "pass of the training graphs with the current weights "
        "(:func:`~graphpair.train.precise_batch_norm`); the running averages of training lag "
        "behind the weights, which on CSL decides the score.",
        _BOOL,
    )
    patience: int | None = option(
        None,
        "early stopping: end a run after this many evaluations without a strictly better "
        "validation metric (needs a validation split); ``None`` = every epoch.",
        Int(minimum=1, optional=True),
    )
    metric: str | None = option(
        None,
        "the reported metric; ``None`` = the dataset's headline metric.",
        Choice(GRAPH_METRICS, optional=True),
    )
    runs: int = option(
        1, "independent runs per fold, with seeds ``seed, seed + 1, ...``.", _POSITIVE
    )
    seed: int = option(0, "the first run's seed.", Int(minimum=0))
    folds: int | None = option(
        None,
        "for cross-validated datasets, run the first this many folds; ``None`` = all. Must be "
        "``None`` for a dataset with one fixed split.",
        Int(minimum=1, optional=True),
    )
    device: str = device_option()
    data_root: str | None = data_root_option()
    cache: str | None = cache_option()
    download: bool = download_option()
    deterministic: bool = deterministic_option()

    def check_together(self) -> None:
        """What GRIT can build, SupCon's pooled representation, and folds only where the
        dataset has folds."""
        if self.supcon_weight > 0 and self.model == "grit":
            raise ConfigError(
                "supcon_weight",
                "supcon_weight needs a model with a pooled representation (not 'grit')",
            )
        if self.model == "grit" and self.hidden_channels % self.heads:
            raise ConfigError(
                "heads",
                f"heads must divide hidden_channels={self.hidden_channels} (GRIT splits the "
                f"width over the heads); got {self.heads}",
            )
        if self.model == "grit" and self.pooling == "max":
            raise ConfigError("pooling", "pooling must be 'sum' or 'mean' for GRIT; got 'max'")
        if self.model == "grit" and not self.head_bias:
            raise ConfigError("head_bias", "head_bias must be True for GRIT (its head has biases)")
        split = None if self.folds is None else get_spec(self.dataset).split
        if split is not None and fixed_split(split):
            raise ConfigError(
                "folds",
                f"folds must be None for {self.dataset!r}, which has one fixed split "
                f"({split!r}); got {self.folds}",
            )


def graph_config(dataset: str = "CSL", model: str | None = None, **overrides: Any) -> GraphConfig:
    """The shipped configuration of ``dataset`` for ``model``, with ``overrides`` applied.

    Order: :class:`GraphConfig` defaults < :data:`GRAPH_CONFIGS` ``[dataset]`` <
    :data:`GRAPH_MODEL_CONFIGS` ``[(dataset, model)]`` < ``overrides``. ``model=None`` takes the
    dataset's shipped model (``'sinc'`` for UniqueSignature), else ``'gin'``.

    Args:
        dataset: A registered graph-set dataset (case- and separator-insensitive).
        model: One of :data:`GRAPH_MODELS`, or ``None`` for the dataset's shipped model.
        **overrides: :class:`GraphConfig` fields to set last.

    Raises:
        ConfigError: an unknown dataset, model or field name, or an invalid value; the
            error's ``field`` names the field.

    Example:
        >>> cfg = graph_config("zinc", "grit", epochs=5)
        >>> cfg.dataset, cfg.num_layers, cfg.walk_length, cfg.scheduler, cfg.epochs
        ('ZINC', 10, 21, 'cosine', 5)
    """
    GraphConfig.check_names(overrides)
    name = GraphConfig.resolve("dataset", dataset)
    values: dict[str, Any] = dict(GRAPH_CONFIGS.get(name, {}))
    shipped = values.pop("model", "gin")
    kind = GraphConfig.resolve("model", shipped if model is None else model)
    values.update(GRAPH_MODEL_CONFIGS.get((name, kind), {}))
    values.update(overrides)
    return GraphConfig(dataset=name, model=kind, **values)
