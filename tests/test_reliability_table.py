"""docs/reliability.md cannot rot: its table names tests that exist and covers the cases of
the reliability issue (its code block runs in tests/docs/test_pages.py, with the other
pages')."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reliability.md"
_NODE = re.compile(r"^(tests/[\w/]+\.py)::(\w+)(\[[^\]]*\])?$")
_CODE = re.compile(r"`([^`]+)`")


def _rows() -> list[list[str]]:
    text = PAGE.read_text(encoding="utf-8")
    table = text.split("## The table", 1)[1]
    lines = [line for line in table.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| input or case | behaviour | error message (start) | test |")
    assert set(lines[1]) <= {"|", "-"}
    return [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in lines[2:]]


def test_the_table_has_at_least_40_rows_of_four_columns() -> None:
    rows = _rows()
    assert len(rows) >= 40
    for row in rows:
        assert len(row) == 4, row
        assert all(row), row  # no empty cell ("none" where there is no message)


def test_every_named_test_exists() -> None:
    seen = 0
    for case, _, _, tests in _rows():
        nodes = _CODE.findall(tests)
        assert nodes, f"row {case!r} names no test"
        # Only test nodes in the test column, as inline code (links would break the docs build).
        assert _CODE.sub("", tests).replace(",", "").strip() == "", case
        for node in nodes:
            match = _NODE.match(node)
            assert match, f"{node!r} (row {case!r}) is not a pytest node 'tests/...py::test_name'"
            path = ROOT / match.group(1)
            assert path.is_file(), f"{node!r}: no such file"
            assert re.search(rf"^def {match.group(2)}\(", path.read_text(), re.MULTILINE), (
                f"{node!r}: {match.group(1)} has no function {match.group(2)}"
            )
            seen += 1
    assert seen >= 40


# Each case the reliability issue names, as a pattern that some row's first column matches.
ISSUE_CASES = [
    r"`edge_index` of float dtype",
    r"`edge_index` of shape",
    r"negative entry in `edge_index`",
    r"`edge_index` entry `>= num_nodes`",
    r"pairs out of range",
    r"NaN or Inf in the embeddings",
    r"NaN or Inf in node features",
    r"empty graph",
    r"single node",
    r"isolated nodes",
    r"duplicate edges",
    r"self loops",
    r"directed edges given to the undirected",
    r"labels whose length differs",
    r"a batch with no positive",
    r"N x N",
    r"negative sampling asked for more pairs",
    r"dataset cache",
    r"checkpoint",
    r"results file with a truncated line",
    r"`--config` file with a value of the wrong type",
    r"`--config` file with an unknown key",
    r"path separators",
    r"pickle",
    r"`torch\.load`",
    r"`deterministic=True`",
    r"fuzzing",
]


@pytest.mark.parametrize("pattern", ISSUE_CASES)
def test_every_case_of_the_issue_has_a_row(pattern: str) -> None:
    assert any(re.search(pattern, row[0]) for row in _rows()), pattern
