"""Neighbourhoods and induced subgraphs of a node set on a :class:`~graphpair.ops.CSR`.

The pieces of sampled link training: the nodes a link predictor reads around a batch of
pairs (:func:`neighborhood`), and the adjacency among them (:func:`induced_subgraph`), each at
a cost that grows with the degrees of the nodes involved, not with the graph.
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphpair._validation import check_index, check_int
from graphpair.ops._csr import CSR
from graphpair.ops._segment import counts_to_ptr, expand_rows

__all__ = ["induced_subgraph", "neighborhood"]


def _row_entries(adj: CSR, nodes: Tensor) -> tuple[Tensor, Tensor]:
    """The active entries of the rows ``nodes``: (position of each entry's row in ``nodes``,
    the entry's position in ``adj.col``), grouped by row in the CSR's order."""
    starts = adj.rowptr[nodes]
    position, owner = expand_rows(starts, adj.rowptr[nodes + 1] - starts)
    if adj.num_masked:
        active = adj.mask[position]
        owner, position = owner[active], position[active]
    return owner, position


def neighborhood(adj: CSR, nodes: Tensor, hops: int = 1) -> Tensor:
    r"""The distinct nodes within ``hops`` hops of ``nodes`` (``nodes`` included), sorted.

    Follows the active entries of ``adj`` (masked ones are not edges).

    Args:
        adj: The graph.
        nodes: Node ids ``[B]`` (repeats allowed).
        hops: Hops to follow (0 = the distinct ``nodes``).

    Shapes:
        - nodes: ``[B]``
        - output: ``[M]``, sorted

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 2], [1, 2, 3]]))
        >>> neighborhood(adj, torch.tensor([0]), 2)
        tensor([0, 1, 2])
    """
    check_int("hops", hops, minimum=0)
    out: Tensor = torch.unique(check_index("nodes", nodes, size=adj.num_nodes))
    frontier = out
    for _ in range(hops):
        if frontier.numel() == 0:
            break
        _, position = _row_entries(adj, frontier)
        reached = torch.unique(adj.col[position])
        fresh = reached[~torch.isin(reached, out)]
        out = torch.unique(torch.cat([out, fresh]))
        frontier = fresh
    return out


def induced_subgraph(adj: CSR, nodes: Tensor) -> CSR:
    r"""The adjacency among ``nodes``: local node ``a`` is ``nodes[a]``, and ``(a, b)`` is an
    entry when ``(nodes[a], nodes[b])`` is an active entry of ``adj``.

    ``nodes`` must be sorted and distinct (as :func:`neighborhood` and ``torch.unique`` give
    them): the relabelling is then monotone, so each local row stays sorted and no sort is
    needed. Cost :math:`O(\sum_{v \in \text{nodes}} \deg v)` plus one ``[N]`` lookup table.

    Args:
        adj: The graph (masked entries are left out).
        nodes: Sorted distinct node ids ``[M]``.

    Shapes:
        - nodes: ``[M]``
        - output: a :class:`CSR` with ``M`` nodes

    Example:
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1, 2], [1, 2, 3]]))
        >>> sub = induced_subgraph(adj, torch.tensor([1, 2, 3]))
        >>> sub.to_edge_index()
        tensor([[0, 1, 1, 2],
                [1, 0, 2, 1]])
    """
    nodes = check_index("nodes", nodes, size=adj.num_nodes)
    if nodes.numel() > 1 and bool((nodes[1:] <= nodes[:-1]).any()):
        raise ValueError("nodes must be sorted and distinct (e.g. from torch.unique)")
    local = torch.full((adj.num_nodes,), -1, dtype=torch.long, device=nodes.device)
    local[nodes] = torch.arange(nodes.numel(), device=nodes.device)
    owner, position = _row_entries(adj, nodes)
    col = local[adj.col[position]]
    inside = col >= 0
    owner, col = owner[inside], col[inside]
    rowptr = counts_to_ptr(torch.bincount(owner, minlength=nodes.numel()))
    return CSR._from_sorted(rowptr, col, int(nodes.numel()))
