"""Build the encoder and the predictor of a link run from its configuration: every class
comes from :mod:`graphpair.nn`, this module only wires them (and picks the node input)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphpair.nn import (
    GAEPredictor,
    GRITLinkEncoder,
    GRITPairPredictor,
    MPNNEncoder,
    NCNCPredictor,
    NCNDiffPredictor,
    NCNPredictor,
)
from graphpair.ops._spmm import to_sparse_csr
from graphpair.train._config import ConfigError, LinkConfig

__all__ = [
    "Encoder",
    "Predictor",
    "build_encoder",
    "build_predictor",
    "node_input",
    "read_node_features",
]

Predictor = GAEPredictor | NCNPredictor | NCNCPredictor | NCNDiffPredictor | GRITPairPredictor
Encoder = MPNNEncoder | GRITLinkEncoder


#: Dense features with at most this share of nonzeros are handed to the encoder as sparse.
SPARSE_FEATURE_DENSITY = 0.1


def _is_sparse_enough(x: Tensor) -> bool:
    return x.numel() > 0 and int(torch.count_nonzero(x)) <= SPARSE_FEATURE_DENSITY * x.numel()


def read_node_features(path: str, num_nodes: int) -> Tensor:
    """The ``[N, F]`` float features of ``config.node_features``: a ``.npy`` array (no
    pickles) or a ``.pt`` tensor (read with ``weights_only``).

    Raises:
        ConfigError: ``field='node_features'``: unreadable, or not a real ``[N, F]`` matrix.
    """
    import numpy as np

    try:
        if path.endswith(".npy"):
            value = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            value = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise ConfigError("node_features", f"cannot read node_features {path!r}: {err}") from None
    if not isinstance(value, Tensor) or value.dim() != 2 or value.size(0) != num_nodes:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ConfigError(
            "node_features",
            f"node_features must hold one row per node, [{num_nodes}, F]; {path!r} holds {shape}",
        )
    if value.is_complex() or value.dtype == torch.bool:
        raise ConfigError("node_features", f"node_features must be real numbers; got {value.dtype}")
    return value.detach().float()


def node_input(config: LinkConfig, data: object) -> tuple[Tensor | None, int | None, int | None]:
    """``(x, in_channels, num_embeddings)`` for the encoder from the graph and the config
    (``config.node_features`` replaces the graph's features)."""
    x = getattr(data, "x", None)
    num_nodes = int(getattr(data, "num_nodes"))  # noqa: B009 (Data is untyped)
    if config.node_features is not None:
        features = read_node_features(config.node_features, num_nodes)
        return features, int(features.size(1)), None
    kind = config.node_input
    if kind == "auto":
        kind = "features" if x is not None else "id"
    if kind in ("features", "category") and x is None:
        raise ConfigError(
            "node_input",
            f"node_input={config.node_input!r} needs node features, and {config.data_name!r} has "
            "none; use node_input='id'",
        )
    if kind == "features":
        assert x is not None
        features = x.float() if not x.is_sparse else x
        sparse_ok = config.predictor != "grit-pair"  # GRIT's input map is a dense Linear
        if sparse_ok and features.layout == torch.strided and _is_sparse_enough(features):
            # Bag-of-words features (Cora 1.3 % nonzero, CiteSeer 0.9 %): the encoder keeps a
            # sparse x sparse through its first Linear and drops out only the nonzeros, which
            # is the same distribution as dense dropout at a fraction of the cost. CSR layout:
            # its product with the weight is about 5x faster than COO's on CPU.
            features = to_sparse_csr(features)
        return features, int(x.size(1)), None
    if kind == "category":
        assert x is not None
        # One-hot categories (ogbl-ppa's 58 species) -> the category id per node.
        return x.to_dense().argmax(dim=1), None, int(x.size(1))
    # The reference sizes the id embedding max_x + 1 = N + 1 (one spare row, spec §2.9).
    return None, None, num_nodes + 1


def build_encoder(
    config: LinkConfig, in_channels: int | None, num_embeddings: int | None
) -> Encoder:
    """The :class:`~graphpair.nn.MPNNEncoder` described by ``config``, or for
    ``'grit-pair'`` the :class:`~graphpair.nn.GRITLinkEncoder`.

    Args:
        config: The run configuration.
        in_channels: Width of the node features, or ``None`` for a node-id embedding.
        num_embeddings: Rows of the node-id (or category) embedding, or ``None`` with
            features.

    Example:
        >>> from graphpair.ops import CSR
        >>> from graphpair.train import link_config
        >>> config = link_config("karate", hidden_channels=16)
        >>> encoder = build_encoder(config, in_channels=None, num_embeddings=35)
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]), num_nodes=34)
        >>> encoder(None, adj).shape  # no features: node-id embeddings
        torch.Size([34, 16])
    """
    if config.predictor == "grit-pair":
        return GRITLinkEncoder(
            in_channels,
            config.hidden_channels,
            config.num_layers,
            heads=config.heads,
            walk_length=config.walk_length,
            num_embeddings=num_embeddings,
            dropout=config.dropout,
            attn_dropout=config.attn_dropout,
            input_dropout=config.input_dropout,
            max_pairs=config.max_pairs,
        )
    return MPNNEncoder(
        in_channels,
        config.hidden_channels,
        config.num_layers,
        conv=config.conv,
        num_embeddings=num_embeddings,
        dropout=config.dropout,
        edge_dropout=config.edge_dropout,
        input_dropout=config.input_dropout,
        tail_dropout=config.tail_dropout,
        ln=config.ln,
        res=config.res,
        jk=config.jk,
    )


def build_predictor(config: LinkConfig) -> Predictor:
    """The link predictor described by ``config``.

    GAE gets only ``dropout`` and ``ln``, as the reference (quirk Q2a: its script never
    forwarded ``use_xlin``/``tailact``/``twolayerlin``/``beta`` to GAE).

    Args:
        config: The run configuration (``predictor`` and the ``predictor_*`` options).

    Example:
        >>> from graphpair.train import link_config
        >>> type(build_predictor(link_config("karate", "ncnc", hidden_channels=16))).__name__
        'NCNCPredictor'
    """
    width = config.hidden_channels
    if config.predictor == "grit-pair":
        return GRITPairPredictor(
            width, width, dropout=config.predictor_dropout, ln=config.predictor_ln
        )
    if config.predictor == "gae":
        return GAEPredictor(width, width, dropout=config.predictor_dropout, ln=config.predictor_ln)
    common: dict[str, Any] = {
        "dropout": config.predictor_dropout,
        "edge_dropout": config.predictor_edge_dropout,
        "ln": config.predictor_ln,
        "use_xlin": config.use_xlin,
        "tailact": config.tailact,
        "twolayerlin": config.twolayerlin,
        "beta": config.beta,
    }
    if config.predictor == "ncn":
        return NCNPredictor(width, width, **common)
    if config.predictor == "ncn-diff":
        return NCNDiffPredictor(width, width, **common)
    return NCNCPredictor(
        width,
        width,
        depth=2 if config.predictor == "ncnc2" else 1,
        scale=config.scale,
        offset=config.offset,
        pt=config.pt,
        alpha=config.alpha,
        chunk_size=config.chunk_size,
        official_recursion=config.official_recursion,
        train_degree_cap=config.train_degree_cap,
        test_degree_cap=config.test_degree_cap,
        **common,
    )
