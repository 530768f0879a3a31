"""Readers for the text layouts of graph collections: TU, ZINC subset, CSL, Peptides-func.

All return a :class:`GraphSet` (one collated storage) and never unpickle anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from graphpair.data._dataset import GraphSet, index_tensor

__all__ = [
    "read_csl",
    "read_errica_folds",
    "read_peptides_func",
    "read_split_json",
    "read_tu",
    "read_zinc_pickles",
    "read_zinc_subset",
]


def _ptr(counts: Tensor) -> Tensor:
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


def _graph_set(
    *,
    edge_index: Tensor,
    num_nodes: Tensor,
    num_edges: Tensor,
    node: dict[str, Tensor],
    edge: dict[str, Tensor],
    graph: dict[str, Tensor],
) -> GraphSet:
    """Build a :class:`GraphSet` from concatenated per-graph tensors (local node ids)."""
    node_ptr, edge_ptr = _ptr(num_nodes), _ptr(num_edges)
    graph_ptr = torch.arange(num_nodes.numel() + 1)
    flat = {"data.edge_index": edge_index, "slices.edge_index": edge_ptr}
    flat["data.num_nodes"], flat["slices.num_nodes"] = num_nodes, graph_ptr
    for key, value in node.items():
        flat[f"data.{key}"], flat[f"slices.{key}"] = value, node_ptr
    for key, value in edge.items():
        flat[f"data.{key}"], flat[f"slices.{key}"] = value, edge_ptr
    for key, value in graph.items():
        flat[f"data.{key}"], flat[f"slices.{key}"] = value, graph_ptr
    return GraphSet.from_storage(flat)


def _local(edge_index: Tensor, edge_graph: Tensor, node_ptr: Tensor) -> Tensor:
    """Global node ids to per-graph local ids."""
    return edge_index - node_ptr[edge_graph].unsqueeze(0)


def _undirected_by_graph(
    graph: np.ndarray, u: np.ndarray, v: np.ndarray, attr: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Both directions of each listed edge, sorted by (graph, u, v) as PyG's coalesce would."""
    g2 = np.concatenate([graph, graph])
    a, b = np.concatenate([u, v]), np.concatenate([v, u])
    order = np.lexsort((b, a, g2))
    attr2 = None if attr is None else np.concatenate([attr, attr])[order]
    return g2[order], a[order], b[order], attr2


def read_tu(folder: Path, name: str) -> GraphSet:
    """A TU dataset from PyG ``TUDataset`` raw text files (PyG's defaults: node labels one-hot
    as ``x``, continuous node attributes dropped, edge labels one-hot as ``edge_attr``)."""
    from torch_geometric.io import read_tu_data

    data, slices, sizes = read_tu_data(str(folder), name)
    if data.x is not None and sizes["num_node_attributes"] > 0:
        data.x = data.x[:, sizes["num_node_attributes"] :]
        if data.x.size(1) == 0:
            del data.x
            del slices["x"]
    if data.edge_attr is not None and sizes["num_edge_attributes"] > 0:
        data.edge_attr = data.edge_attr[:, sizes["num_edge_attributes"] :]
        if data.edge_attr.size(1) == 0:
            del data.edge_attr
            del slices["edge_attr"]
    flat: dict[str, Tensor] = {}
    for key, value in data:  # a PyG Data iterates over (key, value) pairs
        if key == "num_nodes":
            continue
        flat[f"data.{key}"] = value
        flat[f"slices.{key}"] = slices[key]
    num_graphs = slices["y"].numel() - 1
    if "x" in slices:
        counts = slices["x"][1:] - slices["x"][:-1]
    else:
        counts = torch.as_tensor(data._num_nodes, dtype=torch.long)
    flat["data.num_nodes"] = counts
    flat["slices.num_nodes"] = torch.arange(num_graphs + 1)
    return GraphSet.from_storage(flat)


def read_errica_folds(path: Path, num_graphs: int) -> tuple[dict[str, Tensor], ...]:
    """The 10-fold splits of Errica et al. (ICLR 2020): train/valid/test graph ids per fold."""
    content = json.loads(path.read_text())
    if not isinstance(content, list) or not content:
        raise ValueError(f"{str(path)!r} is not a list of folds")
    folds = []
    for i, fold in enumerate(content):
        selection = fold["model_selection"][0]
        folds.append(
            {
                name: index_tensor(values, name=f"fold {i} {name}", size=num_graphs)
                for name, values in (
                    ("train", selection["train"]),
                    ("valid", selection["validation"]),
                    ("test", fold["test"]),
                )
            }
        )
    return tuple(folds)


