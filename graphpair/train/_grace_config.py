"""The GRACE pre-training configuration (``graphpair pretrain``): :class:`GRACEConfig`, the
published configurations :data:`GRACE_CONFIGS` and :func:`grace_config`, declared with the
mechanism of :mod:`graphpair.train._fields`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from graphpair.nn.encoders._grace import GRACE_ACTIVATIONS
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
    option,
)

__all__ = ["GRACE_CONFIGS", "GRACEConfig", "grace_config"]

_BOOL = Bool()
_POSITIVE = Int(minimum=1)
_RATE = Probability()


@dataclass(frozen=True)
class GRACEConfig(Config):
    """One GRACE pre-training run (GRACE's ``config.yaml`` names in brackets).

    Example:
        >>> config = GRACEConfig(dataset="default", epochs=50)
        >>> config.dataset, config.hidden_channels, config.temperature, config.epochs
        ('default', 128, 0.4, 50)
    """

    dataset: str = option(
        "cora",
        "a registered node-labelled graph (``'cora'``, ``'citeseer'``, ``'default'``).",
        Dataset(),
    )
    hidden_channels: int = option(128, "representation size [``num_hidden``].", _POSITIVE)
    proj_channels: int = option(128, "projection head width [``num_proj_hidden``].", _POSITIVE)
    num_layers: int = option(2, "GCN layers [``num_layers``].", _POSITIVE)
    activation: str = option(
        "relu", "``'relu'`` or ``'prelu'`` [``activation``].", Choice(GRACE_ACTIVATIONS)
    )
    drop_edge_1: float = option(
        0.2, "edge-drop rate of the first view [``drop_edge_rate_1``].", _RATE
    )
    drop_edge_2: float = option(
        0.4, "edge-drop rate of the second view [``drop_edge_rate_2``].", _RATE
    )
    drop_feature_1: float = option(
        0.3, "feature-column masking rate of the first view [``drop_feature_rate_1``].", _RATE
    )
    drop_feature_2: float = option(
        0.4, "feature-column masking rate of the second view [``drop_feature_rate_2``].", _RATE
    )
    temperature: float = option(0.4, ":math:`\\tau` of the loss [``tau``].", Number(above=0))
    lr: float = option(5e-4, "Adam learning rate [``learning_rate``].", Number(above=0))
    weight_decay: float = option(1e-5, "Adam weight decay [``weight_decay``].", Number(at_least=0))
    epochs: int = option(200, "full-graph training steps [``num_epochs``].", _POSITIVE)
    runs: int = option(1, "independent runs with seeds ``seed, seed + 1, ...``.", _POSITIVE)
    seed: int = option(0, "the first run's seed.", Int(minimum=0))
    normalize_features: bool = option(
        True, "row-normalise the features first (GRACE's ``NormalizeFeatures``).", _BOOL
    )
    device: str = device_option()
    data_root: str | None = data_root_option()
    cache: str | None = cache_option()
    download: bool = download_option()
    deterministic: bool = deterministic_option()


#: GRACE's published configurations (``config.yaml`` of the authors' repository) by dataset;
#: other datasets start from Cora's.
GRACE_CONFIGS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "Cora": MappingProxyType({}),
        "CiteSeer": MappingProxyType(
            {
                "hidden_channels": 256,
                "proj_channels": 256,
                "activation": "prelu",
                "drop_edge_1": 0.2,
                "drop_edge_2": 0.0,
                "drop_feature_1": 0.3,
                "drop_feature_2": 0.2,
                "temperature": 0.9,
                "lr": 1e-3,
            }
        ),
    }
)


def grace_config(dataset: str = "cora", **overrides: Any) -> GRACEConfig:
    """The shipped configuration of ``dataset`` (:data:`GRACE_CONFIGS`) with ``overrides``.

    Args:
        dataset: A registered node-labelled graph (case- and separator-insensitive).
        **overrides: :class:`GRACEConfig` fields to set last.

    Raises:
        ConfigError: an unknown dataset or field name, or an invalid value.

    Example:
        >>> config = grace_config("citeseer", epochs=20)
        >>> config.dataset, config.activation, config.temperature, config.epochs
        ('CiteSeer', 'prelu', 0.9, 20)
    """
    GRACEConfig.check_names(overrides)
    name = GRACEConfig.resolve("dataset", dataset)
    return GRACEConfig(dataset=name, **{**GRACE_CONFIGS.get(name, {}), **overrides})
