"""The node-classification run configuration (``graphpair node``): :class:`NodeConfig` and
:func:`node_config`, declared with the mechanism of :mod:`graphpair.train._fields`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphpair.data import DatasetSpec
from graphpair.nn import CONVS
from graphpair.train._fields import (
    Bool,
    Choice,
    Config,
    Dataset,
    Int,
    Number,
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

__all__ = ["NodeConfig", "node_config"]


def _single_graph(spec: DatasetSpec) -> str | None:
    if spec.task == "graph" or "graphs" in spec.stats:
        return f"a single graph; {spec.name!r} is a set of graphs (use graphpair graph)"
    return None


_BOOL = Bool()
_POSITIVE = Int(minimum=1)


@dataclass(frozen=True)
class NodeConfig(Config):
    """One node-classification run (see :func:`~graphpair.train.train_node`).

    Example:
        >>> config = NodeConfig(dataset="default", conv="SAGE", epochs=20)
        >>> config.dataset, config.conv, config.epochs, config.hidden_channels
        ('default', 'sage', 20, 64)
    """

    dataset: str = option(
        "cora",
        "a registered dataset that is one graph with node features and labels (``'cora'``, "
        "``'citeseer'``, ``'pubmed'``, ``'ogbn-arxiv'``).",
        Dataset(_single_graph),
    )
    conv: str = option(
        "gcn", "encoder convolution, one of :data:`graphpair.nn.CONVS`.", Choice(CONVS)
    )
    hidden_channels: int = option(64, "encoder width.", _POSITIVE)
    num_layers: int = option(2, "encoder depth.", _POSITIVE)
    dropout: float = option(0.5, "encoder dropout.", Probability())
    lr: float = option(0.01, "Adam learning rate.", Number(at_least=0))
    weight_decay: float = option(5e-4, "Adam weight decay.", Number(at_least=0))
    epochs: int = option(
        200,
        "training epochs: one full-batch step each, or with ``sampler='neighbor'`` one pass "
        "over the training nodes in batches of ``batch_size``.",
        _POSITIVE,
    )
    runs: int = option(10, "independent runs, with seeds ``seed .. seed + runs - 1``.", _POSITIVE)
    seed: int = option(0, "the first run's seed.", Int(minimum=0))
    eval_every: int = option(1, "evaluate every this many epochs (and after the last).", _POSITIVE)
    patience: int | None = option(
        None,
        "early stopping on validation accuracy; ``None`` = every epoch.",
        Int(minimum=1, optional=True),
    )
    sampler: str = sampler_option()
    fanout: tuple[int, ...] = fanout_option()
    batch_size: int | None = option(
        None,
        "target nodes per step with ``sampler='neighbor'`` (``None`` = 1024); ``'full'`` "
        "takes one full-batch step per epoch.",
        Int(minimum=1, optional=True),
    )
    memory_check: bool = memory_check_option()
    device: str = device_option()
    data_root: str | None = data_root_option()
    cache: str | None = cache_option()
    download: bool = download_option()
    deterministic: bool = deterministic_option()


def node_config(dataset: str = "cora", **overrides: Any) -> NodeConfig:
    """A :class:`NodeConfig` for ``dataset`` with ``overrides`` (unknown names raise
    ``ConfigError``).

    Args:
        dataset: A registered single-graph dataset with node features and labels.
        **overrides: :class:`NodeConfig` fields.

    Example:
        >>> node_config("default", conv="gcn", epochs=50).epochs
        50
    """
    NodeConfig.check_names(overrides)
    return NodeConfig(dataset=dataset, **overrides)
