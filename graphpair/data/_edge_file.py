"""Edge list files read by pandas' C parser, block by block, straight into index arrays.

The machinery behind :func:`graphpair.data.read_edge_list`. Why it is built this way:

- **Memory.** The file is read in blocks of :data:`BLOCK_BYTES` (4 times that for string
  ids) cut at line ends
  (:func:`graphpair.data._edge_text.blocks`). Each block is parsed by pandas' C engine
  (``usecols=[0, 1]``) into two columns, checked, and kept as two ``int32`` arrays (8 bytes
  per edge): integer ids as parsed, other ids as codes of ``pandas.factorize``. Integer ids
  never become Python objects; string ids do only one block at a time, plus the distinct ids.
  :func:`edge_index_from_chunks` then turns the arrays into the sorted, deduplicated
  ``edge_index`` through one ``int64`` key per stored direction, ``(row << 31) | col``
  (ordered like ``(row, col)``), sorted in place.
- **Header detection** (:func:`read_edge_file`) works for string ids as well as integers.
- **Errors** name the file and the line (``graphpair.data._edge_text``).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torch import Tensor

from graphpair.data._edge_text import (
    ID_LIMIT,
    INTEGER,
    EdgeFile,
    blocks,
    check_fields,
    check_range,
    fail,
    fail_in,
    first_data_line,
    is_header_pair,
    without_comments,
)

__all__ = ["BLOCK_BYTES", "EdgeFileContents", "edge_index_from_chunks", "read_edge_file"]

logger = logging.getLogger(__name__)

#: Bytes parsed at a time with integer ids (a block ends at a line end): 4 MiB, about 300,000
#: edges of ogbl-ppa's ids, costs pandas about 40 MB while it is parsed (16 MiB: 120 MB, no
#: faster). String ids go in blocks 4 times as large: each block hashes the distinct ids seen
#: so far once more, so fewer blocks are faster (20 % at 1.9M edges, measured).
BLOCK_BYTES = 1 << 22
_STRING_BLOCKS = 4
_SHIFT = 31
_LOW_BITS = ID_LIMIT - 1

Chunk = tuple[npt.NDArray[Any], npt.NDArray[Any]]


# ---------------------------------------------------------------------- parsing


class _NotIntegersError(Exception):
    """Internal: some id is not an integer; the file is read again with string ids."""


def _parse(source: EdgeFile, data: bytes, as_str: bool) -> tuple[Any, Any]:
    """The first two columns of ``data`` (whole lines, no comments) as numpy arrays."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=source.sep,
            header=None,
            usecols=[0, 1],
            dtype=object if as_str else None,
            na_filter=False,  # "NA", "null", "nan" are node names, not missing values
            quoting=csv.QUOTE_NONE if source.delimiter is None else csv.QUOTE_MINIMAL,
            engine="c",
            low_memory=False,
            encoding="utf-8",
        )
    except pd.errors.EmptyDataError:  # blank lines only
        empty = np.empty(0, dtype=object if as_str else np.int64)
        return empty, empty
    return frame[0].to_numpy(), frame[1].to_numpy()


class _Factorizer:
    """Codes of string ids in order of first appearance (row by row, source before target),
    by ``pandas.factorize`` over the ids seen so far followed by a block's ids."""

    def __init__(self) -> None:
        self.uniques: npt.NDArray[np.object_] = np.empty(0, dtype=object)

    def __call__(self, source_ids: Any, target_ids: Any) -> Chunk:
        known = self.uniques.size
        both = np.empty(known + 2 * len(source_ids), dtype=object)
        both[:known] = self.uniques
        both[known::2] = source_ids
        both[known + 1 :: 2] = target_ids
        codes, uniques = pd.factorize(both)
        if uniques.size >= ID_LIMIT:
            raise ValueError(f"more than 2**31 - 1 distinct node ids; got {uniques.size}")
        self.uniques = np.asarray(uniques, dtype=object)
        codes = codes[known:].astype(np.int32)  # [2 E_block], source and target interleaved
        return codes[0::2], codes[1::2]


def _has_empty(source_ids: Any, target_ids: Any) -> bool:
    return bool((source_ids == "").any() or (target_ids == "").any())


