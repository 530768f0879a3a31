"""Saved node models, loaded: a node classifier's class probabilities and a GRACE encoder's
embeddings, on the graph they were trained on or on another one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from graphpair._validation import check_edge_index
from graphpair.nn import NodeClassifier
from graphpair.nn.encoders import GRACEEncoder
from graphpair.train._artifact import (
    GRAPH,
    ModelFileError,
    read_graph,
    read_manifest,
)
from graphpair.train._grace import GRACEConfig, build_grace_encoder, grace_features
from graphpair.train._model_saving import node_graph_print
from graphpair.train._node import build_node_model
from graphpair.train._node_config import NodeConfig
from graphpair.train._saved_common import build_quietly, check_kind, load_parts, rebuild_config

__all__ = ["SavedEncoder", "SavedNodeModel"]


class _SavedOnGraph:
    """A loaded model with the graph it was trained on (``graph.gpw``): the graph a call
    uses, checked against the manifest's fingerprint."""

    def __init__(
        self,
        folder: Path,
        manifest: dict[str, Any],
        config: Any,
        model: torch.nn.Module,
        graph: dict[str, Any],
        device: torch.device,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.config = config
        self.model = model
        self.num_nodes = int(graph["num_nodes"])
        self._x = graph["x"].to(device)
        self._edge_index = graph["edge_index"].to(device)
        self._device = device

    @staticmethod
    def _stored_graph(where: Path, manifest: dict[str, Any], in_channels: int) -> dict[str, Any]:
        graph = read_graph(where)
        path = str(where / GRAPH)
        x, edge_index = graph.get("x"), graph.get("edge_index")
        if not isinstance(x, Tensor) or not isinstance(edge_index, Tensor):
            raise ModelFileError(f"{path!r} lacks the node features x or the edge_index")
        if x.dim() != 2 or x.size(1) != in_channels:
            raise ModelFileError(
                f"{path!r} holds features of shape {tuple(x.shape)}; the manifest's model reads "
                f"{in_channels} per node"
            )
        stored = node_graph_print(x, edge_index)
        if int(graph["num_nodes"]) != x.size(0) or stored != manifest.get("graph"):
            raise ModelFileError(
                f"{path!r} is not the graph of its manifest (fingerprint differs): edited, or "
                "from another model folder"
            )
        return graph

    def _graph(
        self, x: Tensor | None, edge_index: Tensor | None, strict: bool
    ) -> tuple[Tensor, Tensor]:
        """``(x, edge_index)`` a call runs on: the stored graph's, or the caller's."""
        if x is None and edge_index is None:
            return self._x, self._edge_index
        if x is None:
            x = self._x
        elif not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self._x.size(1):
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"x must be node features [N, {self._x.size(1)}] (the model's input width); "
                f"got {shape}"
            )
        else:
            x = (x.to_dense() if x.is_sparse else x).float().to(self._device)
        if edge_index is None:
            edge_index = self._edge_index
        num_nodes = int(x.size(0))
        edge_index = check_edge_index("edge_index", edge_index, num_nodes=num_nodes)
        if strict:
            expected = self.manifest.get("graph") or {}
            got = node_graph_print(x, edge_index)
            differs = [k for k in got if got[k] != expected.get(k)]
            if differs:
                raise ValueError(
                    f"the graph is not the one the model in {str(self.folder)!r} was trained on "
                    f"({', '.join(differs)} differ: {[got[k] for k in differs]} vs "
                    f"{[expected.get(k) for k in differs]}); pass strict=False to run on it "
                    "anyway"
                )
        return x, edge_index.long().to(self._device)


