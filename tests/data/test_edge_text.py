from __future__ import annotations

from pathlib import Path

import pytest

from graphpair.data._edge_text import (
    EdgeFile,
    blocks,
    first_data_line,
    is_column_name,
    is_header_pair,
    without_comments,
)


@pytest.mark.parametrize(
    "token",
    ["source", "Target", "SRC", "dst", "from", "To", "u", "V", "FromNodeId", "to_node_id",
     "source_id", "target-name", "head", "tail", "user", "Item_ID", "node", "vertex"],
)  # fmt: skip
def test_column_names(token: str) -> None:
    assert is_column_name(token)


@pytest.mark.parametrize(
    "token",
    ["v1", "u2", "n1", "node1", "user0", "ann", "Napoleon", "0", "12", "paper3", "x", "", "idx",
     "C#"],
)  # fmt: skip
def test_node_ids_are_not_column_names(token: str) -> None:
    assert not is_column_name(token)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("source", "target", True),
        ("FromNodeId", "ToNodeId", True),
        ("node1", "node2", True),
        ("Node_1", "Node_2", True),
        ("id1", "id2", True),
        ("vertex1", "vertex2", True),
        ("user0", "user3", False),  # node ids of the CLI test's friends.tsv
        ("node0", "node1", False),
        ("node2", "node1", False),
        ("v1", "v2", False),
        ("n1", "n2", False),
        ("paper1", "paper2", False),
        ("source", "ann", False),
    ],
)
def test_header_pairs(first: str, second: str, expected: bool) -> None:
    assert is_header_pair(first, second) is expected


def _source(path: Path, comments: tuple[bytes, ...] = (b"#", b"%")) -> EdgeFile:
    return EdgeFile(path, ",", comments)


def test_comment_lines_are_cut_whole(tmp_path: Path) -> None:
    source = _source(tmp_path / "g.csv")
    text = b"# a\n%b\n0,1\n  # indented\nC#,x#\n\t%\n# last"
    assert without_comments(source, text) == b"0,1\nC#,x#\n"
    assert without_comments(_source(tmp_path / "g.csv", ()), text) == text
    assert without_comments(_source(tmp_path / "g.csv", (b"//",)), b"//\n/,1\n") == b"/,1\n"


def test_first_data_line_skips_blank_and_comment_lines(tmp_path: Path) -> None:
    source = _source(tmp_path / "g.csv")
    block = b"\n  \r\n# c\n  % d\nsrc,dst\n0,1\n"
    start, end = first_data_line(source, block) or (0, 0)
    assert block[start:end] == b"src,dst\n"
    assert first_data_line(source, b"# only\n\n") is None
    assert first_data_line(source, b"") is None


@pytest.mark.parametrize("size", [1, 3, 8, 1 << 20])
def test_blocks_are_whole_lines_with_their_numbers(tmp_path: Path, size: int) -> None:
    path = tmp_path / "g.csv"
    lines = [f"{i},{i + 1}" for i in range(40)]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())  # BOM, no final newline
    seen = []
    for block, line in blocks(_source(path), size):
        assert not block.startswith(b"\xef")
        parts = block.decode().splitlines()
        seen += [(line + k, text) for k, text in enumerate(parts)]
    assert seen == [(k + 1, text) for k, text in enumerate(lines)]
