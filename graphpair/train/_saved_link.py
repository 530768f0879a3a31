"""A saved link model, loaded: score pairs, embed nodes, recommend missing links."""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphpair._validation import check_int
from graphpair.nn import LinkModel
from graphpair.ops import CSR
from graphpair.train._artifact import ModelFileError, graph_fingerprint, read_graph
from graphpair.train._config import LinkConfig
from graphpair.train._link_builder import build_encoder, build_predictor, node_input
from graphpair.train._link_eval import chunked_scoring
from graphpair.train._saved_common import build_quietly, check_kind, load_parts, rebuild_config

__all__ = ["ALL_PAIRS_BELOW", "Recommendations", "SavedLinkModel"]

#: Graphs with at most this many nodes get every non-edge of a node as a candidate in
#: :meth:`SavedLinkModel.recommend`; larger ones the nodes within two hops.
ALL_PAIRS_BELOW = 4096


class Recommendations(NamedTuple):
    """Top-K link suggestions per query node (:meth:`SavedLinkModel.recommend`).

    Attributes:
        node: The query nodes ``[B]`` (indices).
        target: Suggested endpoints ``[B, K]``, best first; ``-1`` pads a node with fewer
            than K candidates.
        score: Their probabilities ``[B, K]``; NaN where ``target`` is ``-1``.

    Example:
        >>> rec = Recommendations(torch.tensor([0]), torch.tensor([[4, -1]]),
        ...                       torch.tensor([[0.9, float("nan")]]))
        >>> rec.target[0][rec.target[0] >= 0].tolist()  # one candidate only
        [4]
    """

    node: Tensor
    target: Tensor
    score: Tensor


