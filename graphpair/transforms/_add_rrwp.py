r"""GRIT's relative random-walk probabilities (RRWP) as a PyG transform.

The node part is the diagonal of the channels :math:`I, P, \dots, P^{K-1}` of
:math:`P = D^{-1} A`; the pair part is the K-vector of every kept ordered pair, laid out for
GRIT's attention: ``rrwp_index[0]`` is the *source* (key/value side) and ``rrwp_index[1]`` the
*target* (query side, the node whose softmax runs over the pair), pairs sorted by
``(target, source)``. That order makes the attention's softmax and sums segment reductions over
a CSR pointer, and it survives PyG batching: ``rrwp_index`` contains ``"index"``, so
:class:`~torch_geometric.data.Batch` offsets it by each graph's ``num_nodes``, and since graphs
are concatenated in order the batched keys ``target * N + source`` stay sorted.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphpair._validation import (
    check_choice,
    check_edge_index,
    check_index,
    check_int,
    check_memory,
    check_tensor,
    compiling,
    describe,
)
from graphpair.ops import random_walk_powers
from graphpair.ops._segment import counts_to_ptr, ptr_to_index

__all__ = ["WALK_FROM", "AddRRWP", "RRWPEncoding", "locate_pairs", "rrwp"]

#: Orientations of the pair values: the walk starts at the ``'target'`` (query) node (the
#: reference at HEAD, the paper's equation) or at the ``'source'`` (key) node (the paper-era
#: code that produced the published numbers).
WALK_FROM: tuple[str, ...] = ("target", "source")


class RRWPEncoding(NamedTuple):
    """Output of :func:`rrwp`.

    Example:
        >>> out = rrwp(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), walk_length=3)
        >>> out.node[:, 2]  # return probabilities after two steps on the path 0-1-2
        tensor([0.5000, 1.0000, 0.5000])
        >>> out.pair_index.shape, out.pair_val.shape, out.log_deg.shape
        (torch.Size([2, 9]), torch.Size([9, 3]), torch.Size([3]))
    """

    node: Tensor
    """``node[i, k] = (P^k)[i, i]`` ``[N, K]`` (column 0 is all ones)."""
    pair_index: Tensor
    """Pairs ``[2, S]``: row 0 the source ``s``, row 1 the target ``t``; sorted by ``(t, s)``."""
    pair_val: Tensor
    """``[S, K]``: ``(P^k)[t, s]`` (``walk_from='target'``) or ``(P^k)[s, t]`` (``'source'``);
    zero rows for pairs no walk of at most ``K - 1`` steps joins."""
    log_deg: Tensor
    """``log(1 + out-degree)`` in the given graph ``[N]`` (edges counted, duplicates included)."""


def _pair_keys(pair_index: Tensor, num_nodes: int) -> Tensor:
    """Target-major keys ``t * N + s`` ``[S]`` (sorted when the pairs are)."""
    return pair_index[1] * num_nodes + pair_index[0]


def locate_pairs(pair_index: Tensor, pairs: Tensor, num_nodes: int) -> Tensor:
    """Position of every ``(source, target)`` of ``pairs`` in ``pair_index``, ``-1`` if absent.

    ``pair_index`` must be sorted by ``(target, source)`` without repeats, as :func:`rrwp` and
    :class:`AddRRWP` produce it (batched or not). A binary search per query: ``O(P log S)``.

    Args:
        pair_index: The pair set ``[2, S]``, sorted by ``(target, source)``.
        pairs: Query pairs ``[2, P]`` in the same ``(source, target)`` orientation.
        num_nodes: ``N``, larger than every node id.

    Raises:
        ValueError: ``pair_index`` is not sorted (not checked under ``torch.compile``).

    Shapes:
        - pair_index: ``[2, S]``; pairs: ``[2, P]``
        - output: ``[P]`` long

    Example:
        >>> pair_index = torch.tensor([[0, 1, 0, 1], [0, 0, 1, 1]])
        >>> locate_pairs(pair_index, torch.tensor([[1, 0], [0, 2]]), 3)
        tensor([ 1, -1])
    """
    num_nodes = check_int("num_nodes", num_nodes, minimum=0, maximum=3_037_000_499)
    pair_index = check_edge_index("pair_index", pair_index, num_nodes=num_nodes).long()
    pairs = check_edge_index("pairs", pairs, num_nodes=num_nodes).long()
    keys = _pair_keys(pair_index, num_nodes)
    # The order check reads a value back: skipped under torch.compile (see graphpair._validation).
    if keys.numel() > 1 and not compiling() and bool((keys[1:] <= keys[:-1]).any()):
        raise ValueError(
            "pair_index must be sorted by (target, source) without repeated pairs, as AddRRWP "
            "writes it"
        )
    query = _pair_keys(pairs, num_nodes)
    if keys.numel() == 0:
        return torch.full_like(query, -1)
    position = torch.searchsorted(keys, query).clamp_(max=keys.numel() - 1)
    return torch.where(keys[position] == query, position, -1)


def _graph_layout(
    batch: Tensor | None, num_nodes: int, device: torch.device
) -> tuple[Tensor, Tensor]:
    """First node and size of every node's graph, ``([N], [N])``."""
    node_graph = torch.zeros(num_nodes, dtype=torch.long, device=device) if batch is None else batch
    count = int(node_graph[-1]) + 1 if num_nodes else 0
    sizes = torch.bincount(node_graph, minlength=count)  # [B]
    return counts_to_ptr(sizes)[:-1][node_graph], sizes[node_graph]


