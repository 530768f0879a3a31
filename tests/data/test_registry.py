from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graphpair.data import MissingDataError, get_spec, load_dataset


def test_names_resolve_case_and_separator_insensitively() -> None:
    assert get_spec("OGBL_DDI").name == "ogbl-ddi"
    assert get_spec("ogbl ddi").name == "ogbl-ddi"
    assert get_spec("citeseer").name == "CiteSeer"
    assert get_spec("Les_Miserables").name == "les-miserables"
    assert get_spec("zinc12k").name == "ZINC"


def test_unknown_and_path_names() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'cora2'.*'Cora'"):
        get_spec("cora2")
    with pytest.raises(ValueError, match="not a path"):
        get_spec("../etc/passwd")
    with pytest.raises(ValueError, match="not a path"):
        get_spec("data\\cora")
    with pytest.raises(TypeError, match="name must be a string"):
        get_spec(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["PubMed", "ogbl-collab", "ogbl-ppa", "ogbl-citation2", "ogbg-molhiv", "ogbn-arxiv"]
)
def test_absent_files_offline_give_the_documented_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(MissingDataError, match=r"missing \d+ file\(s\).*downloading is off"):
        load_dataset(name, root=tmp_path, download=False)


def _write_edges(path: Path, num_nodes: int = 60) -> Path:
    import networkx as nx

    graph = nx.powerlaw_cluster_graph(num_nodes, 3, 0.5, seed=1)
    path.write_text("".join(f"u{a},u{b}\n" for a, b in graph.edges()))
    return path


def test_load_edge_list_is_a_link_dataset_with_an_audited_seeded_split(tmp_path: Path) -> None:
    from graphpair.data import audit_split, link_split, load_edge_list

    file = _write_edges(tmp_path / "mine.csv")
    ds = load_edge_list(file)
    assert (ds.name, ds.task, ds.spec.metric, ds.spec.split) == (
        "mine.csv",
        "link",
        "hits@100",
        "ncn-planetoid",
    )
    data = ds.data
    assert data.num_nodes == 60
    assert data.node_ids[0] == "u0"
    assert data.x is None
    # Symmetric, both directions stored, as for every undirected link dataset.
    edges = {tuple(e) for e in data.edge_index.t().tolist()}
    assert all((b, a) in edges for a, b in edges)
    first, again = link_split(ds, seed=3), link_split(ds, seed=3)
    assert torch.equal(first.test_pos, again.test_pos)
    assert not torch.equal(first.test_pos, link_split(ds, seed=4).test_pos)
    assert audit_split(first).ok
    # The spec's loader reads the same file again.
    assert torch.equal(ds.spec.loader(ds.spec, None).data.edge_index, data.edge_index)  # type: ignore[arg-type]


def test_load_edge_list_errors_name_the_file(tmp_path: Path) -> None:
    from graphpair.data import load_edge_list

    with pytest.raises(FileNotFoundError, match="absent.csv"):
        load_edge_list(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("# only a comment\n")
    with pytest.raises(ValueError, match="empty.csv.*holds no edge"):
        load_edge_list(empty)


def test_load_edge_list_of_self_loops_only_is_refused(tmp_path: Path) -> None:
    from graphpair.data import load_edge_list

    loops = tmp_path / "loops.txt"
    loops.write_text("1 1\n2 2\n")
    with pytest.raises(ValueError, match="loops.txt.*holds no edge: nothing to train"):
        load_edge_list(loops)


def test_load_edge_list_header_detection_and_override(tmp_path: Path) -> None:
    from graphpair.data import load_edge_list

    file = tmp_path / "people.csv"
    graph = _write_edges(tmp_path / "bare.csv").read_text()
    file.write_text("source,target\n" + graph)
    detected = load_edge_list(file)
    assert detected.data.num_nodes == 60
    assert "source" not in detected.data.node_ids
    forced = load_edge_list(file, header=False)
    assert forced.data.num_nodes == 62
    assert forced.data.node_ids[:2] == ["source", "target"]
    # The spec's loader keeps the choice.
    again = forced.spec.loader(forced.spec, None)  # type: ignore[arg-type]
    assert again.data.num_nodes == 62
    assert torch.equal(again.data.edge_index, forced.data.edge_index)
    assert load_edge_list(file, header=True).data.num_nodes == 60


def test_load_edge_list_malformed_line_is_named(tmp_path: Path) -> None:
    from graphpair.data import load_edge_list

    file = tmp_path / "broken.tsv"
    file.write_text("a\tb\nb\tc\nc\n")
    with pytest.raises(ValueError, match=r"broken.tsv', line 3: 1 field\(s\)"):
        load_edge_list(file)
