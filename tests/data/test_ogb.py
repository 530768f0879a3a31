from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from graphpair.data import MissingDataError, audit_split, load_dataset
from graphpair.data._ogb import ogb_meta

pytestmark = pytest.mark.data


def test_ddi_loads_offline_with_its_official_split(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    loads: list[dict[str, object]] = []
    real_load = torch.load

    def spy(*args: object, **kwargs: object) -> object:
        loads.append(kwargs)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(torch, "load", spy)
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("input() was called"))
    ds = load_dataset("OGBL_DDI", root=shared_data, cache=tmp_path, download=False)
    assert loads
    assert all(kw.get("weights_only") is True for kw in loads)
    split = ds.link_split
    assert split is not None
    assert ds.data.num_nodes == 4267
    assert split.sizes() == {
        "train_pos": 1_067_911,
        "valid_pos": 133_489,
        "valid_neg": 101_882,
        "test_pos": 133_489,
        "test_neg": 95_599,
    }
    # The message-passing graph is the training edges in both directions.
    assert ds.data.edge_index.size(1) == 2 * 1_067_911
    assert torch.equal(split.edge_index("train"), ds.data.edge_index)
    assert audit_split(split).ok


@pytest.mark.parametrize(
    ("name", "graphs", "sizes"),
    [
        ("ogbg-molesol", 1128, (902, 113, 113)),
        ("ogbg-molfreesolv", 642, (513, 64, 65)),
        ("ogbg-molbace", 1513, (1210, 151, 152)),
        ("ogbg-molbbbp", 2039, (1631, 204, 204)),
    ],
)
def test_molecule_sets_match_ogb_reader(
    shared_data: Path, tmp_path: Path, name: str, graphs: int, sizes: tuple[int, ...]
) -> None:
    from ogb.io.read_graph_pyg import read_graph_pyg  # oracle: ogb's own CSV reader

    ds = load_dataset(name, root=shared_data, cache=tmp_path, download=False)
    assert len(ds.graphs) == graphs
    assert ds.split is not None
    assert tuple(int(ds.split[k].numel()) for k in ("train", "valid", "test")) == sizes
    reference = read_graph_pyg(
        str(shared_data / "ogb" / name.replace("-", "_") / "raw"), add_inverse_edge=True
    )
    for i in (0, 1, graphs // 2, graphs - 1):
        ours, ref = ds.graphs[i], reference[i]
        for key in ("edge_index", "x", "edge_attr"):
            assert torch.equal(ours[key], ref[key]), (i, key)
        assert ours.num_nodes == ref.num_nodes
    meta = ogb_meta(name)
    y = ds.graphs[0].y
    assert y.shape == (1, int(meta["num tasks"]))
    expected = torch.long if "classification" in meta["task type"] else torch.float32
    assert y.dtype == expected
    # Second load comes from the verified processed cache and is identical.
    again = load_dataset(name, root=shared_data, cache=tmp_path, download=False)
    assert list((tmp_path / "processed").iterdir())
    assert torch.equal(again.graphs[3].edge_attr, ds.graphs[3].edge_attr)


def test_missing_files_name_the_files_and_folder(shared_data: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    target = root / "ogb" / "ogbl_ddi"
    shutil.copytree(shared_data / "ogb" / "ogbl_ddi", target)
    (target / "split" / "target" / "valid.pt").chmod(0o600)
    (target / "split" / "target" / "valid.pt").unlink()
    with pytest.raises(MissingDataError, match=r"split/target/valid\.pt.*ogbl_ddi"):
        load_dataset("ogbl-ddi", root=root, download=False)


def test_ogb_graph_labels_rule() -> None:
    assert ogb_meta("ogbg-molhiv")["eval metric"] == "rocauc"
    assert ogb_meta("ogbl-collab")["eval metric"] == "hits@50"
    assert np.isclose(float(ogb_meta("ogbg-molpcba")["num tasks"]), 128)


@pytest.mark.parametrize("name", ["ogbl-collab", "ogbl-ppa", "ogbl-citation2", "ogbl-ddi"])
def test_missing_ogb_data_says_what_where_from_where_and_how(name: str, tmp_path: Path) -> None:
    import ogb.linkproppred
    import pandas as pd

    # The oracle for the URL: ogb's own master.csv, read here directly.
    master = pd.read_csv(
        Path(ogb.linkproppred.__file__).parent / "master.csv", index_col=0, keep_default_na=False
    )
    url, inner = master[name]["url"], master[name]["download_name"]
    with pytest.raises(MissingDataError) as caught:
        load_dataset(name, root=tmp_path, download=False)
    err = caught.value
    folder = tmp_path / "ogb" / name.replace("-", "_")
    message = str(err)
    assert f"missing {len(err.missing)} file(s)" in message
    assert "raw/edge.csv.gz" in err.missing
    assert all(f"'{file}'" in message for file in err.missing)
    assert str(folder) in message
    assert "downloading is off" in message
    assert f"Download them from {url}." in message
    assert f"its {inner!r} folder is that folder" in message
    for how in ("root=...", "--data-root DIR", "$GRAPHPAIR_DATA", f"'ogb/{folder.name}'"):
        assert how in message, how
    assert (err.dataset, err.url, err.folder) == (name, url, folder)
    assert isinstance(err, FileNotFoundError)


def test_missing_extra_ogb_files_are_named(tmp_path: Path) -> None:
    from tests.data.ogb_fixtures import write_collab

    folder = write_collab(tmp_path / "ogb")
    (folder / "raw" / "edge_year.csv.gz").unlink()
    with pytest.raises(MissingDataError, match=r"missing 1 file\(s\) \['raw/edge_year\.csv\.gz'\]"):
        load_dataset("ogbl-collab", root=tmp_path, download=False)


def ogb_reference(root: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """ogb 1.3.6's own ``LinkPropPredDataset`` on a fixture: the graph dict and the split.

    ogb loads the split files with a bare ``torch.load``, which torch >= 2.6 runs with
    ``weights_only=True``; the numpy allowlist lets it read our fixture's arrays, and a test
    must never reach ``input()`` (ogb asks there when a folder lacks its release file)."""
    from ogb.linkproppred import LinkPropPredDataset

    from graphpair.data._io import NUMPY_SAFE_GLOBALS

    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("ogb called input()"))
    (root / name.replace("-", "_") / "processed").mkdir(exist_ok=True)  # ogb saves there
    with torch.serialization.safe_globals(NUMPY_SAFE_GLOBALS):
        dataset = LinkPropPredDataset(name, root=str(root))
        return dataset[0], dataset.get_edge_split()


@pytest.mark.parametrize("name", ["ogbl-collab", "ogbl-ppa", "ogbl-citation2"])
def test_link_fixtures_load_as_ogb_reads_them(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphpair.data._split import symmetrize
    from tests.data.ogb_fixtures import write_link_fixture

    write_link_fixture(tmp_path / "ogb", name)
    loads: list[dict[str, object]] = []
    real_load = torch.load

    def spy(*args: object, **kwargs: object) -> object:
        loads.append(kwargs)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(torch, "load", spy)
    ds = load_dataset(name, root=tmp_path, cache=tmp_path / "cache", download=False)
    assert loads
    assert all(kw.get("weights_only") is True for kw in loads)  # never an unsafe unpickle
    monkeypatch.setattr(torch, "load", real_load)
    graph, edges = ogb_reference(tmp_path / "ogb", name, monkeypatch)
    data, split = ds.data, ds.link_split
    assert split is not None
    n = graph["num_nodes"]
    assert data.num_nodes == split.num_nodes == n
    # Nodes: features as ogb reads them (ppa's one-hot species stay integers).
    assert torch.equal(data.x, torch.from_numpy(graph["node_feat"]))
    assert data.x.dtype == (torch.long if name == "ogbl-ppa" else torch.float32)
    if name == "ogbl-citation2":
        assert torch.equal(data.node_year, torch.from_numpy(graph["node_year"]))
    # The message-passing graph: ogb's edges (collab, ppa: both directions; citation2:
    # directed), symmetrised and deduplicated, i.e. NCN's binary adjacency (spec §4.2).
    reference = symmetrize(torch.from_numpy(graph["edge_index"]), n)
    assert torch.equal(data.edge_index, reference)
    assert torch.equal(split.edge_index("train"), reference)
    # The split, as ogb hands it out.
    if name == "ogbl-citation2":
        assert split.directed
        for stage in ("train", "valid", "test"):
            part = edges[stage]
            pairs = np.stack([part["source_node"], part["target_node"]])
            assert torch.equal(split.pos(stage), torch.from_numpy(pairs))
        for stage in ("valid", "test"):
            neg = split.neg(stage)  # [2, P, 1000]: each positive's source with its negatives
            targets = edges[stage]["target_node_neg"]
            assert neg.shape == (2, *targets.shape)
            assert targets.shape[1] == 1000
            assert torch.equal(neg[1], torch.from_numpy(targets))
            assert torch.equal(neg[0], split.pos(stage)[0].unsqueeze(1).expand_as(neg[1]))
    else:
        assert not split.directed
        for stage in ("train", "valid", "test"):
            assert torch.equal(split.pos(stage), torch.from_numpy(edges[stage]["edge"]).t())
        for stage in ("valid", "test"):
            assert torch.equal(split.neg(stage), torch.from_numpy(edges[stage]["edge_neg"]).t())
    assert split.valid_as_input == (name == "ogbl-collab")
    if name == "ogbl-collab":
        # OGB's training list as given: repeated collaborations stay repeated positives (Q7),
        # their weights kept for users; ogb's graph carries the same weights per raw edge.
        assert torch.equal(split.train_weight, torch.from_numpy(edges["train"]["weight"]).float())
        assert np.array_equal(graph["edge_weight"][::2, 0], edges["train"]["weight"])
        keys = torch.minimum(*split.train_pos) * n + torch.maximum(*split.train_pos)
        assert keys.unique().numel() < keys.numel()
        # Test-time graph = train + validation edges (valid_as_input), symmetrised.
        both = np.concatenate([edges["train"]["edge"], edges["valid"]["edge"]]).T
        assert torch.equal(split.edge_index("test"), symmetrize(torch.from_numpy(both), n))
    assert audit_split(split, allow_train_duplicates=name == "ogbl-collab").ok