def rrwp(
    edge_index: Tensor,
    walk_length: int,
    num_nodes: int | None = None,
    *,
    batch: Tensor | None = None,
    edge_weight: Tensor | None = None,
    full_pairs: bool = True,
    walk_from: str = "target",
    method: str = "auto",
    dtype: torch.dtype | None = None,
) -> RRWPEncoding:
    r"""GRIT's RRWP (Ma et al., ICML 2023, spec ``grit.md`` §1) for a graph or a batch.

    .. math::
        P = D^{-1} A, \qquad
        \mathrm{node}_{i,k} = (P^k)_{ii}, \qquad
        \mathrm{pair\_val}_{p,k} = (P^k)_{t(p)\, s(p)} \quad (k = 0, \dots, K - 1)

    with :math:`s(p)` = ``pair_index[0, p]`` (source/key) and :math:`t(p)` = ``pair_index[1, p]``
    (target/query); ``walk_from='source'`` stores the transpose :math:`(P^k)_{s(p)\, t(p)}`.
    :math:`A_{ij} = w_{ij}` (1 without weights, duplicates summed), no self loops added, rows of
    nodes without out-edges zero.

    Pair sets: with ``full_pairs`` every ordered pair inside each graph (``n_g^2`` per graph,
    self pairs included), zero vectors where no walk of at most ``K - 1`` steps joins the two
    nodes (the reference's ``full_attn``); otherwise the reachable pairs plus the given edges
    (so every edge has a pair to carry its features; for undirected graphs the edges are
    reachable anyway). Either way sorted by ``(target, source)`` and free of repeats.

    Args:
        edge_index: Directed edges ``[2, E]`` (both directions for an undirected graph).
        walk_length: Number of channels ``K >= 1`` (the identity and ``K - 1`` powers).
        num_nodes: ``N``; from ``batch`` or ``edge_index`` when ``None``.
        batch: Graph of every node ``[N]``, sorted (PyG batch); ``None`` for one graph.
        edge_weight: Non-negative weights ``[E]``; ``None`` for an unweighted graph.
        full_pairs: Every ordered pair of each graph (``True``) or the reachable ones.
        walk_from: ``'target'`` (default) or ``'source'``: where the walk of a pair's value
            starts (see :data:`WALK_FROM`).
        method: Path of :func:`graphpair.ops.random_walk_powers`: ``'auto'``, ``'sparse'``,
            ``'dense'``.
        dtype: Floating dtype of the values (default: ``edge_weight``'s or torch's default).

    Shapes:
        - edge_index: ``[2, E]``
        - output: ``node [N, K]``, ``pair_index [2, S]``, ``pair_val [S, K]``, ``log_deg [N]``

    Example:
        >>> out = rrwp(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), walk_length=3)
        >>> out.pair_index.size(1), out.pair_val[1].tolist()  # the pair (source 1, target 0)
        (9, [0.0, 1.0, 0.0])
    """
    walk_from = check_choice("walk_from", walk_from, WALK_FROM)
    if not isinstance(full_pairs, bool):
        raise TypeError(f"full_pairs must be a bool; got {describe(full_pairs)}")
    out = random_walk_powers(
        edge_index,
        walk_length,
        num_nodes,
        batch=batch,
        edge_weight=edge_weight,
        method=method,
        dtype=dtype,
    )
    num_nodes = out.node_val.size(0)
    device = out.pair_val.device
    if batch is not None:
        batch = batch.long()  # checked by random_walk_powers (sorted, one entry per node)
    edge_index = edge_index.long()
    # The ops give (start i, end j) sorted by (i, j). Walk from the target: t = i, s = j,
    # already target-major. Walk from the source: s = i, t = j, re-sorted by (t, s).
    start, end = out.pair_index
    pair_index = torch.stack([end, start]) if walk_from == "target" else out.pair_index
    pair_val = out.pair_val
    if walk_from == "source" and pair_val.size(0) > 1:
        order = torch.argsort(_pair_keys(pair_index, num_nodes))
        pair_index, pair_val = pair_index[:, order], pair_val[order]

    if full_pairs:
        # Every ordered pair inside each graph, target-major: target t's segment holds the
        # sources of its graph in order, so pair (s, t) sits at seg_ptr[t] + (s - first).
        graph_first, graph_size = _graph_layout(batch, num_nodes, device)
        # sum of n_g^2: pair index [2, S], its target and slot copies, values [S, K]
        num_full = int(graph_size.sum())
        check_memory(
            f"full_pairs for {num_full:,} ordered pairs",
            num_full * (32 + walk_length * pair_val.element_size()),
            device,
            "pass full_pairs=False (reachable pairs and edges only), or split the batch",
        )
        seg_ptr = counts_to_ptr(graph_size)  # [N + 1]
        target = ptr_to_index(seg_ptr)  # [S_full]
        source = graph_first[target] + torch.arange(target.numel(), device=device)
        source -= seg_ptr[target]
        src, tgt = pair_index
        slot = seg_ptr[tgt] + src - graph_first[tgt]
        values = torch.zeros(target.numel(), walk_length, dtype=pair_val.dtype, device=device)
        values[slot] = pair_val
        pair_index, pair_val = torch.stack([source, target]), values
    elif edge_index.numel():
        # Sparse pairs: add the edges no walk reaches in the pair orientation (directed
        # graphs), so every edge's features have a pair to go to.
        missing = locate_pairs(pair_index, edge_index, num_nodes) < 0
        if bool(missing.any()):
            keys = torch.cat(
                [_pair_keys(pair_index, num_nodes), _pair_keys(edge_index[:, missing], num_nodes)]
            )
            vals = torch.cat([pair_val, pair_val.new_zeros(int(missing.sum()), walk_length)])
            keys, first = _unique_first(keys)
            pair_index = torch.stack([keys % num_nodes, keys // num_nodes])
            pair_val = vals[first]

    degree = torch.bincount(edge_index[0], minlength=num_nodes)
    log_deg = torch.log1p(degree.to(pair_val.dtype))
    return RRWPEncoding(out.node_val, pair_index, pair_val, log_deg)


def _unique_first(keys: Tensor) -> tuple[Tensor, Tensor]:
    """Sorted distinct keys and, for each, the position of its first occurrence in ``keys``."""
    unique, inverse = torch.unique(keys, sorted=True, return_inverse=True)
    position = torch.arange(keys.numel(), device=keys.device)
    first = torch.full((unique.numel(),), keys.numel(), dtype=torch.long, device=keys.device)
    first = first.scatter_reduce(0, inverse, position, reduce="amin")
    return unique, first


class AddRRWP(BaseTransform):  # type: ignore[misc]  # torch_geometric is untyped
    r"""Adds GRIT's relative random-walk probabilities (Ma et al., ICML 2023) to a graph.

    With :math:`P = D^{-1} A` (row-normalised, no self loops, weighted by ``edge_weight`` when
    present) and :math:`K` = ``walk_length`` channels :math:`I, P, \dots, P^{K-1}`
    (see :func:`rrwp`):

    .. math::
        \texttt{rrwp}_{i,k} = (P^k)_{ii}, \qquad
        \texttt{rrwp\_val}_{p,k} = (P^k)_{t(p)\, s(p)}, \qquad
        \texttt{log\_deg}_i = \log(1 + \deg^{out}_i)

    and writes (names with the default ``attr_name='rrwp'``):

    - ``rrwp [N, K]``: the node part (column 0 is all ones);
    - ``rrwp_index [2, S]``: pairs ``(source s, target t)``, sorted by ``(t, s)``;
    - ``rrwp_val [S, K]``: the pair part;
    - ``log_deg [N]``: the degree the GRIT layer's degree scaler uses, from this graph
      (before any padding), as the reference requires.

    **Orientation.** Row 0 of ``rrwp_index`` is the source (key/value side), row 1 the target
    (query side, the attending node whose softmax runs over its pairs), as in PyG's
    ``edge_index``. With ``walk_from='target'`` (default, the reference at HEAD and the paper's
    :math:`e_{ij} = P_{ij}` for attending node :math:`i`) a pair's value is the walk from the
    target to the source; ``walk_from='source'`` stores the transpose (the paper-era code).
    On irregular graphs the two differ by degree ratios, :math:`P^k_{ij} d_i = P^k_{ji} d_j`.

    **Pairs.** ``full_pairs=True`` (default, the reference's ``full_attn``) keeps all
    :math:`n^2` ordered pairs, zero vectors where unreachable within :math:`K-1` steps; for
    large graphs ``full_pairs=False`` keeps the reachable pairs and the graph's edges only.

    **Batching.** ``rrwp_index`` contains ``"index"``, so PyG's
    :class:`~torch_geometric.data.Batch` offsets it by ``num_nodes`` and concatenates it along
    the pairs; the batched pairs are still sorted by ``(target, source)`` (graphs are
    contiguous), so a batch equals its graphs' encodings concatenated. Apply the transform per
    graph (``pre_transform`` for datasets that fit in memory, ``transform`` otherwise); on a
    graph with a ``batch`` vector the pairs stay inside each graph.

    Args:
        walk_length: Number of channels ``K`` (GRIT: 21 on ZINC).
        full_pairs: Every ordered pair per graph (``True``) or the reachable ones.
        walk_from: ``'target'`` (default) or ``'source'``; see above.
        attr_name: Name of the node part; the pair parts are ``<attr_name>_index`` and
            ``<attr_name>_val``. Must not contain ``"index"`` (PyG would offset it).
        deg_attr: Name of the log-degree attribute.
        weight_attr: Edge attribute read as weights when present (``None``: unweighted).
        method: Path of :func:`graphpair.ops.random_walk_powers`.

    Example:
        >>> from torch_geometric.data import Data
        >>> data = AddRRWP(walk_length=4)(Data(edge_index=torch.tensor([[0, 1], [1, 0]]),
        ...                                    num_nodes=2))
        >>> data.rrwp.shape, data.rrwp_index.shape, data.rrwp_val.shape
        (torch.Size([2, 4]), torch.Size([2, 4]), torch.Size([4, 4]))
    """

    def __init__(
        self,
        walk_length: int = 21,
        *,
        full_pairs: bool = True,
        walk_from: str = "target",
        attr_name: str = "rrwp",
        deg_attr: str = "log_deg",
        weight_attr: str | None = "edge_weight",
        method: str = "auto",
    ) -> None:
        self.walk_length = check_int("walk_length", walk_length, minimum=1)
        if not isinstance(full_pairs, bool):
            raise TypeError(f"full_pairs must be a bool; got {describe(full_pairs)}")
        self.full_pairs = full_pairs
        self.walk_from = check_choice("walk_from", walk_from, WALK_FROM)
        for name, value in (("attr_name", attr_name), ("deg_attr", deg_attr)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name} must be a non-empty string; got {describe(value)}")
            if "index" in value:
                raise ValueError(
                    f"{name} must not contain 'index' (PyG would offset it by num_nodes when "
                    f"batching); got {value!r}"
                )
        if deg_attr in (attr_name, f"{attr_name}_val"):
            raise ValueError(f"deg_attr {deg_attr!r} collides with the RRWP attributes")
        self.attr_name = attr_name
        self.deg_attr = deg_attr
        if weight_attr is not None and not isinstance(weight_attr, str):
            raise TypeError(f"weight_attr must be a string or None; got {describe(weight_attr)}")
        self.weight_attr = weight_attr
        self.method = check_choice("method", method, ("auto", "sparse", "dense"))

    def _inputs(self, data: Data) -> tuple[Tensor, int, Tensor | None]:
        """``(edge_index, num_nodes, edge_weight)`` of a graph, checked."""
        edge_index = getattr(data, "edge_index", None)
        if edge_index is None:
            raise ValueError("AddRRWP needs data.edge_index; got a graph without it")
        num_nodes = data.num_nodes
        if num_nodes is None:
            raise ValueError("AddRRWP needs data.num_nodes (or node features); got None")
        weight = getattr(data, self.weight_attr, None) if self.weight_attr else None
        if weight is not None:
            weight = check_tensor(self.weight_attr or "edge_weight", weight, floating=True)
            weight = weight.view(-1)
        return edge_index, int(num_nodes), weight

    def _write(self, data: Data, node: Tensor, index: Tensor, val: Tensor, deg: Tensor) -> Data:
        data[self.attr_name] = node
        data[f"{self.attr_name}_index"] = index
        data[f"{self.attr_name}_val"] = val
        data[self.deg_attr] = deg
        return data

    def forward(self, data: Data) -> Data:
        """Write the RRWP attributes onto (a shallow copy of) ``data``."""
        edge_index, num_nodes, weight = self._inputs(data)
        batch = getattr(data, "batch", None)
        if batch is not None:
            batch = check_index("data.batch", batch, length=num_nodes).long()
        out = rrwp(
            edge_index,
            self.walk_length,
            num_nodes,
            batch=batch,
            edge_weight=weight,
            full_pairs=self.full_pairs,
            walk_from=self.walk_from,
            method=self.method,
        )
        return self._write(data, out.node, out.pair_index, out.pair_val, out.log_deg)

    def apply_all(self, graphs: Sequence[Data], chunk_size: int = 1024) -> list[Data]:
        """The transform of every graph (shallow copies), computed ``chunk_size`` graphs at a
        time in one batched :func:`rrwp` call each, then split back per graph.

        Equal to ``[self(g) for g in graphs]``; much faster for many small graphs, whose
        per-call overhead dominates (``benchmarks/results/grit.md``). For datasets kept in
        memory (the reference's ``pre_transform_in_memory``).
        """
        chunk_size = check_int("chunk_size", chunk_size, minimum=1)
        out: list[Data] = []
        for start in range(0, len(graphs), chunk_size):
            chunk = list(graphs[start : start + chunk_size])
            inputs = [self._inputs(g) for g in chunk]
            weighted = [w is not None for _, _, w in inputs]
            if any(weighted) and not all(weighted):
                raise ValueError(
                    f"graphs {start}-{start + len(chunk) - 1} mix weighted and unweighted ones "
                    f"({self.weight_attr!r}); give every graph weights or none"
                )
            sizes = [n for _, n, _ in inputs]
            offsets = counts_to_ptr(torch.tensor(sizes, dtype=torch.long))
            edge_index = torch.cat(
                [e.long() + offsets[i] for i, (e, _, _) in enumerate(inputs)], dim=1
            )
            weight = (
                torch.cat([w for _, _, w in inputs if w is not None]) if all(weighted) else None
            )
            batch = torch.repeat_interleave(torch.arange(len(chunk)), torch.tensor(sizes))
            enc = rrwp(
                edge_index,
                self.walk_length,
                int(offsets[-1]),
                batch=batch,
                edge_weight=weight,
                full_pairs=self.full_pairs,
                walk_from=self.walk_from,
                method=self.method,
            )
            # Pairs never cross graphs and are target-major, so each graph's pairs are one
            # contiguous run.
            pair_counts = torch.bincount(batch[enc.pair_index[1]], minlength=len(chunk)).tolist()
            pieces = zip(
                chunk,
                offsets[:-1].tolist(),
                torch.split(enc.node, sizes),
                torch.split(enc.pair_index, pair_counts, dim=1),
                torch.split(enc.pair_val, pair_counts),
                torch.split(enc.log_deg, sizes),
                strict=True,
            )
            for data, offset, node, index, val, deg in pieces:
                out.append(self._write(copy.copy(data), node, index - offset, val, deg))
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(walk_length={self.walk_length}, "
            f"full_pairs={self.full_pairs}, walk_from={self.walk_from!r}, "
            f"attr_name={self.attr_name!r})"
        )
