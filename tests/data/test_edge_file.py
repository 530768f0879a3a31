from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from graphpair.data import symmetrize
from graphpair.data._edge_file import edge_index_from_chunks, read_edge_file
from graphpair.data._edge_text import EdgeFile

pairs_lists = st.lists(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=40), max_size=5
)


@given(pairs_lists, st.sampled_from([np.int32, np.int64]), st.booleans())
def test_edge_index_from_chunks_matches_symmetrize_and_unique(
    chunk_pairs: list[list[tuple[int, int]]], dtype: type, directed: bool
) -> None:
    chunks = [
        (np.array([u for u, _ in c], dtype=dtype), np.array([v for _, v in c], dtype=dtype))
        for c in chunk_pairs
    ]
    everything = [p for c in chunk_pairs for p in c]
    out = edge_index_from_chunks(chunks, directed=directed)
    assert chunks == []  # consumed, so that the arrays are freed as they are copied
    assert out.dtype == torch.long
    if directed:
        expected = sorted({(u, v) for u, v in everything if u != v})
        assert out.t().tolist() == [list(p) for p in expected]
    else:
        tensor = torch.tensor(everything, dtype=torch.long).view(-1, 2).t()
        assert torch.equal(out, symmetrize(tensor, 31))


def test_large_ids_keep_their_order() -> None:
    big = 2**31 - 1
    chunks = [(np.array([big, 0, big - 1]), np.array([0, big - 1, big]))]
    out = edge_index_from_chunks(chunks, directed=True)
    assert out.tolist() == [[0, big - 1, big], [big - 1, big, 0]]


def test_contents_are_int32_chunks_and_the_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("from,to\n0,1\n1,2\n")
    contents = read_edge_file(EdgeFile(path, ",", (b"#",)), header=None, num_nodes=None)
    assert contents.header == "from,to"
    assert contents.num_nodes == 3
    assert contents.node_ids is None
    assert all(u.dtype == np.int32 and v.dtype == np.int32 for u, v in contents.chunks)
    path.write_text("from,to\nann,bob\n")
    contents = read_edge_file(EdgeFile(path, ",", ()), header=None, num_nodes=None, block_bytes=4)
    assert (contents.header, contents.node_ids) == ("from,to", ["ann", "bob"])
    assert all(u.dtype == np.int32 for u, _ in contents.chunks)
