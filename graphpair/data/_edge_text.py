"""Edge list text: blocks of whole lines, comments, header words, errors that name the line.

The text side of :func:`graphpair.data.read_edge_list` (the parsing is in
``graphpair.data._edge_file``). Blocks are checked for NUL bytes and invalid UTF-8 before any
parsing; when a block fails to parse or holds a bad value, it is scanned again in Python (only
then: :func:`fail`) to find the first offending line, so every error names the file and the
line.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "HEADER_WORDS",
    "ID_LIMIT",
    "INTEGER",
    "EdgeFile",
    "blocks",
    "check_fields",
    "check_range",
    "fail",
    "fail_in",
    "first_data_line",
    "is_column_name",
    "is_header_pair",
    "scan",
    "without_comments",
]

#: Integer ids are node indices and must be below this: they are stored in ``int32`` and two
#: of them share an ``int64`` key ``(row << 31) | col``.
ID_LIMIT = 1 << 31
#: An integer id as the C parser reads one.
INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_BOM = b"\xef\xbb\xbf"
_GZIP = b"\x1f\x8b"

# ---------------------------------------------------------------------- header vocabulary

#: Column names of the endpoint columns of edge lists (networkx's ``source``/``target``,
#: igraph's ``from``/``to``, Gephi, SNAP, STRING, OGB, ...), compared after
#: :func:`is_column_name`'s normalisation.
HEADER_WORDS = frozenset(
    {
        "source", "src", "from", "start", "head", "sender", "origin", "u",
        "target", "tgt", "dst", "dest", "destination", "to", "end", "tail", "receiver", "v",
        "node", "vertex", "id", "name", "left", "right", "user", "item",
    }
)  # fmt: skip
_NAME_SUFFIXES = ("id", "name", "node", "vertex", "index", "idx")


def is_column_name(token: str) -> bool:
    """Whether ``token`` reads as the name of an endpoint column of an edge list.

    Case, spaces, ``_ - .`` and quotes are ignored; the suffixes ``id``, ``name``, ``node``,
    ``vertex``, ``index`` are removed (``FromNodeId`` -> ``from``, ``source_id`` ->
    ``source``); what is left must be one of :data:`HEADER_WORDS`. A token with digits is
    never a column name on its own (``user0``, ``node7``, ``v1`` are common node ids): see
    :func:`is_header_pair` for ``node1``, ``node2``.

    Example:
        >>> [is_column_name(t) for t in ["Source", "FromNodeId", "to_node", "v", "v1", "ann"]]
        [True, True, True, True, False, False]
    """
    key = _normalise(token)
    if not key or not key.isalpha():
        return False
    changed = True
    while changed:
        changed = False
        for suffix in _NAME_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, changed = key[: -len(suffix)], True
    return key in HEADER_WORDS


def is_header_pair(first: str, second: str) -> bool:
    """Whether the first two fields of a line read as the names of the two endpoint columns.

    Both are column names (:func:`is_column_name`: ``source, target``, ``src, dst``,
    ``FromNodeId, ToNodeId``), or they are one column name of two letters or more numbered
    ``1`` and ``2`` (``node1, node2``, ``id_1, id_2``; but ``user0, user3`` are node ids).

    Example:
        >>> is_header_pair("Source", "Target"), is_header_pair("node_1", "node_2")
        (True, True)
        >>> is_header_pair("user0", "user3"), is_header_pair("v1", "v2")
        (False, False)
    """
    if is_column_name(first) and is_column_name(second):
        return True
    one, two = _normalise(first), _normalise(second)
    stem = one[:-1]
    return one.endswith("1") and two == stem + "2" and len(stem) >= 2 and is_column_name(stem)


def _normalise(token: str) -> str:
    return re.sub(r"[^a-z0-9]", "", token.lower())


# ---------------------------------------------------------------------- format and errors


@dataclass(frozen=True)
class EdgeFile:
    """An edge list file and how to split it into fields."""

    path: Path
    delimiter: str | None
    """A single character, or ``None`` for runs of whitespace."""
    comments: tuple[bytes, ...]
    """Prefixes of comment lines (after optional leading spaces or tabs)."""

    @property
    def sep(self) -> str:
        return self.delimiter if self.delimiter is not None else r"\s+"

    def error(self, line: int | str, problem: str, text: str | None = None) -> ValueError:
        """A one-line error naming the file and the line."""
        shown = "" if text is None else f": {_clip(text)!r}"
        return ValueError(f"{str(self.path)!r}, line {line}: {problem}{shown}")

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip-compressed (by its first two bytes, not its name)."""
        with self.path.open("rb") as handle:
            return handle.read(2) == _GZIP

    def open(self) -> io.BufferedIOBase:
        """The file's bytes, decompressed if it is gzip-compressed."""
        return gzip.GzipFile(self.path, "rb") if self.compressed else self.path.open("rb")

    def fields(self, text: str) -> list[str] | None:
        """The stripped fields of one line, split as the C parser splits them; ``None`` for
        a line that ends inside a quoted field."""
        if self.delimiter is None:
            return text.split()
        try:
            row = next(csv.reader([text], delimiter=self.delimiter, strict=True), [])
        except csv.Error:
            return None
        return [field.strip() for field in row]


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


