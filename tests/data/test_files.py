from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from graphpair.data import load_dataset
from graphpair.data._files import read_peptides_func


@pytest.mark.parametrize(
    ("name", "graphs", "folds"),
    [
        ("MUTAG", 188, False),
        ("PROTEINS", 1113, True),
        ("ENZYMES", 600, True),
        ("IMDB-BINARY", 1000, True),
        ("NCI1", 4110, True),
        ("DHFR", 756, False),
    ],
)
def test_tu_matches_pyg_reader(shared_data: Path, name: str, graphs: int, folds: bool) -> None:
    from torch_geometric.io import read_tu_data  # oracle

    ds = load_dataset(name, root=shared_data, download=False)
    assert len(ds.graphs) == graphs
    data, slices, sizes = read_tu_data(str(shared_data / "tu" / name / "raw"), name)
    for i in (0, graphs - 1):
        graph = ds.graphs[i]
        lo, hi = int(slices["edge_index"][i]), int(slices["edge_index"][i + 1])
        assert torch.equal(graph.edge_index, data.edge_index[:, lo:hi])
        assert int(graph.y) == int(data.y[i])
        if "x" in slices:
            a, b = int(slices["x"][i]), int(slices["x"][i + 1])
            assert torch.equal(graph.x, data.x[a:b, sizes["num_node_attributes"] :])
    if folds:
        assert ds.folds is not None
        assert len(ds.folds) == 10
        tests = torch.cat([fold["test"] for fold in ds.folds])
        assert torch.equal(torch.sort(tests).values, torch.arange(graphs))
        for fold in ds.folds:
            parts = [set(fold[k].tolist()) for k in ("train", "valid", "test")]
            assert not (parts[0] & parts[1])
            assert not (parts[0] & parts[2])
            assert not (parts[1] & parts[2])
            assert len(parts[0] | parts[1] | parts[2]) == graphs
    else:
        assert ds.folds is None


def test_zinc_subset_statistics(shared_data: Path) -> None:
    ds = load_dataset("zinc", root=shared_data, download=False)
    graphs = ds.graphs
    assert len(graphs) == 12_000
    store = graphs._data
    assert store.x.size(0) == 277_864
    assert store.edge_index.size(1) == 2 * 298_985
    assert int(store.x.min()) == 0
    assert int(store.x.max()) <= 27
    assert set(store.edge_attr.unique().tolist()) <= {1, 2, 3}
    assert ds.split is not None
    assert torch.equal(ds.split["valid"], torch.arange(10_000, 11_000))
    sizes = [graphs[i].num_nodes for i in range(0, 12_000, 1000)]
    assert min(sizes) >= 9
    assert max(sizes) <= 37
    g = graphs[0]  # undirected: both directions present, local ids
    keys = set(zip(g.edge_index[0].tolist(), g.edge_index[1].tolist(), strict=True))
    assert all((v, u) in keys for u, v in keys)
    assert int(g.edge_index.max()) < g.num_nodes


def test_csl_files(shared_data: Path) -> None:
    ds = load_dataset("CSL", root=shared_data, download=False)
    assert ds.info["generated"] is False
    assert len(ds.graphs) == 150
    for i in range(150):
        g = ds.graphs[i]
        assert isinstance(g.num_nodes, int)
        assert g.num_nodes == 41
        assert torch.equal(torch.bincount(g.edge_index[0], minlength=41), torch.full((41,), 4))
    assert torch.equal(torch.bincount(ds.graphs._data.y), torch.full((10,), 15))
    assert ds.folds is not None
    assert len(ds.folds) == 5


def test_peptides_func_small_copy(shared_data: Path, tmp_path: Path) -> None:
    """Convert the first 30 peptides of the real file (the full set takes minutes)."""
    pytest.importorskip("rdkit")
    source = shared_data / "peptides_func" / "raw" / "peptide_multi_class_dataset.csv.gz"
    with gzip.open(source, "rt") as handle:
        lines = [next(handle) for _ in range(31)]
    (tmp_path / "raw").mkdir()
    with gzip.open(tmp_path / "raw" / source.name, "wt") as handle:
        handle.writelines(lines)
    graphs = read_peptides_func(tmp_path)
    assert len(graphs) == 30
    g = graphs[0]
    assert g.x.dtype == torch.long
    assert g.x.size(1) == 9
    assert g.edge_attr.size(1) == 3
    assert g.y.shape == (1, 10)
    labels = json.loads(lines[1].rsplit('"[', 1)[1].split("]")[0].join("[]"))
    assert g.y.view(-1).tolist() == [float(v) for v in labels]


def _write_zinc_pickles(folder: Path) -> None:
    import pickle

    folder.mkdir(parents=True)
    for split, count in (("train", 3), ("val", 2), ("test", 2)):
        molecules = []
        for i in range(count + 1):
            n = 3 + i
            bonds = torch.zeros(n, n, dtype=torch.long)
            bonds[0, 1] = bonds[1, 0] = 1
            bonds[1, 2] = bonds[2, 1] = 2
            molecules.append(
                {
                    "atom_type": torch.arange(n),
                    "bond_type": bonds,
                    "logP_SA_cycle_normalized": torch.tensor([float(i)]),
                    "num_atom": n,
                }
            )
        (folder / f"{split}.pickle").write_bytes(pickle.dumps(molecules))
        (folder / f"{split}.index").write_text(",".join(str(i) for i in range(1, count + 1)) + "\n")


def test_zinc_pickles_are_read_like_pyg(tmp_path: Path) -> None:
    from graphpair.data._files import read_zinc_pickles

    _write_zinc_pickles(tmp_path / "molecules")
    graphs, split = read_zinc_pickles(tmp_path / "molecules")
    assert len(graphs) == 7
    assert split["valid"].tolist() == [3, 4]
    g = graphs[0]  # train molecule index 1: 4 atoms, y = 1.0
    assert g.num_nodes == 4
    assert g.x.view(-1).tolist() == [0, 1, 2, 3]
    assert g.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert g.edge_attr.tolist() == [1, 1, 2, 2]
    assert g.y.tolist() == [1.0]
