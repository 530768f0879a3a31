"""Random test graphs with the awkward cases built in, and hypothesis strategies for them."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from torch import Tensor
from torch_geometric.data import Batch, Data


def global_rng_states() -> tuple[Any, ...]:
    """Python, numpy and torch global RNG states (a seeded generator must leave them alone)."""
    numpy_state = np.random.get_state(legacy=False)  # noqa: NPY002 - the global state is the subject
    return (
        random.getstate(),
        numpy_state["state"]["key"].tolist(),
        numpy_state["state"]["pos"],
        torch.get_rng_state().tolist(),
    )


def random_edge_index(
    num_nodes: int,
    num_edges: int,
    seed: int,
    *,
    isolated: int = 2,
    duplicates: int = 3,
    self_loops: int = 2,
) -> Tensor:
    """Directed random edges among the first ``num_nodes - isolated`` nodes (so the last
    ``isolated`` nodes have no edges), plus repeated edges and self loops."""
    gen = torch.Generator().manual_seed(seed)
    active = max(1, num_nodes - isolated)
    edges = torch.randint(0, active, (2, num_edges), generator=gen)
    parts = [edges]
    if duplicates and num_edges:
        parts.append(edges[:, torch.randint(0, num_edges, (duplicates,), generator=gen)])
    if self_loops:
        loops = torch.randint(0, active, (self_loops,), generator=gen)
        parts.append(torch.stack([loops, loops]))
    return torch.cat(parts, dim=1)


def neighbor_sets(
    edge_index: Tensor, num_nodes: int, *, symmetric: bool, self_loops: bool
) -> list[set[int]]:
    """Plain Python neighbour sets: the naive reference for CSR-based ops."""
    sets: list[set[int]] = [set() for _ in range(num_nodes)]
    for u, v in edge_index.t().tolist():
        if u == v and not self_loops:
            continue
        sets[u].add(v)
        if symmetric:
            sets[v].add(u)
    return sets


@st.composite
def graphs(
    draw: st.DrawFn, max_nodes: int = 12, max_edges: int = 40, min_nodes: int = 1
) -> tuple[Tensor, int]:
    """A ``(edge_index, num_nodes)`` pair: any directed multigraph, self loops allowed
    (``min_nodes=0`` admits the empty graph)."""
    num_nodes = draw(st.integers(min_nodes, max_nodes))
    if num_nodes == 0:
        return torch.empty(2, 0, dtype=torch.long), 0
    num_edges = draw(st.integers(0, max_edges))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, num_nodes - 1), st.integers(0, num_nodes - 1)),
            min_size=num_edges,
            max_size=num_edges,
        )
    )
    edge_index = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    return edge_index, num_nodes


@st.composite
def node_pairs(draw: st.DrawFn, num_nodes: int, max_pairs: int = 20) -> Tensor:
    """A ``[2, P]`` tensor of node pairs (repeats and ``(i, i)`` allowed; none without nodes)."""
    if num_nodes == 0:
        return torch.empty(2, 0, dtype=torch.long)
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, num_nodes - 1), st.integers(0, num_nodes - 1)),
            max_size=max_pairs,
        )
    )
    return torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)


@st.composite
def features(draw: st.DrawFn, num_rows: int, channels: int) -> Tensor:
    """Finite float32 features ``[num_rows, channels]``: normal entries at a drawn scale
    (1e-3, 1 or 1e3), with every third row zero in some draws (zero rows stress norms)."""
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(num_rows, channels, generator=gen) * scale
    if draw(st.booleans()):
        x[::3] = 0.0
    return x


@st.composite
def graph_batches(
    draw: st.DrawFn, max_graphs: int = 3, max_nodes: int = 6, max_edges: int = 12
) -> tuple[Tensor, Tensor, int]:
    """``(edge_index, batch, num_nodes)``: up to ``max_graphs`` graphs of :func:`graphs`
    (single nodes and edgeless graphs included) side by side, PyG-style (sorted ``batch``)."""
    parts = draw(st.lists(graphs(max_nodes, max_edges), min_size=1, max_size=max_graphs))
    # Graphs of one node, or without edges, are drawn by graphs(); an empty graph in a batch
    # would have no node to carry its batch id.
    edges, batch, offset = [], [], 0
    for index, (edge_index, num_nodes) in enumerate(parts):
        edges.append(edge_index + offset)
        batch.append(torch.full((num_nodes,), index, dtype=torch.long))
        offset += num_nodes
    return torch.cat(edges, dim=1), torch.cat(batch), offset


@st.composite
def permutations(draw: st.DrawFn, num_nodes: int) -> Tensor:
    """A relabelling ``[N]``: node ``i`` becomes ``perm[i]``."""
    return torch.tensor(draw(st.permutations(range(num_nodes))), dtype=torch.long).reshape(-1)


def relabel(perm: Tensor, edge_index: Tensor, x: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """``edge_index`` and the rows of ``x`` under the relabelling ``perm`` (node ``i`` becomes
    ``perm[i]``); ``x`` defaults to an empty ``[N, 0]`` tensor."""
    rows = x if x is not None else torch.empty(perm.numel(), 0)
    moved = torch.empty_like(rows)
    moved[perm] = rows
    return perm[edge_index], moved


def undirected_graph(num_nodes: int, edges: list[tuple[int, int]], **attrs: Any) -> Data:
    """A graph with both directions of every edge in ``edges`` and the attributes ``attrs``."""
    pairs = edges + [(v, u) for u, v in edges]
    edge_index = torch.tensor(pairs, dtype=torch.long).t()
    return Data(edge_index=edge_index, num_nodes=num_nodes, **attrs)


def molecules() -> Batch:
    """Two small 'molecules': categorical atoms (2 columns) and bonds (1 column), a target."""
    first = undirected_graph(
        4,
        [(0, 1), (1, 2), (2, 3)],
        x=torch.tensor([[0, 1], [2, 0], [1, 1], [0, 2]]),
        edge_attr=torch.tensor([1, 2, 1, 1, 2, 1]),
        y=torch.tensor([0.5]),
    )
    second = undirected_graph(
        3,
        [(0, 1), (1, 2), (2, 0)],
        x=torch.tensor([[1, 0], [1, 2], [0, 0]]),
        edge_attr=torch.tensor([3, 1, 1, 3, 1, 1]),
        y=torch.tensor([-1.0]),
    )
    return Batch.from_data_list([first, second])