def _starts_with_integers(source: EdgeFile, data: bytes) -> bool:
    """Whether the first line of ``data`` with two fields has two integers (or there is none
    within its first 64 KiB)."""
    head = data[: 1 << 16]
    found = first_data_line(source, head)
    if found is None:
        return True
    fields = source.fields(head[found[0] : found[1]].decode("utf-8", errors="replace"))
    return fields is None or len(fields) < 2 or all(INTEGER.fullmatch(f) for f in fields[:2])


def _all_integers(ids: Any) -> bool:
    """Whether every id of a text column is an integer (stops at the first that is not)."""
    return ids.dtype.kind == "O" and all(
        isinstance(i, int) or (isinstance(i, str) and INTEGER.fullmatch(i)) for i in ids
    )  # pandas gives integers beyond uint64 as Python ints


# ---------------------------------------------------------------------- the reader


@dataclass(frozen=True)
class _FirstRow:
    """The first line that is neither blank nor a comment: an edge or a header."""

    line: int
    text: str
    fields: list[str]

    @property
    def is_int(self) -> bool:
        return all(INTEGER.fullmatch(field) for field in self.fields[:2])

    @property
    def names_columns(self) -> bool:
        return len(self.fields) >= 2 and is_header_pair(self.fields[0], self.fields[1])


@dataclass
class EdgeFileContents:
    """What :func:`read_edge_file` found."""

    chunks: list[Chunk]
    """``(source, target)`` ``int32`` arrays, in file order; self loops included."""
    num_nodes: int
    node_ids: list[str] | None
    """The ids of nodes ``0 .. N - 1`` when they were not integers, else ``None``."""
    header: str | None
    """The line skipped as a header, if any."""


def read_edge_file(
    source: EdgeFile,
    *,
    header: bool | None,
    num_nodes: int | None,
    block_bytes: int | None = None,
) -> EdgeFileContents:
    """Read the first two columns of an edge list file into ``int32`` index arrays.

    The first line that is neither blank nor a comment is the *first row*. With
    ``header=True`` it is skipped, with ``header=False`` it is an edge. With ``header=None``
    it is a header when

    1. its first two fields are not both integers while every later row's are (any column
       names over integer ids), or
    2. its first two fields read as column names (``_edge_text.is_header_pair``: ``source,
       target``, ``src, dst``, ``from, to``, ``u, v``, ``node1, node2``, ...) and
       neither occurs as a node id on a later line. If one does, the line could be either,
       and a :class:`ValueError` asks for ``header=True`` or ``header=False``.

    Otherwise it is an edge (integer ids are never a header).

    Ids are integers when every id of every edge row is (``[+-]digits``): they are node
    indices then, ``0 <= id < num_nodes`` (default: the largest id + 1, below 2**31). Else
    every id is a string, stripped of surrounding spaces, numbered in order of first
    appearance (row by row, source before target).

    Raises:
        ValueError: naming the file and the line: a NUL byte or invalid UTF-8 (a binary
            file), an unterminated quote, a row with fewer than two fields or an empty id, a
            negative or too large integer id, an ambiguous first row; or a file without
            edges when ``num_nodes`` is not given.
    """
    size = BLOCK_BYTES if block_bytes is None else block_bytes
    try:
        return _Reader(source, header, num_nodes, size, as_str=False).read()
    except _NotIntegersError:
        return _Reader(source, header, num_nodes, _STRING_BLOCKS * size, as_str=True).read()