class SavedNodeModel(_SavedOnGraph):
    """A node classifier saved by ``graphpair node --save-model``
    (``train_node(save_model=)``): the encoder and head of the run's selected epoch, its
    configuration, and the graph it was trained on.

    Load it with :func:`graphpair.load_model`. :meth:`predict` gives class probabilities
    (softmax) of every node, :meth:`logits` the raw outputs the run's accuracy was computed
    from (its argmax). The graph is the training graph unless ``x`` and/or ``edge_index`` are
    given, which must be the same graph (checked against the saved fingerprint) unless
    ``strict=False``.

    Built by :meth:`load`; the constructor takes the loaded parts, kept as attributes of
    the same names (the graph's tensors privately).

    Args:
        folder: Where it was loaded from.
        manifest: The folder's manifest (configuration, metrics, fingerprint, versions).
        config: The run's :class:`~graphpair.train.NodeConfig` (``device`` ``'cpu'``, paths
            cleared: predicting needs none).
        model: The :class:`~graphpair.nn.NodeClassifier`, in evaluation mode.
        graph: The stored graph: ``x``, ``edge_index``, ``num_nodes``.
        device: Where it predicts.

    Attributes:
        num_nodes: Nodes of the stored graph.
        num_classes: Classes ``C``.

    Example:
        >>> import tempfile
        >>> from graphpair import load_model
        >>> from graphpair.train import node_config, train_node
        >>> folder = tempfile.mkdtemp()
        >>> config = node_config("default", epochs=3, runs=1, hidden_channels=8)
        >>> result = train_node(config, save_model=folder)
        >>> model = load_model(f"{folder}/run-0")
        >>> probs = model.predict()  # every node of the stored graph
        >>> probs.shape == (model.num_nodes, model.num_classes)
        True
    """

    model: NodeClassifier

    def __init__(
        self,
        folder: Path,
        manifest: dict[str, Any],
        config: NodeConfig,
        model: NodeClassifier,
        graph: dict[str, Any],
        device: torch.device,
    ) -> None:
        super().__init__(folder, manifest, config, model, graph, device)
        self.num_classes = int(manifest["build"]["num_classes"])

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        manifest: dict[str, Any] | None = None,
        *,
        device: str = "cpu",
    ) -> SavedNodeModel:
        """Rebuild the model of ``folder`` from its manifest (read by
        :func:`graphpair.load_model`) and load its verified weights and graph.

        Args:
            folder: The run's model folder.
            manifest: Its manifest, as :func:`graphpair.load_model` read it (``None``: read
                here).
            device: Where the model predicts.

        Raises:
            ModelFileError: the folder holds another kind of model, its manifest does not
                rebuild a model, or its weights or graph are missing, truncated, edited or do
                not fit.
        """
        where = Path(folder)
        manifest = read_manifest(where) if manifest is None else manifest
        check_kind(where, manifest, "node", "SavedNodeModel")
        config = rebuild_config(NodeConfig, where, manifest)
        in_channels, num_classes = _ints(where, manifest, "in_channels", "num_classes")
        model = build_quietly(lambda: build_node_model(config, in_channels, num_classes))
        load_parts(where, manifest, {"model": model})
        graph = cls._stored_graph(where, manifest, in_channels)
        dev = torch.device(device)
        return cls(where, manifest, config, model.to(dev).eval(), graph, dev)

    def logits(
        self, x: Tensor | None = None, edge_index: Tensor | None = None, *, strict: bool = True
    ) -> Tensor:
        """Class logits ``[N, C]`` of every node; arguments as :meth:`predict`."""
        x, edge_index = self._graph(x, edge_index, strict)
        with torch.no_grad():
            out: Tensor = self.model(x, edge_index)
        return out

    def predict(
        self, x: Tensor | None = None, edge_index: Tensor | None = None, *, strict: bool = True
    ) -> Tensor:
        """Class probabilities ``[N, C]`` (softmax) of every node.

        Args:
            x: Node features ``[N, F]`` (default: the stored graph's).
            edge_index: Edges ``[2, E]`` (default: the stored graph's).
            strict: Refuse a graph other than the stored one (fingerprint: node and edge
                counts, a hash of the sorted edges and one of the features).

        Raises:
            ValueError: ``x`` of another width, ``edge_index`` out of range, or (``strict``)
                another graph, before anything is computed.
        """
        return torch.softmax(self.logits(x, edge_index, strict=strict), dim=-1)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.folder)!r}, conv={self.config.conv!r}, "
            f"dataset={self.config.dataset!r}, num_nodes={self.num_nodes}, "
            f"num_classes={self.num_classes})"
        )


