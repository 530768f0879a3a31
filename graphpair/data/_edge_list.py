"""Users' own graphs: an edge list in memory or in a CSV/TSV file, as a PyG ``Data``."""

from __future__ import annotations

import csv
import os
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphpair._validation import check_int, check_tensor, describe
from graphpair.data._split import symmetrize

__all__ = ["from_edge_list", "read_edge_list"]


def _as_pairs(edges: Any) -> tuple[Tensor | None, list[tuple[Hashable, Hashable]] | None]:
    """Integer pairs as a ``[2, E]`` tensor, or arbitrary hashable ids as a list of pairs."""
    if isinstance(edges, Tensor):
        check_tensor("edges", edges, dim=2, integer=True)
        if edges.size(0) == 2:
            return edges.long(), None
        if edges.size(1) == 2:
            return edges.t().long(), None
        raise ValueError(f"edges must have shape [2, E] or [E, 2]; got {tuple(edges.shape)}")
    if isinstance(edges, np.ndarray):
        if not np.issubdtype(edges.dtype, np.integer):
            return None, [tuple(pair) for pair in edges.tolist()]
        return _as_pairs(torch.from_numpy(edges.astype(np.int64)))
    pairs = [tuple(pair) for pair in edges]
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"edges must be pairs; got the entry {describe(pair)}")
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for p in pairs for v in p):
        if not pairs:
            return torch.empty(2, 0, dtype=torch.long), None
        return torch.tensor(pairs, dtype=torch.long).t(), None
    return None, pairs