class _Reader:
    """One pass over the file, with integer ids (``as_str=False``) or string ids."""

    def __init__(
        self,
        source: EdgeFile,
        header: bool | None,
        num_nodes: int | None,
        block_bytes: int,
        *,
        as_str: bool,
    ) -> None:
        self.source = source
        self.header = header
        self.num_nodes = num_nodes
        self.block_bytes = block_bytes
        self.factorize = _Factorizer() if as_str else None
        self.chunks: list[Chunk] = []
        self.first: _FirstRow | None = None
        self.include_first: bool | None = None
        self.rows = 0
        self.max_id = -1

    def read(self) -> EdgeFileContents:
        for block, line in blocks(self.source, self.block_bytes):
            if self.first is None:
                # Usually within the block's first 64 KiB; else the whole block is searched.
                found = first_data_line(self.source, block[: 1 << 16])
                if found is None or (found[1] == min(len(block), 1 << 16) < len(block)):
                    found = first_data_line(self.source, block)
                if found is None:
                    continue
                start, end = found
                number = line + block.count(b"\n", 0, start)
                self._take_first(block[start:end], number)
                block, line = block[end:], number + 1
            self._add_block(block, line)
        return self._finish()

    # -- the first row

    def _take_first(self, raw: bytes, number: int) -> None:
        text = raw.decode("utf-8").rstrip("\r\n")
        fields = self.source.fields(text)
        first = self.first = _FirstRow(number, text, fields or [])
        if self.header is True:
            self.include_first = False
            return
        problem = check_fields(self.source)(fields)
        if problem is not None:
            raise self.source.error(number, problem, text)
        include: bool | None
        if self.header is False or first.is_int:
            include = True
        elif self.factorize is None:
            include = None  # a header if the later rows are integers (rule 1)
        else:
            include = None if first.names_columns else True  # rule 2 is decided at the end
        if include and not first.is_int and self.factorize is None:
            raise _NotIntegersError
        self.include_first = include
        if not include:
            return
        if self.factorize is None:
            problem = check_range(self.source, self.num_nodes)(first.fields)
            if problem is not None:
                raise self.source.error(number, problem, text)
            self._add_ints(np.array([int(first.fields[0])]), np.array([int(first.fields[1])]))
        else:
            ids = np.array(first.fields[:2], dtype=object)
            self.chunks.append(self.factorize(ids[:1], ids[1:]))
            self.rows += 1

    # -- blocks of edges

    def _add_block(self, block: bytes, line: int) -> None:
        source = self.source
        data = without_comments(source, block)
        as_str = self.factorize is not None
        if not as_str and self.rows == 0 and not _starts_with_integers(source, data):
            raise _NotIntegersError  # known from one line, without parsing a whole block
        try:
            first_ids, second_ids = _parse(source, data, as_str)
        except (pd.errors.ParserError, ValueError) as err:
            reason = " ".join(str(err).split())
            raise fail(
                source, block, line, check_fields(source), f"the C parser failed: {reason}"
            ) from None
        if self.factorize is not None:
            if _has_empty(first_ids, second_ids):
                raise fail(source, block, line, check_fields(source), "an empty id")
            if first_ids.size:
                self.chunks.append(self.factorize(first_ids, second_ids))
                self.rows += first_ids.size
            return
        columns = (first_ids, second_ids)
        if any(column.dtype.kind != "i" for column in columns):
            # Integers beyond int64 come back as uint64 or as text; anything else that is not
            # int64 (names, decimals, empty fields) is read again as strings, which reports
            # empty fields.
            if all(c.dtype.kind in "iu" or _all_integers(c) for c in columns):
                raise fail(source, block, line, check_range(source, None), "ids too large")
            raise _NotIntegersError
        if first_ids.size == 0:
            return
        low = min(int(first_ids.min()), int(second_ids.min()))
        high = max(int(first_ids.max()), int(second_ids.max()))
        if low < 0 or high >= (self.num_nodes if self.num_nodes is not None else ID_LIMIT):
            check = check_range(source, self.num_nodes)
            raise fail(source, block, line, check, "an id out of range")
        self._add_ints(first_ids, second_ids)

    def _add_ints(self, first_ids: Any, second_ids: Any) -> None:
        self.chunks.append((first_ids.astype(np.int32), second_ids.astype(np.int32)))
        self.max_id = max(self.max_id, int(first_ids.max()), int(second_ids.max()))
        self.rows += first_ids.size

    # -- the end

    def _finish(self) -> EdgeFileContents:
        source, first = self.source, self.first
        node_ids: list[str] | None = None
        if self.factorize is None:
            if first is not None and self.include_first is None:
                if self.rows == 0 and not first.names_columns:
                    raise _NotIntegersError  # a lone row of names: an edge between two strings
                self._skip_header(first, "not integers, unlike the ids of the rows below")
            needed = self.max_id + 1
        else:
            uniques = self._stripped_ids()
            if first is not None and self.include_first is None:
                self._decide_named_header(first, uniques)
            node_ids = uniques.tolist()
            needed = len(node_ids)
        if self.rows == 0 and self.num_nodes is None:
            raise ValueError(
                f"path {str(source.path)!r} holds no edge (and num_nodes is not given)"
            )
        if self.num_nodes is not None and needed > self.num_nodes:  # string ids only
            raise ValueError(
                f"num_nodes={self.num_nodes} is too small: {str(source.path)!r} holds "
                f"{needed} distinct node ids"
            )
        num_nodes = self.num_nodes if self.num_nodes is not None else needed
        header = first.text if first is not None and self.include_first is False else None
        return EdgeFileContents(self.chunks, num_nodes, node_ids, header)

    def _stripped_ids(self) -> npt.NDArray[np.object_]:
        """The distinct ids without surrounding spaces, merging ids that differed only in
        them (the C parser keeps spaces next to a delimiter); codes are renumbered."""
        assert self.factorize is not None
        uniques = self.factorize.uniques
        if self.source.delimiter is None:  # split at whitespace: nothing to strip
            return uniques
        stripped = np.array([str(s).strip() for s in uniques.tolist()], dtype=object)
        if not bool((stripped != uniques).any()):
            return uniques
        if bool((stripped == "").any()):
            every_block = blocks(self.source, self.block_bytes)
            raise fail_in(self.source, every_block, check_fields(self.source), "an empty id")
        codes, merged = pd.factorize(stripped)
        table = codes.astype(np.int32)
        self.chunks = [(table[u], table[v]) for u, v in self.chunks]
        return np.asarray(merged, dtype=object)

    def _decide_named_header(self, first: _FirstRow, uniques: npt.NDArray[np.object_]) -> None:
        reused = [name for name in first.fields[:2] if bool((uniques == name).any())]
        if reused:
            raise self.source.error(
                first.line,
                f"looks like a header (column names {first.fields[0]!r}, {first.fields[1]!r}) "
                f"but {reused[0]!r} is also a node id on a later line; pass header=True to "
                "skip the line or header=False to read it as an edge",
                first.text,
            )
        self._skip_header(first, "column names")

    def _skip_header(self, first: _FirstRow, why: str) -> None:
        self.include_first = False
        logger.info(
            "%r, line %d: %r skipped as a header (%s)", str(self.source.path), first.line,
            first.text, why,
        )  # fmt: skip


