"""The link-prediction run configuration.

:class:`LinkConfig` is one frozen dataclass holding everything a run of
:func:`graphpair.train.train_link` needs; it checks itself when built, so a bad value fails
before any data is loaded. :func:`link_config` starts from the configuration shipped for a
dataset (:data:`LINK_CONFIGS`, the NCN paper's hyper-parameters from ``specs/ncn.md`` §4.4,
in :mod:`graphpair.train._link_tables`) and applies overrides. The fields are declared with
the mechanism of :mod:`graphpair.train._fields`, which every runner's configuration shares.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from graphpair._validation import describe, normalize_name
from graphpair.data import DatasetSpec
from graphpair.losses import RANKING_KINDS
from graphpair.nn import CONVS
from graphpair.train._fields import (
    Bool,
    Check,
    Choice,
    Config,
    ConfigError,
    Dataset,
    Int,
    Number,
    Path,
    Probability,
    cache_option,
    data_root_option,
    deterministic_option,
    device_option,
    download_option,
    fanout_option,
    memory_check_option,
    option,
    sampler_option,
)
from graphpair.train._link_tables import (
    GRIT_PAIR_OVERRIDES,
    LINK_CONFIGS,
    NCNC_COMMON,
    NCNC_OVERRIDES,
    user_graph_metrics,
)

__all__ = [
    "LINK_CONFIGS",
    "LINK_LOSSES",
    "LINK_PREDICTORS",
    "NODE_INPUTS",
    "TRAIN_NEGATIVES",
    "ConfigError",
    "LinkConfig",
    "link_config",
]

#: Predictors a link run can train (``'ncnc2'`` is NCNC with completion depth 2;
#: ``'grit-pair'`` is a GRIT encoder with the pair head :class:`graphpair.nn.GRITPairPredictor`,
#: which replaces the message-passing encoder).
LINK_PREDICTORS = ("ncn", "ncnc", "ncnc2", "gae", "ncn-diff", "grit-pair")
#: How node inputs are made: raw features, a learnable embedding per node id (ogbl-ddi), or a
#: learnable embedding per category = argmax of a one-hot feature (ogbl-ppa's species).
NODE_INPUTS = ("auto", "features", "id", "category")
#: Training negatives: ``'global'`` = uniform non-edges of the training graph drawn once per
#: epoch (spec §3.3, NeighborOverlap.py); ``'source'`` = per batch, keep each positive's source
#: and draw the destination uniformly from all nodes (citation2's script).
TRAIN_NEGATIVES = ("global", "source")
#: Training objectives on the scores of each positive and its ``num_negatives`` negatives:
#: ``'bce'`` (NCN's: mean log-loss of positives plus that of negatives), ``'infonce'``
#: (softmax cross-entropy of the positive against its own negatives,
#: :func:`graphpair.losses.link_info_nce`) and ``'ranking'`` (a pairwise ranking loss,
#: :func:`graphpair.losses.pairwise_ranking` of kind ``ranking_kind``).
LINK_LOSSES = ("bce", "infonce", "ranking")


def _link_only(spec: DatasetSpec) -> str | None:
    if spec.task != "link":
        return f"a link dataset; {spec.name!r} is a {spec.task} dataset"
    return None


def _metric_name(field: str, value: Any) -> str:
    if isinstance(value, str):
        key = normalize_name(value.replace("@", "at"))
        if key in ("mrr", "rocauc"):
            return key
        if key.startswith("hitsat") and key[6:].isdigit() and int(key[6:]) >= 1:
            return f"hits@{int(key[6:])}"
    requirement = "'hits@K' (K >= 1), 'mrr' or 'rocauc'"
    raise ConfigError(field, f"{field} must be {requirement}; got {describe(value)}")


class _Metrics(Check):
    """A non-empty tuple (or list) of distinct metric names, stored as a tuple."""

    metavar = "M1,M2"

    def check(self, field: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
            raise self.fail(field, "a non-empty tuple of metric names", value)
        names = tuple(_metric_name(field, v) for v in value)
        if len(set(names)) != len(names):
            raise self.fail(field, "free of repeats", value)
        return names

    @property
    def hint(self) -> str:
        return "separated by commas"


class _Metric(Check):
    metavar = "METRIC"

    def check(self, field: str, value: Any) -> str:
        return _metric_name(field, value)


_DROPOUT = Probability()
_BOOL = Bool()
_POSITIVE = Int(minimum=1)


@dataclass(frozen=True)
class LinkConfig(Config):
    """Everything one link-prediction run needs (``NCN: --flag`` names the reference's flag,
    ``specs/ncn.md`` §3).

    Build it with :func:`link_config` to start from a dataset's shipped configuration; the
    constructor alone gives the defaults below. Names are resolved case- and
    separator-insensitively (``'NCN_Diff'`` -> ``'ncn-diff'``, ``'cora'`` -> ``'Cora'``), and
    every field is checked at construction: a :class:`ConfigError` (a ``ValueError``) names
    the field and the value.

    Example:
        >>> config = LinkConfig(dataset="karate", predictor="NCN_Diff", epochs=5)
        >>> config.dataset, config.predictor, config.epochs, config.hidden_channels
        ('karate', 'ncn-diff', 5, 256)
        >>> config.replace(runs=2).runs
        2
    """

    dataset: str = option(
        "default",
        "registered link dataset (:func:`graphpair.data.dataset_names`).",
        Dataset(_link_only),
    )
    predictor: str = option("ncn", "one of :data:`LINK_PREDICTORS`.", Choice(LINK_PREDICTORS))
    conv: str = option(
        "puregcn",
        "encoder convolution (NCN: ``--model``), one of :data:`graphpair.nn.CONVS`.",
        Choice(CONVS),
    )
    num_layers: int = option(1, "encoder layers (NCN: ``--mplayers``).", Int(minimum=0))
    hidden_channels: int = option(
        256, "width of the encoder and the predictor (NCN: ``--hiddim``).", _POSITIVE
    )
    node_input: str = option(
        "auto",
        "one of :data:`NODE_INPUTS`; ``'auto'`` uses features when the graph has them, else a "
        "node-id embedding.",
        Choice(NODE_INPUTS),
    )
    ln: bool = option(True, "LayerNorm in the encoder (NCN: ``--ln``).", _BOOL)
    res: bool = option(False, "residual connections in the encoder (NCN: ``--res``).", _BOOL)
    jk: bool = option(
        False,
        "jumping knowledge: the encoder's output is a learned sum of every layer's output "
        "[``--jk``].",
        _BOOL,
    )
    input_dropout: float = option(
        0.0, "encoder dropout on the input features (NCN: ``xdp``).", _DROPOUT
    )
    tail_dropout: float = option(
        0.0, "encoder dropout after its last layer (NCN: ``tdp``).", _DROPOUT
    )
    dropout: float = option(0.0, "encoder dropout (NCN: ``gnndp``).", _DROPOUT)
    edge_dropout: float = option(
        0.0, "encoder edge dropout, redrawn every layer (NCN: ``gnnedp``).", _DROPOUT
    )
    predictor_ln: bool = option(True, "LayerNorm in the predictor MLPs (NCN: ``--lnnn``).", _BOOL)
    predictor_dropout: float = option(0.0, "dropout in the predictor (NCN: ``predp``).", _DROPOUT)
    predictor_edge_dropout: float = option(
        0.0,
        "edge dropout of the predictor's graph before the common neighbours are found "
        "[``preedp``].",
        _DROPOUT,
    )
    use_xlin: bool = option(
        False, "the predictor's residual node MLP on its inputs (``docs/ncn.md``).", _BOOL
    )
    tailact: bool = option(
        False, "the predictor's MLPs end with their activation (``docs/ncn.md``).", _BOOL
    )
    twolayerlin: bool = option(False, "a two-layer head in the predictor (``docs/ncn.md``).", _BOOL)
    beta: float = option(
        1.0, "initial weight of the common-neighbour term (``docs/ncn.md``).", Number()
    )
    scale: float = option(
        1.0,
        "NCNC completion calibration (NCN: ``probscale``); ignored by the other predictors.",
        Number(),
    )
    offset: float = option(
        0.0,
        "NCNC completion calibration (NCN: ``proboffset``); ignored by the other predictors.",
        Number(),
    )
    pt: float = option(
        1.0,
        "NCNC completion's prior probability (NCN: ``pt``); ignored by the other predictors.",
        Number(above=0, note="a prior probability"),
    )
    alpha: float = option(
        1.0,
        "NCNC completion calibration (NCN: ``alpha``); ignored by the other predictors.",
        Number(),
    )
    chunk_size: int | None = option(
        None,
        "completion pairs scored at once (NCN: ``splitsize``): bounds NCNC's memory; ``None`` = "
        "chunks of at most :data:`graphpair.nn.NCNC_CHUNK` pairs.",
        Int(minimum=1, optional=True),
    )
    train_degree_cap: int | None = option(
        None,
        "NCNC in training: an endpoint's one-sided neighbours (the completion candidates) are "
        "subsampled to at most this many, uniformly with replacement and reweighted by "
        "``count / cap`` (an unbiased sum) (NCN: ``--trndeg``); ``None`` = all.",
        Int(minimum=1, optional=True),
    )
    test_degree_cap: int | None = option(
        None,
        "the same in evaluation (NCN: ``--tstdeg``); ``None`` = all.",
        Int(minimum=1, optional=True),
    )
    official_recursion: bool = option(
        False, "reproduce the reference's NCNC recursion (quirk Q1).", _BOOL
    )
    walk_length: int = option(
        3,
        "RRWP channels ``K`` of ``'grit-pair'`` (:class:`graphpair.nn.GRITLinkEncoder`): the "
        "attended pairs are the ``K - 1``-hop reach, recomputed on the masked graph every "
        "step. ``'grit-pair'`` uses ``num_layers`` (GRIT blocks), ``hidden_channels``, "
        "``dropout``, ``input_dropout``, ``predictor_dropout`` and ``predictor_ln``, and "
        "ignores the message-passing encoder's ``conv``, ``ln``, ``res``, ``jk``, "
        "``tail_dropout`` and ``edge_dropout``.",
        _POSITIVE,
    )
    heads: int = option(4, "attention heads of ``'grit-pair'``.", _POSITIVE)
    attn_dropout: float = option(0.0, "attention dropout of ``'grit-pair'``.", _DROPOUT)
    max_pairs: int = option(
        2_000_000,
        "the largest pair count ``'grit-pair'`` accepts (checked on the training and test "
        "graphs before the run).",
        _POSITIVE,
    )
    gnnlr: float = option(0.01, "Adam learning rate of the encoder.", Number(at_least=0))
    prelr: float = option(0.01, "Adam learning rate of the predictor.", Number(at_least=0))
    grad_clip: float | None = option(
        None,
        "clip the gradient norm of the encoder and of the predictor separately to this value "
        "(citation2); ``None`` = no clipping.",
        Number(above=0, optional=True),
    )
    batch_size: int = option(
        1024, "training target pairs per step (the last partial batch is dropped).", _POSITIVE
    )
    test_batch_size: int = option(8192, "pairs scored at once in evaluation.", _POSITIVE)
    epochs: int = option(100, "training epochs.", _POSITIVE)
    runs: int = option(10, "independent runs, with seeds ``seed, seed + 1, ...``.", _POSITIVE)
    seed: int = option(0, "the first run's seed (the reference uses 0..9).", Int(minimum=0))
    tlr: bool = option(
        True,
        "target link removal (NCN: ``--maskinput``): each step's positives are masked out of the "
        "graph for that step.",
        _BOOL,
    )
    negatives: str = option("global", "one of :data:`TRAIN_NEGATIVES`.", Choice(TRAIN_NEGATIVES))
    num_negatives: int = option(1, "training negatives per positive (NCN: 1).", _POSITIVE)
    loss: str = option(
        "bce",
        "training objective, one of :data:`LINK_LOSSES` (NCN: ``'bce'``).",
        Choice(LINK_LOSSES),
    )
    temperature: float = option(
        1.0, ":math:`\\tau` of ``'infonce'`` (scores are divided by it).", Number(above=0)
    )
    ranking_kind: str = option(
        "auc",
        "the form of ``'ranking'``, one of :data:`graphpair.losses.RANKING_KINDS`.",
        Choice(RANKING_KINDS),
    )
    margin: float = option(1.0, "the margin of ``'ranking'``.", Number())
    eval_every: int = option(1, "evaluate every this many epochs (and after the last).", _POSITIVE)
    patience: int | None = option(
        None,
        "early stopping: end a run after this many evaluations without a strictly better "
        "validation ``metric``; ``None`` = run every epoch.",
        Int(minimum=1, optional=True),
    )
    metrics: tuple[str, ...] = option(
        ("hits@20", "hits@50", "hits@100"),
        "metrics computed at every evaluation; each selects its own best epoch on validation "
        "(``'hits@K'``, ``'mrr'`` for per-positive negatives, ``'rocauc'``).",
        _Metrics(),
    )
    metric: str = option(
        "hits@100",
        "the headline metric, which selects the epoch and heads the table; it must be one of "
        "``metrics`` (:func:`link_config` adds it to them when only ``metric`` is given, and "
        "takes the first of ``metrics`` when only they are given and leave it out).",
        _Metric(),
    )
    valid_as_input: bool | None = option(
        None,
        "validation edges join the graph at test time (ogbl-collab); ``None`` = the dataset's "
        "rule.",
        Bool(optional=True),
    )
    sampler: str = sampler_option()
    fanout: tuple[int, ...] = fanout_option()
    memory_check: bool = memory_check_option()
    device: str = device_option()
    data_root: str | None = data_root_option()
    cache: str | None = cache_option()
    download: bool = download_option()
    deterministic: bool = deterministic_option()
    edge_list: str | None = option(
        None,
        "train on your own edge list file instead of a registered dataset "
        "(:func:`graphpair.data.load_edge_list`: NCN's random split, Hits@100, a learned "
        "embedding per node); ``dataset`` must then stay ``'default'``, whose shipped "
        "configuration (Cora's, 20 epochs, 1 run) is the starting point. The file must exist "
        "when the config is built. :func:`link_config` lowers the shipped ``batch_size`` to "
        "the file's training positives when they are fewer (unless ``batch_size`` is given), "
        "so a small graph trains one full batch per epoch.",
        Path(exists="file", what="a path to an edge list file"),
    )
    node_features: str | None = option(
        None,
        "node features to train on instead of the dataset's: a ``.pt`` / ``.npy`` tensor "
        "``[N, F]`` (read without pickles). NCN's citation2 NCNC trains on frozen NCN "
        "embeddings: ``torch.save(load_model(folder).embed(), 'h.pt')`` of a saved NCN, then "
        "NCNC with ``node_features='h.pt'`` and ``conv='none'`` (``docs/ncn.md``).",
        Path(exists="file", what="a path to a .pt or .npy feature file"),
    )
    header: bool | None = option(
        None,
        "whether the first line of the ``edge_list`` file is a header: ``True`` "
        "(``--header``) skips it, ``False`` (``--no-header``) reads it as an edge, ``None`` "
        "detects it (:func:`graphpair.data.read_edge_list`).",
        Bool(optional=True),
    )

    def check_together(self) -> None:
        """GRIT's heads split the width; the headline metric is tracked; an edge list
        replaces the dataset (two sources of edges would be ambiguous)."""
        if self.predictor == "grit-pair" and self.hidden_channels % self.heads:
            raise ConfigError(
                "heads",
                f"heads must divide hidden_channels={self.hidden_channels} for 'grit-pair'; "
                f"got {self.heads}",
            )
        if self.predictor == "grit-pair" and self.num_layers < 1:
            raise ConfigError(
                "num_layers",
                f"num_layers must be >= 1 for 'grit-pair' (GRIT blocks); got {self.num_layers}",
            )
        if self.metric not in self.metrics:
            raise ConfigError(
                "metric",
                f"metric must be one of metrics {list(self.metrics)}; got {self.metric!r}",
            )
        if self.edge_list is not None and self.dataset != "default":
            raise ConfigError(
                "edge_list",
                "edge_list replaces the dataset; give one of them, not "
                f"dataset={self.dataset!r} and edge_list={self.edge_list!r}",
            )

    @property
    def data_name(self) -> str:
        """The name tables and records give what the runs train on (the dataset's name,
        or the edge list's file name).

        Example:
            >>> LinkConfig(dataset="karate").data_name
            'karate'
        """
        if self.edge_list is not None:
            return os.path.basename(self.edge_list)
        return self.dataset


def link_config(dataset: str = "default", predictor: str = "ncn", **overrides: Any) -> LinkConfig:
    """The shipped configuration of ``dataset`` for ``predictor``, with ``overrides`` applied.

    Order: :class:`LinkConfig` defaults < :data:`LINK_CONFIGS` ``[dataset]`` < the NCNC
    differences of spec §4.4 and the reference's completion recursion (``'ncnc'``,
    ``'ncnc2'``: ``official_recursion=True``), or the small GRIT of
    ``'grit-pair'`` (width 64, 2 blocks, 4 heads, K = 3) < ``overrides``. A registered link
    dataset without a shipped configuration gets the :class:`LinkConfig` defaults.

    Args:
        dataset: A registered link dataset (case- and separator-insensitive).
        predictor: One of :data:`LINK_PREDICTORS`.
        **overrides: :class:`LinkConfig` fields to set last.

    Raises:
        ConfigError: an unknown dataset, predictor or field name, or an invalid value; the
            error's ``field`` names the field.

    Example:
        >>> cfg = link_config("cora", "ncnc", runs=3)
        >>> cfg.dataset, cfg.hidden_channels, cfg.scale, cfg.runs
        ('Cora', 256, 4.3, 3)
    """
    LinkConfig.check_names(overrides)
    name = LinkConfig.resolve("dataset", dataset)
    kind = LinkConfig.resolve("predictor", predictor)
    values: dict[str, Any] = dict(LINK_CONFIGS.get(name, {}))
    if kind in ("ncnc", "ncnc2"):
        values.update(NCNC_COMMON)
        values.update(NCNC_OVERRIDES.get(name, {}))
    if kind == "grit-pair":
        values.update(GRIT_PAIR_OVERRIDES)
    values.update(overrides)
    _pair_metrics(values, overrides)
    config = LinkConfig(dataset=name, predictor=kind, **values)
    if config.edge_list is not None:
        config = _edge_list_fit(config, overrides)
    return config


def _pair_metrics(values: dict[str, Any], overrides: dict[str, Any]) -> None:
    """``metric`` and ``metrics`` agree when only one of them is given: a headline metric
    the tracked ones lack is added to them (``--metric mrr``), and tracked metrics without
    the shipped headline one give it their first (``--metrics mrr``). Both given and at odds
    stays an error of :class:`LinkConfig`."""
    metric = values.get("metric", LinkConfig.__dataclass_fields__["metric"].default)
    metrics = values.get("metrics", LinkConfig.__dataclass_fields__["metrics"].default)
    if not isinstance(metrics, (tuple, list)) or not isinstance(metric, str) or not metrics:
        return  # the fields' own checks name what is wrong
    try:
        tracked = [_metric_name("metrics", m) for m in metrics]
        headline = _metric_name("metric", metric)
    except ConfigError:
        return
    if headline in tracked:
        return
    if "metric" in overrides and "metrics" not in overrides:
        values["metrics"] = (*metrics, metric)
    elif "metrics" in overrides and "metric" not in overrides:
        values["metric"] = metrics[0]


def _edge_list_fit(config: LinkConfig, overrides: dict[str, Any]) -> LinkConfig:
    """The shipped configuration fitted to a user's edge list, unless the overrides say:

    - ``batch_size``: at most the training positives of the split (the runner drops the last
      partial batch, so a small graph would otherwise train no step at all);
    - ``metrics`` / ``metric``: Hits@K only where the evaluation pools hold enough negatives
      (:func:`~graphpair.train._link_tables.user_graph_metrics`; with fewer than K every
      positive is a hit), else ROC-AUC.

    The split's sizes depend on the edge count only, not the seed; a graph too small to
    split keeps the shipped values (the runner refuses it with the split's message)."""
    from graphpair.data import link_split, load_edge_list

    assert config.edge_list is not None
    if "batch_size" in overrides and ("metrics" in overrides or "metric" in overrides):
        return config
    dataset = load_edge_list(config.edge_list, header=config.header)
    try:
        split = link_split(dataset, config.seed, audit=False)
    except ValueError:
        return config  # too small to split: the runner says so when it splits
    changes: dict[str, Any] = {}
    if "batch_size" not in overrides:
        changes["batch_size"] = max(1, min(config.batch_size, int(split.train_pos.size(1))))
    if "metrics" not in overrides and "metric" not in overrides and split.valid_neg.dim() == 2:
        pool = min(split.valid_neg[0].numel(), split.test_neg[0].numel())
        changes["metrics"], changes["metric"] = user_graph_metrics(
            pool, config.metrics, config.metric
        )
    return dataclasses.replace(config, **changes)