def from_edge_list(
    edges: Tensor | np.ndarray | Iterable[Sequence[Any]],
    num_nodes: int | None = None,
    x: Tensor | None = None,
    *,
    directed: bool = False,
    y: Tensor | None = None,
) -> Data:
    """A graph from an edge list: integer node ids, or any hashable ids (relabelled).

    Integer ids are kept as they are (nodes ``0 .. num_nodes - 1``, ``num_nodes`` defaulting
    to the largest id + 1, or ``x.size(0)``). Other ids (strings, tuples, ...) are numbered in
    order of first appearance and the original ids are kept in ``data.node_ids``.

    Undirected graphs (default) get both directions of every edge; duplicate edges and self
    loops are dropped in both modes (link prediction is over distinct pairs of distinct nodes).

    Args:
        edges: ``[2, E]`` or ``[E, 2]`` integer tensor / array, or an iterable of pairs.
        num_nodes: N (must exceed every integer id).
        x: optional node features ``[N, F]``.
        directed: keep edges as given instead of symmetrising them.
        y: optional node labels ``[N]``.

    Example:
        >>> data = from_edge_list([("a", "b"), ("b", "c")])
        >>> data.num_nodes, data.edge_index.size(1), data.node_ids
        (3, 4, ['a', 'b', 'c'])
    """
    tensor, named = _as_pairs(edges)
    node_ids: list[Hashable] | None = None
    if named is not None:
        index: dict[Hashable, int] = {}
        for u, v in named:
            index.setdefault(u, len(index))
            index.setdefault(v, len(index))
        node_ids = list(index)
        tensor = torch.tensor([[index[u] for u, _ in named], [index[v] for _, v in named]])
        tensor = tensor.view(2, -1)
    assert tensor is not None
    if tensor.numel() and int(tensor.min()) < 0:
        raise ValueError(f"edges must hold non-negative node ids; found {int(tensor.min())}")
    needed = int(tensor.max()) + 1 if tensor.numel() else 0
    if x is not None:
        check_tensor("x", x, dim=2)
        needed = max(needed, x.size(0))
    if num_nodes is None:
        num_nodes = needed
    check_int("num_nodes", num_nodes, minimum=1)
    if needed > num_nodes:
        raise ValueError(
            f"num_nodes={num_nodes} is too small: edges or x need at least {needed} nodes"
        )
    if x is not None and x.size(0) != num_nodes:
        raise ValueError(f"x must have num_nodes={num_nodes} rows; got {x.size(0)}")
    if y is not None and y.size(0) != num_nodes:
        raise ValueError(f"y must have num_nodes={num_nodes} entries; got {y.size(0)}")
    if directed:
        keep = tensor[0] != tensor[1]
        keys = torch.unique(tensor[0, keep] * num_nodes + tensor[1, keep])
        edge_index = torch.stack([keys // num_nodes, keys % num_nodes])
    else:
        edge_index = symmetrize(tensor, num_nodes)
    data = Data(edge_index=edge_index, num_nodes=num_nodes)
    if x is not None:
        data.x = x
    if y is not None:
        data.y = y
    if node_ids is not None:
        data.node_ids = node_ids
    return data


def read_edge_list(
    path: str | os.PathLike[str],
    *,
    delimiter: str | None = None,
    comment: str = "#",
    directed: bool = False,
    num_nodes: int | None = None,
) -> Data:
    """Read an edge list file: one edge per line, the first two columns are the endpoints.

    ``.csv`` files are comma-separated, ``.tsv`` tab-separated, anything else is split on
    whitespace unless ``delimiter`` is given. Lines starting with ``comment`` and a header
    line whose first two fields are not both integers while the following lines are, are
    skipped. Further columns (weights, times) are ignored. Ids that are all integers are kept;
    otherwise they are relabelled as in :func:`from_edge_list`.

    Args:
        path: The file.
        delimiter: Field separator; ``None`` picks it from the suffix (``','`` for ``.csv``,
            tab for ``.tsv``, else any whitespace).
        comment: Prefix of the lines to skip.
        directed: Keep edges as given instead of symmetrising them.
        num_nodes: ``N`` (must exceed every integer id); default: the largest id + 1.

    Returns:
        A :class:`~torch_geometric.data.Data` with ``edge_index`` and ``num_nodes`` (and
        ``node_ids`` when the ids were relabelled), as :func:`from_edge_list` builds it.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: A line has fewer than two fields, or the file holds no edge and
            ``num_nodes`` is not given.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "edges.csv"
        ...     _ = path.write_text("source,target,weight\\n0,1,0.5\\n1,2,1.0\\n")
        ...     data = read_edge_list(path)
        >>> data.edge_index
        tensor([[0, 1, 1, 2],
                [1, 0, 2, 1]])
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"path {str(file)!r} is not a file")
    if delimiter is None:
        delimiter = {".csv": ",", ".tsv": "\t"}.get(file.suffix.lower())
    rows: list[tuple[str, str]] = []
    with file.open(newline="") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith(comment))
        reader = (
            csv.reader(lines, delimiter=delimiter)
            if delimiter is not None
            else (line.split() for line in lines)
        )
        for number, fields in enumerate(reader, start=1):
            fields = [f.strip() for f in fields]
            if len(fields) < 2:
                raise ValueError(
                    f"{str(file)!r}: edge {number} has {len(fields)} field(s), needs two: "
                    f"{fields!r}"
                )
            rows.append((fields[0], fields[1]))
    if rows and not _is_int_pair(rows[0]) and all(_is_int_pair(r) for r in rows[1:]):
        rows = rows[1:]  # a header line
    if not rows and num_nodes is None:
        raise ValueError(f"path {str(file)!r} holds no edge (and num_nodes is not given)")
    if all(_is_int_pair(r) for r in rows):
        ints = [(int(u), int(v)) for u, v in rows]
        return from_edge_list(
            torch.tensor(ints, dtype=torch.long).view(-1, 2).t(),
            num_nodes=num_nodes,
            directed=directed,
        )
    return from_edge_list(rows, num_nodes=num_nodes, directed=directed)


def _is_int_pair(row: tuple[str, str]) -> bool:
    return all(field.lstrip("-").isdigit() for field in row)
