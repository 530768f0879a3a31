"""Users' own graphs: an edge list in memory or in a CSV/TSV file, as a PyG ``Data``."""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphpair._validation import check_int, check_tensor, describe
from graphpair.data._edge_file import edge_index_from_chunks, read_edge_file
from graphpair.data._edge_text import ID_LIMIT, EdgeFile
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
    if tensor.device.type == "cpu" and num_nodes <= ID_LIMIT:
        # Sorted int64 keys, one per stored direction, instead of symmetrize's temporaries.
        edge_index = edge_index_from_chunks(
            [(tensor[0].numpy(), tensor[1].numpy())], directed=directed
        )
    elif directed:
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
    comment: str | Sequence[str] | None = ("#", "%"),
    header: bool | None = None,
    directed: bool = False,
    num_nodes: int | None = None,
) -> Data:
    """Read an edge list file: one edge per line, the first two columns are the endpoints.

    ``.csv`` files are comma-separated, ``.tsv`` tab-separated, anything else is split on
    runs of whitespace unless ``delimiter`` is given; CSV quoting applies to delimited files.
    Blank lines and comment lines (starting with ``#`` or ``%``, after optional spaces) are
    skipped; further columns (weights, times) are ignored. Ids that are all integers are node
    indices ``0 .. N - 1``; otherwise every id is a string, stripped of surrounding spaces and
    relabelled in order of first appearance as in :func:`from_edge_list` (``data.node_ids``).

    **The header.** The first line that is not blank or a comment is skipped as a header
    when ``header=True``, read as an edge when ``header=False``; with ``header=None`` it is a
    header when (1) its first two fields are not both integers while every later row's are,
    or (2) both read as column names -- ``source``/``target``, ``src``/``dst``, ``from``/``to``,
    ``u``/``v``, ``node1``/``node2``, ``head``/``tail``, ``FromNodeId``, ``source_id``, ...,
    but not ids with digits such as ``user0`` or ``v1`` -- and neither is a node id on a
    later line (if one is, the line is ambiguous and a
    :class:`ValueError` asks for ``header=True`` or ``header=False``). Any other first line is
    an edge: pass ``header=True`` for other column names over string ids.

    The file is parsed by pandas' C engine in blocks of a few MiB straight into ``int32``
    index arrays (string ids through ``pandas.factorize``). With integer ids a read needs, at
    its peak, about 16 bytes per line beyond the ``int64`` ``edge_index`` it returns (32
    bytes per undirected edge), plus about 40 MB for the block being parsed; string ids add
    the distinct ids as Python strings and about 200 MB (``benchmarks/results/edge_list.md``).

    Args:
        path: The file (UTF-8 text).
        delimiter: A one-character field separator; ``None`` picks it from the suffix
            (``','`` for ``.csv``, tab for ``.tsv``, else any whitespace).
        comment: Prefix(es) of comment lines; ``None`` or ``()`` for none.
        header: ``True``: the first line is a header; ``False``: it is an edge; ``None``
            (default): detect as described above.
        directed: Keep edges as given instead of symmetrising them.
        num_nodes: ``N`` (must exceed every integer id, or be at least the number of distinct
            string ids); default: the largest id + 1, or the number of distinct ids.

    Returns:
        A :class:`~torch_geometric.data.Data` with ``edge_index`` (sorted by row then column,
        without self loops or repeated edges, both directions unless ``directed``) and
        ``num_nodes`` (and ``node_ids`` when the ids were relabelled), as
        :func:`from_edge_list` builds it.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: With the file name and line number: a binary file (a NUL byte or invalid
            UTF-8), a line with fewer than two fields or an empty id, an unterminated quote, a
            negative integer id or one not below ``num_nodes`` (or 2**31), an ambiguous
            header. Without a line: a file that holds no edge while ``num_nodes`` is not
            given. Also bad arguments, before the file is read.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "edges.csv"
        ...     _ = path.write_text("source,target,weight\\n0,1,0.5\\n1,2,1.0\\n")
        ...     data = read_edge_list(path)
        ...     _ = path.write_text("source,target\\nann,bob\\nbob,cy\\n")
        ...     named = read_edge_list(path)
        >>> data.edge_index
        tensor([[0, 1, 1, 2],
                [1, 0, 2, 1]])
        >>> named.node_ids
        ['ann', 'bob', 'cy']
    """
    file = Path(path)
    source = EdgeFile(file, _check_delimiter(delimiter, file), _check_comment(comment))
    if header is not None and not isinstance(header, bool):
        raise TypeError(f"header must be True, False or None; got {describe(header)}")
    if num_nodes is not None:
        check_int("num_nodes", num_nodes, minimum=1)
    if not file.is_file():
        raise FileNotFoundError(f"path {str(file)!r} is not a file")
    contents = read_edge_file(source, header=header, num_nodes=num_nodes)
    edge_index = edge_index_from_chunks(contents.chunks, directed=directed)
    data = Data(edge_index=edge_index, num_nodes=contents.num_nodes)
    if contents.node_ids is not None:
        data.node_ids = contents.node_ids
    return data


def _check_delimiter(delimiter: Any, file: Path) -> str | None:
    if delimiter is None:
        suffix = file.with_suffix("").suffix if file.suffix.lower() == ".gz" else file.suffix
        return {".csv": ",", ".tsv": "\t"}.get(suffix.lower())
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise ValueError(
            "delimiter must be None or one character other than a quote or a line break; "
            f"got {describe(delimiter)}"
        )
    return delimiter


def _check_comment(comment: Any) -> tuple[bytes, ...]:
    prefixes = (comment,) if isinstance(comment, str) else tuple(comment or ())
    for prefix in prefixes:
        if not isinstance(prefix, str) or not prefix or "\n" in prefix or "\r" in prefix:
            raise ValueError(
                "comment must be None, a non-empty prefix or a sequence of them, without line "
                f"breaks; got {describe(comment)}"
            )
    return tuple(prefix.encode("utf-8") for prefix in prefixes)
