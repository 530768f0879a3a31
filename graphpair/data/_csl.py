r"""CSL, the Circular Skip Link graphs of Murphy et al. (ICML 2019), generated.

Murphy, Srinivasan, Rao, Ribeiro, "Relational Pooling for Graph Representations", ICML 2019;
also used by Dwivedi et al., "Benchmarking Graph Neural Networks" (JMLR 2023). A graph
:math:`G_{n, R}` has the nodes :math:`0, \dots, n - 1` on a cycle (edges :math:`\{i, i + 1\}`)
plus the skip links :math:`\{i, i + R\}` (indices mod :math:`n`). With :math:`n = 41` and
:math:`R \in \{2, 3, 4, 5, 6, 9, 11, 12, 13, 16\}` every graph is 4-regular, so 1-WL (and every
message-passing GNN without extra features) sees all ten classes as the same graph, while no two
classes are isomorphic (for prime :math:`n`, :math:`G_{n,R} \cong G_{n,R'}` only if
:math:`R' \equiv \pm R` or :math:`R' \equiv \pm R^{-1} \pmod n`, and no two of the ten skips
are related that way).

The dataset: 150 graphs, 10 classes of 15. Class :math:`c` is the skip ``skips[c]`` (label
``y = c``, in the order of the skips, as in the published files); graph ``15 c`` of the class is
:math:`G_{41, R}` in its cycle order and the other 14 are random relabellings of it, drawn from a
local generator seeded with ``seed``. The published text files (``CSL_*.txt``) follow the same
layout: graphs ``15 c .. 15 c + 14`` have label ``c``, the first of them in cycle order.
Published statistics (PyG ``GNNBenchmarkDataset``): 150 graphs, 41 nodes, 164 directed edges
(82 undirected) each, no node features, 10 classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch_geometric.data import Data

from graphpair._validation import check_int, describe

__all__ = ["CSL_SKIPS", "csl_graph", "csl_graphs"]

#: The skip lengths of the ten CSL classes, in label order (Murphy et al. 2019).
CSL_SKIPS: tuple[int, ...] = (2, 3, 4, 5, 6, 9, 11, 12, 13, 16)


def _check_skip(name: str, skip: object, num_nodes: int) -> int:
    # R = 1 or R = n - 1 repeats the cycle edge and 2 R = n doubles the skip edge: either way
    # the graph is not 4-regular. R and n - R give the same graph, so R < n / 2 is canonical.
    value = check_int(name, skip, minimum=2)
    if 2 * value >= num_nodes:
        raise ValueError(
            f"{name} must be below num_nodes / 2 = {num_nodes / 2} for a 4-regular graph "
            f"(R and num_nodes - R give the same graph); got {value}"
        )
    return value


def csl_graph(num_nodes: int, skip: int, perm: torch.Tensor | None = None) -> torch.Tensor:
    """The ``edge_index`` ``[2, 4 n]`` of :math:`G_{n, R}` (both directions, sorted).

    Args:
        num_nodes: ``n`` (at least 5).
        skip: ``R``, with ``2 <= R < n / 2``.
        perm: Optional relabelling ``[n]``: cycle node ``i`` becomes node ``perm[i]``.

    Example:
        >>> csl_graph(5, 2)[:, :4]
        tensor([[0, 0, 0, 0],
                [1, 2, 3, 4]])
    """
    num_nodes = check_int("num_nodes", num_nodes, minimum=5)
    skip = _check_skip("skip", skip, num_nodes)
    node = torch.arange(num_nodes)
    row = torch.cat([node, node])
    col = torch.cat([(node + 1) % num_nodes, (node + skip) % num_nodes])
    if perm is not None:
        if (
            not isinstance(perm, torch.Tensor)
            or perm.shape != (num_nodes,)
            or not torch.equal(torch.sort(perm).values, node)
        ):
            raise ValueError(
                f"perm must be a permutation of range({num_nodes}); got {describe(perm)}"
            )
        row, col = perm[row], perm[col]
    src, dst = torch.cat([row, col]), torch.cat([col, row])  # [4 n]
    key = torch.sort(src * num_nodes + dst).values
    return torch.stack([key // num_nodes, key % num_nodes])


def csl_graphs(
    seed: int = 0,
    *,
    num_nodes: int = 41,
    skips: Sequence[int] = CSL_SKIPS,
    graphs_per_class: int = 15,
) -> list[Data]:
    """The CSL dataset (see the module docstring): ``len(skips) * graphs_per_class`` graphs.

    Args:
        seed: Seed of the local generator that draws the relabellings.
        num_nodes: Nodes per graph ``n`` (41 in CSL).
        skips: Skip length of each class, in label order (``CSL_SKIPS``).
        graphs_per_class: Graphs per class (15 in CSL); the first is in cycle order.

    Returns:
        Graphs ``Data(edge_index, y, num_nodes)`` in class order: ``edge_index`` ``[2, 4 n]``
        with both directions, sorted; ``y`` ``[1]`` long, the class index.

    Example:
        >>> graphs = csl_graphs()
        >>> len(graphs), graphs[0].num_nodes, graphs[0].edge_index.size(1), int(graphs[-1].y)
        (150, 41, 164, 9)
    """
    seed = check_int("seed", seed, minimum=0)
    num_nodes = check_int("num_nodes", num_nodes, minimum=5)
    if isinstance(skips, str | bytes) or not isinstance(skips, Sequence) or len(skips) == 0:
        raise ValueError(f"skips must be a non-empty sequence of ints; got {describe(skips)}")
    checked = [_check_skip(f"skips[{i}]", r, num_nodes) for i, r in enumerate(skips)]
    if len(set(checked)) != len(checked):
        raise ValueError(f"skips must be distinct; got {list(checked)}")
    graphs_per_class = check_int("graphs_per_class", graphs_per_class, minimum=1)

    gen = torch.Generator().manual_seed(seed)
    identity = torch.arange(num_nodes)
    graphs = []
    for label, skip in enumerate(checked):
        for k in range(graphs_per_class):
            perm = identity if k == 0 else torch.randperm(num_nodes, generator=gen)
            graphs.append(
                Data(
                    edge_index=csl_graph(num_nodes, skip, perm),
                    y=torch.tensor([label]),
                    num_nodes=num_nodes,
                )
            )
    return graphs