# ---------------------------------------------------------------------- blocks of lines


def blocks(source: EdgeFile, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """``(bytes, number of its first line)`` for consecutive runs of whole lines, each checked
    for NUL bytes and invalid UTF-8 (a byte-order mark at the start is dropped)."""
    line = 1
    rest = b""
    first = True
    with source.open() as handle:
        while True:
            chunk = _read(source, handle, block_bytes)
            buffer = rest + chunk if rest else chunk
            if first and (chunk == b"" or len(buffer) >= len(_BOM)):
                buffer, first = buffer.removeprefix(_BOM), False
            if not chunk:
                if buffer:
                    _check_text(source, buffer, line)
                    yield buffer, line
                return
            cut = buffer.rfind(b"\n") + 1
            if cut == 0:  # one line longer than a block: read on
                rest = buffer
                continue
            block, rest = (buffer, b"") if cut == len(buffer) else (buffer[:cut], buffer[cut:])
            _check_text(source, block, line)
            yield block, line
            line += block.count(b"\n")


def _read(source: EdgeFile, handle: io.BufferedIOBase, size: int) -> bytes:
    try:
        return handle.read(size)
    except (OSError, EOFError, zlib.error) as err:  # a truncated or corrupt gzip file
        raise ValueError(f"{str(source.path)!r}: cannot decompress: {err}") from None


def _check_text(source: EdgeFile, block: bytes, first_line: int) -> None:
    """Refuse NUL bytes and invalid UTF-8, naming the line: a binary or compressed file."""
    at = block.find(b"\0")
    if at >= 0:
        line = first_line + block.count(b"\n", 0, at)
        raise source.error(line, "holds a NUL byte: a binary file, not a text edge list")
    if not block.isascii():
        try:
            block.decode("utf-8")
        except UnicodeDecodeError as err:
            line = first_line + block.count(b"\n", 0, err.start)
            column = err.start - (block.rfind(b"\n", 0, err.start) + 1) + 1
            raise source.error(
                line,
                f"byte 0x{block[err.start]:02x} at column {column} is not UTF-8 text "
                "(a binary or compressed file?)",
            ) from None


def _line_starts(array: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    starts = np.flatnonzero(array[:-1] == ord("\n")) + 1
    return np.concatenate([np.zeros(1 if array.size else 0, dtype=np.int64), starts])


def _first_visible(array: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64]) -> Any:
    """Position of each line's first byte that is not a space or a tab (may be its newline,
    or ``array.size`` at the end)."""
    pos = starts.copy()
    active = np.arange(pos.size)
    while active.size:
        inside = pos[active] < array.size
        active = active[inside]
        byte = array[pos[active]]
        active = active[(byte == ord(" ")) | (byte == ord("\t"))]
        pos[active] += 1
    return pos


def _comment_lines(
    source: EdgeFile, array: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], pos: Any
) -> Any:
    """Boolean mask of the lines that are comments."""
    mask = np.zeros(starts.size, dtype=bool)
    for prefix in source.comments:
        hit = np.ones(starts.size, dtype=bool)
        for k, byte in enumerate(prefix):
            at = pos + k
            inside = at < array.size
            hit &= inside
            hit[inside] &= array[at[inside]] == byte
        mask |= hit
    return mask