def _table(path: Path, dtypes: list[Any]) -> list[np.ndarray]:
    frame = pd.read_csv(path, sep=r"\s+", header=None, engine="c")
    if frame.shape[1] != len(dtypes):
        raise ValueError(f"{str(path)!r} must have {len(dtypes)} columns; got {frame.shape[1]}")
    return [frame[i].to_numpy().astype(dtype) for i, dtype in enumerate(dtypes)]


def read_zinc_subset(folder: Path) -> tuple[GraphSet, dict[str, Tensor]]:
    """ZINC 12k from its text files: ``x [n, 1]`` atom type, ``edge_attr [e]`` bond type (as
    PyG's ``ZINC(subset=True)``), ``y [1]`` penalised logP; and the 10k/1k/1k split."""
    n_graph, n_node, n_type = _table(folder / "ZINC_Nodes.txt", [np.int64] * 3)
    e_graph, e_u, e_v, e_type = _table(folder / "ZINC_Edges.txt", [np.int64] * 4)
    l_graph, l_y = _table(folder / "ZINC_Labels.txt", [np.int64, np.float32])
    num_graphs = int(l_graph.max()) + 1
    if not np.array_equal(l_graph, np.arange(num_graphs)):
        raise ValueError("ZINC_Labels.txt must list graphs 0..G-1 in order")
    order = np.lexsort((n_node, n_graph))
    n_graph, n_type = n_graph[order], n_type[order]
    num_nodes = torch.from_numpy(np.bincount(n_graph, minlength=num_graphs).astype(np.int64))
    g, u, v, bond = _undirected_by_graph(e_graph, e_u, e_v, e_type)
    assert bond is not None
    num_edges = torch.from_numpy(np.bincount(g, minlength=num_graphs).astype(np.int64))
    graphs = _graph_set(
        edge_index=torch.from_numpy(np.stack([u, v])),
        num_nodes=num_nodes,
        num_edges=num_edges,
        node={"x": torch.from_numpy(n_type).view(-1, 1)},
        edge={"edge_attr": torch.from_numpy(bond)},
        graph={"y": torch.from_numpy(l_y)},
    )
    return graphs, read_split_json(folder / "splits.json", num_graphs)


def _key(split: dict[str, Any], prefix: str) -> str:
    for key in split:
        if key.startswith(prefix):
            return key
    raise ValueError(f"split file has no {prefix!r} entry; keys {sorted(split)}")


def read_csl(folder: Path) -> tuple[GraphSet, tuple[dict[str, Tensor], ...]]:
    """CSL from its text files (41-node graphs, 10 classes) with its 5 train/val/test folds."""
    n_graph, _, _ = _table(folder / "CSL_Nodes.txt", [np.int64] * 3)
    e_graph, e_u, e_v, _ = _table(folder / "CSL_Edges.txt", [np.int64] * 4)
    l_graph, l_y = _table(folder / "CSL_Labels.txt", [np.int64, np.int64])
    num_graphs = int(l_graph.max()) + 1
    num_nodes = torch.from_numpy(np.bincount(n_graph, minlength=num_graphs).astype(np.int64))
    # Edge files list each undirected edge once; keep both directions as every PyG graph does.
    g, u, v, _ = _undirected_by_graph(e_graph, e_u, e_v, None)
    num_edges = torch.from_numpy(np.bincount(g, minlength=num_graphs).astype(np.int64))
    y = np.zeros(num_graphs, dtype=np.int64)
    y[l_graph] = l_y
    graphs = _graph_set(
        edge_index=torch.from_numpy(np.stack([u, v])),
        num_nodes=num_nodes,
        num_edges=num_edges,
        node={},
        edge={},
        graph={"y": torch.from_numpy(y)},
    )
    lines = {
        name: (folder / f"CSL_{name}.txt").read_text().split() for name in ("train", "val", "test")
    }
    folds = []
    for i in range(len(lines["train"])):
        folds.append(
            {
                out: index_tensor(
                    [int(v) for v in lines[name][i].split(",")],
                    name=f"CSL_{name}.txt fold {i}",
                    size=num_graphs,
                )
                for out, name in (("train", "train"), ("valid", "val"), ("test", "test"))
            }
        )
    return graphs, tuple(folds)


def read_split_json(path: Path, num_graphs: int) -> dict[str, Tensor]:
    """A ``{'train', 'val' (or 'valid'), 'test'}`` JSON split of graph indices."""
    split = json.loads(path.read_text())
    return {
        name: index_tensor(split[key], name=f"{path.name} {key}", size=num_graphs)
        for name, key in (("train", "train"), ("valid", _key(split, "val")), ("test", "test"))
    }


