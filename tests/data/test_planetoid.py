from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graphpair.data._planetoid import read_planetoid


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "nodes", "edges", "features"),
    [("Cora", 2708, 10556, 1433), ("CiteSeer", 3327, 9104, 3703)],
)
def test_matches_pyg_planetoid(
    shared_data: Path, name: str, nodes: int, edges: int, features: int
) -> None:
    from torch_geometric.io import read_planetoid_data  # oracle, on trusted local files only

    folder = shared_data / "planetoid" / name / "raw"
    ours = read_planetoid(folder, name)
    pyg = read_planetoid_data(str(folder), name)
    assert ours.num_nodes == nodes
    assert ours.edge_index.size(1) == edges
    assert ours.x.shape == (nodes, features)
    for key in ("x", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(ours[key], pyg[key]), key
    # Same edge set; graphpair sorts by (row, col), PyG by (col, row).
    n = nodes
    assert torch.equal(
        torch.sort(ours.edge_index[0] * n + ours.edge_index[1]).values,
        torch.sort(pyg.edge_index[0] * n + pyg.edge_index[1]).values,
    )
    assert not bool((ours.edge_index[0] == ours.edge_index[1]).any())