class SavedLinkModel:
    """A link model saved by ``graphpair link --save-model`` (``train_link(save_model=)``),
    ready to score: the encoder and predictor of the run's selected epoch, its configuration,
    and the graph it was trained on.

    Load it with :func:`graphpair.load_model`. Scores are the model's probabilities
    :math:`\\sigma(s_{ij})`; :meth:`logits` gives the raw :math:`s_{ij}` the run's metrics were
    computed from. The graph scored on is the training graph unless ``edge_index`` is given,
    which must be the same graph (checked against the saved fingerprint) unless
    ``strict=False``.

    Built by :meth:`load`; the constructor takes the loaded parts.

    Args:
        folder: Where it was loaded from.
        manifest: The folder's manifest (configuration, metrics, fingerprint, versions).
        config: The run's :class:`~graphpair.train.LinkConfig` (its file paths cleared:
            scoring needs none of them).
        model: The :class:`~graphpair.nn.LinkModel`, in evaluation mode.
        x: The encoder's node input (``None`` for a learned node embedding).
        adj: The training graph.
        node_ids: The node names of an edge-list graph (index ``i`` is ``node_ids[i]``), else
            ``None``.
        device: Where it scores.

    Example:
        >>> import tempfile
        >>> from graphpair import load_model
        >>> from graphpair.train import link_config, train_link
        >>> folder = tempfile.mkdtemp()
        >>> config = link_config("karate", "gae", epochs=2, hidden_channels=16)
        >>> result = train_link(config, save_model=folder)
        >>> model = load_model(f"{folder}/run-0")
        >>> model.score(torch.tensor([[0, 5], [1, 33]])).shape
        torch.Size([2])
        >>> model.recommend([0], k=3).target.shape
        torch.Size([1, 3])
    """

    def __init__(
        self,
        folder: Path,
        manifest: dict[str, Any],
        config: LinkConfig,
        model: LinkModel,
        x: Tensor | None,
        adj: CSR,
        node_ids: list[Hashable] | None,
        device: torch.device,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.config = config
        self.model = model
        self.num_nodes = adj.num_nodes
        self.node_ids = node_ids
        self._x = x
        self._adj = adj
        self._device = device
        self._encoded: tuple[Tensor, Any] | None = None
        self._index = None if node_ids is None else {name: i for i, name in enumerate(node_ids)}
        edge_list = manifest["config"].get("edge_list")
        # The training data: the dataset's name, or the edge list's file name.
        self.data_name = Path(edge_list).name if edge_list else self.config.dataset

    @classmethod
    def load(
        cls, folder: str | os.PathLike[str], manifest: dict[str, Any], *, device: str = "cpu"
    ) -> SavedLinkModel:
        """Rebuild the model of ``folder`` from its manifest (read by
        :func:`graphpair.load_model`)."""
        where = Path(folder)
        check_kind(where, manifest, "link", "SavedLinkModel")
        # The edge list is a path of the training machine: scoring reads the stored graph.
        config = rebuild_config(LinkConfig, where, manifest, drop=("edge_list",))
        graph = read_graph(where)
        num_nodes = int(graph["num_nodes"])
        x = graph.get("x")
        data = Data(x=x, num_nodes=num_nodes)
        features, in_channels, num_embeddings = node_input(config, data)
        build = manifest["build"]
        if (in_channels, num_embeddings) != (build["in_channels"], build["num_embeddings"]):
            raise ModelFileError(
                f"{str(where / 'graph.gpw')!r} gives the encoder input "
                f"{(in_channels, num_embeddings)}; the manifest expects "
                f"{(build['in_channels'], build['num_embeddings'])}"
            )
        model = build_quietly(
            lambda: LinkModel(
                build_encoder(config, in_channels, num_embeddings), build_predictor(config)
            )
        )
        load_parts(where, manifest, {"encoder": model.encoder, "predictor": model.predictor})
        dev = torch.device(device)
        adj = CSR.from_edge_index(graph["edge_index"], num_nodes)
        expected = manifest.get("graph")
        if expected is not None and graph_fingerprint(adj, x) != expected:
            raise ModelFileError(
                f"{str(where / 'graph.gpw')!r} is not the graph of its manifest (fingerprint "
                "differs)"
            )
        node_ids = graph.get("node_ids")
        return cls(
            where,
            manifest,
            config,
            model.to(dev).eval(),
            None if features is None else features.to(dev),
            adj.to(dev),
            None if node_ids is None else list(node_ids),
            dev,
        )

    # ------------------------------------------------------------------ nodes and graphs

    def node_index(self, nodes: Sequence[Hashable] | Tensor) -> Tensor:
        """Indices ``[B]`` of ``nodes``: names of an edge-list graph, or indices.

        Raises:
            ValueError: a node that is not in the graph (named).
        """
        if isinstance(nodes, Tensor):
            nodes = nodes.tolist()
        out = []
        for node in nodes:
            if self._index is not None and node in self._index:
                out.append(self._index[node])
            elif isinstance(node, int) and not isinstance(node, bool) and self._index is None:
                if not 0 <= node < self.num_nodes:
                    raise ValueError(
                        f"node {node} is not in the graph (indices 0..{self.num_nodes - 1})"
                    )
                out.append(node)
            else:
                raise ValueError(f"node {node!r} is not in the graph of {str(self.folder)!r}")
        return torch.tensor(out, dtype=torch.long)

    def _graph(self, edge_index: Tensor | None, strict: bool) -> CSR:
        if edge_index is None:
            return self._adj
        adj = CSR.from_edge_index(edge_index.to(self._device), self.num_nodes)
        expected = self.manifest.get("graph") or {}
        got = graph_fingerprint(adj, None)
        differs = [k for k in ("num_nodes", "num_edges", "edges") if got[k] != expected.get(k)]
        if strict and differs:
            raise ValueError(
                f"edge_index is not the graph the model in {str(self.folder)!r} was trained on "
                f"({', '.join(differs)} differ: {[got[k] for k in differs]} vs "
                f"{[expected.get(k) for k in differs]}); pass strict=False to score on it anyway"
            )
        return adj

    def _encode(self, edge_index: Tensor | None, strict: bool) -> tuple[Tensor, Any]:
        if edge_index is None and self._encoded is not None:
            return self._encoded
        with torch.no_grad():
            encoded = self.model.encode(self._x, self._graph(edge_index, strict), inference=True)
        if edge_index is None:
            self._encoded = encoded
        return encoded

    def _check_pairs(self, pairs: Tensor) -> Tensor:
        if not isinstance(pairs, Tensor) or pairs.dim() != 2 or pairs.size(0) != 2:
            raise ValueError(f"pairs must be a [2, P] tensor of node indices; got {pairs!r}")
        if pairs.numel() and (int(pairs.min()) < 0 or int(pairs.max()) >= self.num_nodes):
            raise ValueError(
                f"pairs must hold node indices in [0, {self.num_nodes}); got the range "
                f"[{int(pairs.min())}, {int(pairs.max())}]"
            )
        return pairs.long().to(self._device)

    # ------------------------------------------------------------------ scoring

    def embed(self, edge_index: Tensor | None = None, *, strict: bool = True) -> Tensor:
        """Node representations ``[N, D]`` of the encoder (on the training graph, or
        ``edge_index``)."""
        return self._encode(edge_index, strict)[0]

    def logits(
        self,
        pairs: Tensor,
        *,
        edge_index: Tensor | None = None,
        strict: bool = True,
        batch_size: int | None = None,
    ) -> Tensor:
        """Raw scores ``[P]`` of ``pairs`` ``[2, P]``, ``batch_size`` pairs at a time
        (default: the run's ``test_batch_size``, so the scores are the run's own)."""
        pairs = self._check_pairs(pairs)
        size = check_int("batch_size", batch_size or self.config.test_batch_size, minimum=1)
        h, state = self._encode(edge_index, strict)
        with torch.no_grad(), chunked_scoring(self.model.predictor):
            parts = [
                self.model.score(h, state, pairs[:, start : start + size]).float()
                for start in range(0, pairs.size(1), size)
            ]
        return torch.cat(parts) if parts else h.new_zeros(0)

    def score(
        self,
        pairs: Tensor,
        *,
        edge_index: Tensor | None = None,
        strict: bool = True,
        batch_size: int | None = None,
    ) -> Tensor:
        """Link probabilities ``[P]`` of ``pairs`` ``[2, P]`` (node indices; see
        :meth:`node_index` for names)."""
        logits = self.logits(pairs, edge_index=edge_index, strict=strict, batch_size=batch_size)
        return torch.sigmoid(logits)

    def candidates(self, node: int, *, exclude_known: bool = True) -> Tensor:
        """The endpoints :meth:`recommend` scores for ``node``, ascending: every other node
        on a graph of at most ``ALL_PAIRS_BELOW`` (4,096) nodes, else the nodes within two hops;
        without the node's neighbours when ``exclude_known``."""
        adj = self._adj
        if self.num_nodes <= ALL_PAIRS_BELOW:
            pool = torch.arange(self.num_nodes, device=adj.device)
        else:
            first = adj.col[adj.rowptr[node] : adj.rowptr[node + 1]]
            starts, counts = adj.rowptr[first], adj.rowptr[first + 1] - adj.rowptr[first]
            # Every neighbour's row of col, gathered at once: entry j of row r sits at
            # starts[r] + j.
            total = int(counts.sum())
            begin = torch.cumsum(counts, 0) - counts  # [deg] where each row starts in the out
            within = torch.arange(total, device=adj.device) - begin.repeat_interleave(counts)
            second = adj.col[starts.repeat_interleave(counts) + within]
            pool = torch.unique(torch.cat([first, second]))
        keep = pool != node
        if exclude_known:
            pairs = torch.stack([torch.full_like(pool, node), pool])
            keep &= ~adj.has_edge(pairs)
        return pool[keep]

    def recommend(
        self,
        nodes: Sequence[Hashable] | Tensor,
        k: int,
        *,
        exclude_known: bool = True,
        batch_size: int | None = None,
    ) -> Recommendations:
        """The ``k`` most likely new links of each of ``nodes`` (names or indices).

        Candidates come from :meth:`candidates` (never all N² pairs of a large graph: two hops
        cost :math:`\\sum_{w \\in N(v)} d_w` per node), scored ``batch_size`` pairs at a time;
        ties keep the lower node index first.

        Raises:
            ValueError: ``k < 1``, or a node not in the graph.
        """
        k = check_int("k", k, minimum=1)
        index = self.node_index(nodes)
        targets = torch.full((index.numel(), k), -1, dtype=torch.long)
        scores = torch.full((index.numel(), k), float("nan"))
        size = check_int("batch_size", batch_size or self.config.test_batch_size, minimum=1)
        # The candidates of several nodes share one scoring call of about ``size`` pairs, so
        # the per-call costs (input checks over h, CSR lookups) are paid once per batch.
        pending: list[tuple[int, Tensor, Tensor]] = []

        def flush() -> None:
            if not pending:
                return
            pairs = torch.cat([pairs for _, _, pairs in pending], dim=1)
            probs = self.score(pairs, batch_size=size).cpu()
            for (row, pool, _), part in zip(
                pending, torch.split(probs, [p.numel() for _, p, _ in pending]), strict=True
            ):
                order = torch.sort(part, descending=True, stable=True).indices[:k]
                targets[row, : order.numel()] = pool.cpu()[order]
                scores[row, : order.numel()] = part[order]
            pending.clear()

        waiting = 0
        for row, node in enumerate(index.tolist()):
            pool = self.candidates(node, exclude_known=exclude_known)
            if pool.numel() == 0:
                continue
            pending.append((row, pool, torch.stack([torch.full_like(pool, node), pool])))
            waiting += pool.numel()
            if waiting >= size:
                flush()
                waiting = 0
        flush()
        return Recommendations(index, targets, scores)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.folder)!r}, predictor={self.config.predictor!r}, "
            f"data={self.data_name!r}, num_nodes={self.num_nodes})"
        )