def without_comments(source: EdgeFile, block: bytes) -> bytes:
    """``block`` without its comment lines (the C parser's own ``comment`` would also cut
    ids that contain the character; only whole lines are comments here)."""
    if not source.comments or not block:
        return block
    array = np.frombuffer(block, dtype=np.uint8)
    if not any(prefix[:1] in block for prefix in source.comments):
        return block
    starts = _line_starts(array)
    drop = np.flatnonzero(_comment_lines(source, array, starts, _first_visible(array, starts)))
    if drop.size == 0:
        return block
    ends = np.append(starts[1:], array.size)
    # Runs of consecutive comment lines are cut out in one piece.
    breaks = np.flatnonzero(np.diff(drop) != 1) + 1
    run_first = drop[np.concatenate([[0], breaks])]
    run_last = drop[np.concatenate([breaks - 1, [drop.size - 1]])]
    pieces, kept_from = [], 0
    for first, last in zip(starts[run_first].tolist(), ends[run_last].tolist(), strict=True):
        pieces.append(block[kept_from:first])
        kept_from = last
    pieces.append(block[kept_from:])
    return b"".join(pieces)


def first_data_line(source: EdgeFile, block: bytes) -> tuple[int, int] | None:
    """``(start, end)`` byte offsets of the first line that is neither blank nor a comment."""
    array = np.frombuffer(block, dtype=np.uint8)
    starts = _line_starts(array)
    pos = _first_visible(array, starts)
    byte = array[np.minimum(pos, array.size - 1)] if array.size else pos
    blank = (pos >= array.size) | (byte == ord("\n")) | (byte == ord("\r"))
    data = np.flatnonzero(~blank & ~_comment_lines(source, array, starts, pos))
    if data.size == 0:
        return None
    index = int(data[0])
    end = int(starts[index + 1]) if index + 1 < starts.size else array.size
    return int(starts[index]), end


def scan(
    source: EdgeFile, block: bytes, first_line: int
) -> Iterator[tuple[int, str, list[str] | None]]:
    """``(line number, text, fields)`` of each data line of ``block``, in Python (errors only)."""
    comments = tuple(prefix.decode() for prefix in source.comments)
    for offset, raw in enumerate(block.split(b"\n")):
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        visible = text.lstrip(" \t")
        if not text.strip() or (comments and visible.startswith(comments)):
            continue
        yield first_line + offset, text, source.fields(text)


def fail(
    source: EdgeFile,
    block: bytes,
    first_line: int,
    check: Callable[[list[str] | None], str | None],
    fallback: str,
) -> ValueError:
    """The error for the first line of ``block`` that ``check`` objects to."""
    last = first_line
    for number, text, fields in scan(source, block, first_line):
        problem = check(fields)
        if problem is not None:
            return source.error(number, problem, text)
        last = number
    return source.error(f"{first_line}-{last}", fallback)


def check_fields(source: EdgeFile) -> Callable[[list[str] | None], str | None]:
    def check(fields: list[str] | None) -> str | None:
        if fields is None:
            return "a quoted field without its closing quote (ids cannot span lines)"
        if len(fields) < 2:
            hint = ""
            if source.delimiter is not None and len(fields) == 1 and len(fields[0].split()) > 1:
                hint = f" (fields are split at {source.delimiter!r}; pass delimiter=...)"
            return f"{len(fields)} field(s), an edge needs two{hint}"
        if not fields[0] or not fields[1]:
            return "an empty node id"
        return None

    return check


def check_range(
    source: EdgeFile, num_nodes: int | None
) -> Callable[[list[str] | None], str | None]:
    fields_ok = check_fields(source)

    def check(fields: list[str] | None) -> str | None:
        problem = fields_ok(fields)
        if problem is not None or fields is None:
            return problem
        for field in fields[:2]:
            if not INTEGER.fullmatch(field):
                continue
            value = int(field)
            if value < 0:
                return f"node id {value} is negative (integer ids are node indices 0 .. N - 1)"
            if num_nodes is not None and value >= num_nodes:
                return f"node id {value} is not below num_nodes={num_nodes}"
            if value >= ID_LIMIT:
                return (
                    f"node id {value} is too large: integer ids are node indices, at most "
                    f"2**31 - 1 (write them with a non-numeric prefix to have them relabelled)"
                )
        return None

    return check


def fail_in(
    source: EdgeFile,
    blocks: Iterator[tuple[bytes, int]],
    check: Callable[[list[str] | None], str | None],
    fallback: str,
) -> ValueError:
    """:func:`fail` over a whole file."""
    for block, line in blocks:
        for number, text, fields in scan(source, block, line):
            problem = check(fields)
            if problem is not None:
                return source.error(number, problem, text)
    return ValueError(f"{str(source.path)!r}: {fallback}")