def read_peptides_func(folder: Path) -> GraphSet:
    """LRGB Peptides-func: SMILES -> graphs with ``ogb.utils.smiles2graph`` (needs RDKit);
    ``y [1, 10]`` float multi-label (the split is ``splits.json``, see :func:`read_split_json`)."""
    try:
        from ogb.utils import smiles2graph
        from rdkit import RDLogger
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Peptides-func needs RDKit to turn SMILES into graphs: pip install 'graphpair[chem]'"
        ) from exc
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    frame = pd.read_csv(folder / "raw" / "peptide_multi_class_dataset.csv.gz")
    xs, edges, attrs, n_nodes, n_edges, labels = [], [], [], [], [], []
    for smiles, label in zip(frame["smiles"], frame["labels"], strict=True):
        graph = smiles2graph(smiles)
        xs.append(graph["node_feat"])
        edges.append(graph["edge_index"])
        attrs.append(graph["edge_feat"])
        n_nodes.append(graph["num_nodes"])
        n_edges.append(graph["edge_index"].shape[1])
        labels.append(json.loads(label) if isinstance(label, str) and label[0] == "[" else label)
    num_graphs = len(xs)
    y = torch.tensor(np.asarray(labels, dtype=np.float32)).view(num_graphs, -1)
    return _graph_set(
        edge_index=torch.from_numpy(np.concatenate(edges, axis=1).astype(np.int64)),
        num_nodes=torch.tensor(n_nodes, dtype=torch.long),
        num_edges=torch.tensor(n_edges, dtype=torch.long),
        node={"x": torch.from_numpy(np.concatenate(xs).astype(np.int64))},
        edge={"edge_attr": torch.from_numpy(np.concatenate(attrs).astype(np.int64))},
        graph={"y": y},
    )


#: Where PyG's ``ZINC`` downloads the 'Benchmarking GNNs' molecules and the 12k subset indices.
ZINC_URL = "https://www.dropbox.com/s/feo9qle74kg48gy/molecules.zip?dl=1"
ZINC_INDEX_URL = (
    "https://raw.githubusercontent.com/graphdeeplearning/benchmarking-gnns/master/data/"
    "molecules/{}.index"
)
ZINC_PICKLE_FILES = tuple(
    f"{split}.{kind}" for split in ("train", "val", "test") for kind in ("pickle", "index")
)


def read_zinc_pickles(folder: Path) -> tuple[GraphSet, dict[str, Tensor]]:
    """The ZINC 12k subset from the 'Benchmarking GNNs' pickles (PyG's online source).

    The pickles hold torch tensors; they are read with the restricted unpickler (tensors only,
    storages in weights-only mode), never ``pickle.load``. Graphs are built as PyG's
    ``ZINC(subset=True)`` builds them: ``x [n, 1]`` atom types, edges from the non-zero
    entries of the bond matrix with the bond type as ``edge_attr``, ``y`` the target; train,
    validation and test in this order.
    """
    from graphpair.data._safe_pickle import UnsafePickleError, safe_unpickle

    xs, edges, attrs, n_nodes, n_edges, ys, bounds = [], [], [], [], [], [], [0]
    for split in ("train", "val", "test"):
        molecules = safe_unpickle((folder / f"{split}.pickle").read_bytes(), torch_tensors=True)
        text = (folder / f"{split}.index").read_text().strip().split("\n")[0]
        for index in (int(v) for v in text.split(",") if v.strip()):
            molecule = molecules[index]
            if not isinstance(molecule, dict):
                raise UnsafePickleError(f"{split}.pickle entry {index} is not a dict")
            atoms = torch.as_tensor(molecule["atom_type"]).long().view(-1, 1)
            bonds = torch.as_tensor(molecule["bond_type"]).long()
            edge_index = bonds.nonzero().t()
            xs.append(atoms)
            edges.append(edge_index)
            attrs.append(bonds[edge_index[0], edge_index[1]])
            n_nodes.append(atoms.size(0))
            n_edges.append(edge_index.size(1))
            ys.append(torch.as_tensor(molecule["logP_SA_cycle_normalized"]).float().view(-1))
        bounds.append(len(xs))
    graphs = _graph_set(
        edge_index=torch.cat(edges, dim=1),
        num_nodes=torch.tensor(n_nodes, dtype=torch.long),
        num_edges=torch.tensor(n_edges, dtype=torch.long),
        node={"x": torch.cat(xs)},
        edge={"edge_attr": torch.cat(attrs)},
        graph={"y": torch.cat(ys)},
    )
    ranges = {
        name: torch.arange(bounds[i], bounds[i + 1])
        for i, name in enumerate(("train", "valid", "test"))
    }
    return graphs, ranges
