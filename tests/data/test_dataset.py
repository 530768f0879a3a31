from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from graphpair.data import GraphSet, get_spec, load_dataset


def _graphs() -> list[Data]:
    return [
        Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=3, y=torch.tensor([0])),
        Data(edge_index=torch.tensor([[0], [4]]), num_nodes=5, y=torch.tensor([1])),
    ]


def test_storage_round_trip_keeps_sizes_without_features() -> None:
    graphs = GraphSet(_graphs())
    again = GraphSet.from_storage(graphs.to_storage())
    for i in range(2):
        assert again[i].num_nodes == graphs[i].num_nodes
        assert isinstance(again[i].num_nodes, int)
        assert torch.equal(again[i].edge_index, graphs[i].edge_index)
    batch = next(iter(DataLoader(again, batch_size=2)))
    assert batch.num_nodes == 8
    assert batch.edge_index.tolist() == [[0, 1, 3], [1, 0, 7]]


def test_empty_graph_set_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one graph"):
        GraphSet([])


def test_loaded_dataset_accessors() -> None:
    ds = load_dataset("florentine-families")
    assert ds.name == "florentine-families"
    assert ds.task == "link"
    assert len(ds) == 1
    assert "florentine-families" in repr(ds)
    graphs = load_dataset("CSL", root=None, download=False)  # generated without files
    with pytest.raises(ValueError, match="holds 150 graphs"):
        _ = graphs.data


def test_files_present_reports_offline_availability(tmp_path: Path) -> None:
    assert get_spec("karate").files_present(tmp_path)
    assert not get_spec("Cora").files_present(tmp_path)