# ---------------------------------------------------------------------- to edge_index


def edge_index_from_chunks(chunks: list[Chunk], *, directed: bool) -> Tensor:
    """Sorted distinct pairs without self loops, ``[2, E']`` ``int64``.

    Undirected (``directed=False``): both directions of every pair, as
    :func:`graphpair.data.symmetrize` returns them. Directed: the pairs as given. Every id
    must be in ``[0, 2**31)``. ``chunks`` is emptied as it is read, so that each array is
    freed once it is copied: the peak is the chunks (8 bytes per pair as ``int32``) plus one
    ``int64`` key per stored direction (16 bytes per undirected pair), then the keys plus
    the output.
    """
    counts = [int(np.count_nonzero(u != v)) for u, v in chunks]
    total = sum(counts)
    size = total if directed else 2 * total
    keys = np.empty(size, dtype=np.int64)
    chunks.reverse()
    offset = 0
    for count in counts:
        u, v = chunks.pop()
        if count != len(u):
            keep = u != v
            u, v = u[keep], v[keep]
        _encode(u, v, keys[offset : offset + count])
        if not directed:
            _encode(v, u, keys[total + offset : total + offset + count])
        offset += count
        del u, v
    keys.sort()  # in place
    distinct = np.empty(size, dtype=bool)
    distinct[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
    unique = keys[distinct]
    del keys, distinct
    out = torch.empty(2, unique.size, dtype=torch.long)
    rows = out.numpy()
    np.right_shift(unique, _SHIFT, out=rows[0])
    np.bitwise_and(unique, _LOW_BITS, out=rows[1])
    return out


def _encode(high: Any, low: Any, out: npt.NDArray[np.int64]) -> None:
    """``out = (high << 31) | low`` in ``int64`` (ordered like the pairs ``(high, low)``)."""
    np.left_shift(high, _SHIFT, out=out, dtype=np.int64)
    np.bitwise_or(out, low, out=out, dtype=np.int64)