class SavedEncoder(_SavedOnGraph):
    """A GRACE encoder saved by ``graphpair pretrain --save-model``
    (``train_grace(save_model=)``): the encoder after the run's last epoch (with its
    projection head), its configuration, and the graph it was trained on.

    Load it with :func:`graphpair.load_model`. :meth:`embed` gives the node representations
    the run's linear probe was fitted on. The graph is the training graph unless ``x`` and/or
    ``edge_index`` are given (raw features: the configuration's row normalisation is applied
    here), which must be the same graph (checked against the saved fingerprint) unless
    ``strict=False``.

    Built by :meth:`load`; the constructor takes the loaded parts, kept as attributes of
    the same names (the graph's tensors privately).

    Args:
        folder: Where it was loaded from.
        manifest: The folder's manifest (configuration, probe accuracies, fingerprint).
        config: The run's :class:`~graphpair.train.GRACEConfig` (``device`` ``'cpu'``, paths
            cleared).
        model: The :class:`~graphpair.nn.encoders.GRACEEncoder`, in evaluation mode.
        graph: The stored graph: raw ``x``, ``edge_index``, ``num_nodes``.
        device: Where it embeds.

    Attributes:
        num_nodes: Nodes of the stored graph.

    Example:
        >>> import tempfile
        >>> from graphpair import load_model
        >>> from graphpair.train import grace_config, train_grace
        >>> folder = tempfile.mkdtemp()
        >>> config = grace_config("default", epochs=2, hidden_channels=8, proj_channels=8)
        >>> result = train_grace(config, save_model=folder)
        >>> load_model(f"{folder}/run-0").embed().shape
        torch.Size([2708, 8])
    """

    model: GRACEEncoder

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        manifest: dict[str, Any] | None = None,
        *,
        device: str = "cpu",
    ) -> SavedEncoder:
        """Rebuild the encoder of ``folder`` from its manifest (read by
        :func:`graphpair.load_model`) and load its verified weights and graph.

        Args:
            folder: The run's model folder.
            manifest: Its manifest, as :func:`graphpair.load_model` read it (``None``: read
                here).
            device: Where the encoder runs.

        Raises:
            ModelFileError: as :meth:`SavedNodeModel.load`.
        """
        where = Path(folder)
        manifest = read_manifest(where) if manifest is None else manifest
        check_kind(where, manifest, "encoder", "SavedEncoder")
        config = rebuild_config(GRACEConfig, where, manifest)
        (in_channels,) = _ints(where, manifest, "in_channels")
        model = build_quietly(lambda: build_grace_encoder(config, in_channels))
        load_parts(where, manifest, {"model": model})
        graph = cls._stored_graph(where, manifest, in_channels)
        dev = torch.device(device)
        return cls(where, manifest, config, model.to(dev).eval(), graph, dev)

    def embed(
        self, x: Tensor | None = None, edge_index: Tensor | None = None, *, strict: bool = True
    ) -> Tensor:
        """Node representations ``[N, D]`` of the encoder (before the projection head).

        Args:
            x: Raw node features ``[N, F]`` (default: the stored graph's).
            edge_index: Edges ``[2, E]`` (default: the stored graph's).
            strict: Refuse a graph other than the stored one (as
                :meth:`SavedNodeModel.predict`).

        Raises:
            ValueError: as :meth:`SavedNodeModel.predict`.
        """
        x, edge_index = self._graph(x, edge_index, strict)
        with torch.no_grad():
            out: Tensor = self.model(grace_features(self.config, x), edge_index)
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.folder)!r}, dataset={self.config.dataset!r}, "
            f"num_nodes={self.num_nodes}, out_channels={self.model.out_channels})"
        )


def _ints(where: Path, manifest: dict[str, Any], *keys: str) -> tuple[int, ...]:
    build = manifest["build"]
    values = [build.get(key) if isinstance(build, dict) else None for key in keys]
    if not all(isinstance(v, int) and v >= 1 for v in values):
        raise ModelFileError(
            f"{str(where / 'manifest.json')!r}: its build entry must give {list(keys)} as "
            f"positive ints; got {values}"
        )
    return tuple(int(v) for v in values)  # type: ignore[arg-type]
