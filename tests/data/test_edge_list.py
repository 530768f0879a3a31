from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graphpair.data import from_edge_list, read_edge_list


def test_integer_edges_are_symmetrised_and_cleaned() -> None:
    data = from_edge_list(torch.tensor([[0, 1, 1, 2, 2], [1, 0, 2, 2, 3]]), num_nodes=5)
    assert data.num_nodes == 5
    assert data.edge_index.tolist() == [[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]


def test_named_nodes_and_directed_mode() -> None:
    data = from_edge_list([("b", "a"), ("a", "c"), ("a", "c")], directed=True)
    assert data.node_ids == ["b", "a", "c"]
    assert data.edge_index.tolist() == [[0, 1], [1, 2]]


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="num_nodes=2 is too small"):
        from_edge_list([(0, 5)], num_nodes=2)
    with pytest.raises(ValueError, match="non-negative"):
        from_edge_list(torch.tensor([[0, -1], [1, 2]]))
    with pytest.raises(ValueError, match="x must have num_nodes=4 rows"):
        from_edge_list([(0, 1)], num_nodes=4, x=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="shape"):
        from_edge_list(torch.zeros(3, 3, dtype=torch.long))


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".csv", "source,target,weight\n0,1,0.5\n1,2,1\n# note\n3,0,2\n"),
        (".tsv", "0\t1\n1\t2\n3\t0\n"),
        (".txt", "# comment\n0 1\n1 2\n\n3 0\n"),
    ],
)
def test_read_edge_list_formats(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"g{suffix}"
    path.write_text(text)
    data = read_edge_list(path)
    assert data.num_nodes == 4
    assert data.edge_index.size(1) == 6


def test_read_edge_list_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a file"):
        read_edge_list(tmp_path / "missing.csv")
    path = tmp_path / "bad.csv"
    path.write_text("0,1\n2\n")
    with pytest.raises(ValueError, match="edge 2 has 1 field"):
        read_edge_list(path)
