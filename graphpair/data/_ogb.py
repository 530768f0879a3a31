"""OGB datasets from OGB's own raw layout and official splits, safe on new torch and offline.

ogb 1.3.6's dataset classes cannot be used as they are: they ``torch.load`` pickled split files
without ``weights_only`` (refused by torch >= 2.6, and unsafe on downloaded files), and they
call ``input()`` when a release file is out of date. graphpair reads the same files directly:

* graph files (``raw/*.csv.gz``) with pandas, vectorised over all graphs of a collection, with
  the meaning OGB gives them (``add_inverse_edge`` interleaves ``(u, v), (v, u)`` and repeats
  the edge features; labels are ``long`` for classification without missing values, else
  ``float32``), which the tests check against ``ogb.io.read_graph_pyg``;
* split files: ``split/<type>/*.csv.gz`` with pandas, ``split/<type>/*.pt`` with
  :func:`graphpair.data._io.load_numpy_pickle` (``weights_only=True`` and a numpy allowlist);
* dataset facts (URL, ``add_inverse_edge``, task type, split type, extra files) from ogb's own
  ``master.csv``, so they cannot drift from ogb.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphpair.data._dataset import GraphSet, index_tensor
from graphpair.data._io import load_numpy_pickle
from graphpair.data._split import LinkSplit, symmetrize

__all__ = [
    "ogb_folder",
    "ogb_meta",
    "read_ogb_graph_split",
    "read_ogb_graphs",
    "read_ogb_link_split",
    "read_ogb_node_split",
]

_KINDS = {"ogbl": "linkproppred", "ogbg": "graphproppred", "ogbn": "nodeproppred"}


@functools.cache
def _master(kind: str) -> pd.DataFrame:
    import ogb

    path = Path(ogb.__file__).parent / kind / "master.csv"
    return pd.read_csv(path, index_col=0, keep_default_na=False)


def ogb_meta(name: str) -> dict[str, str]:
    """OGB's facts about ``name`` (e.g. ``'ogbl-ddi'``) from ogb's installed ``master.csv``."""
    kind = _KINDS[name.split("-")[0]]
    table = _master(kind)
    if name not in table.columns:
        raise ValueError(f"ogb's {kind} master.csv has no dataset {name!r}")
    return {str(k): str(v) for k, v in table[name].items()}


def ogb_folder(name: str) -> str:
    """OGB's folder name for ``name`` (``'ogbl-ddi'`` -> ``'ogbl_ddi'``)."""
    return name.replace("-", "_")


def _csv(path: Path) -> np.ndarray:
    # pandas >= 3 hands out read-only views (copy-on-write); torch wants writable memory.
    return np.array(pd.read_csv(path, compression="gzip", header=None).values)


def _cast(array: np.ndarray) -> Tensor:
    if np.issubdtype(array.dtype, np.integer):
        return torch.from_numpy(array.astype(np.int64))
    return torch.from_numpy(array.astype(np.float32))


def _extras(meta: dict[str, str], key: str) -> list[str]:
    value = meta.get(key, "None")
    return [] if value in ("None", "") else value.split(",")


def read_ogb_graphs(raw: Path, meta: dict[str, str]) -> tuple[dict[str, Tensor], int]:
    """Read the graph files of an OGB dataset as one collated storage.

    Returns the concatenated tensors (``edge_index`` with per-graph local node ids, ``x``,
    ``edge_attr``, extra node/edge files) plus ``num_nodes`` / ``num_edges`` per graph under
    ``'_num_nodes'`` / ``'_num_edges'``, and the number of graphs.
    """
    edge = _csv(raw / "edge.csv.gz").T.astype(np.int64)  # [2, E]
    num_nodes = _csv(raw / "num-node-list.csv.gz").reshape(-1).astype(np.int64)
    num_edges = _csv(raw / "num-edge-list.csv.gz").reshape(-1).astype(np.int64)
    if num_nodes.size != num_edges.size or int(num_edges.sum()) != edge.shape[1]:
        raise ValueError(f"OGB files in {str(raw)!r} disagree on the number of graphs or edges")
    out: dict[str, Tensor] = {}
    node_files = {"x": raw / "node-feat.csv.gz"}
    node_files.update({k: raw / f"{k}.csv.gz" for k in _extras(meta, "additional node files")})
    edge_files = {"edge_attr": raw / "edge-feat.csv.gz"}
    edge_files.update({k: raw / f"{k}.csv.gz" for k in _extras(meta, "additional edge files")})
    inverse = meta.get("add_inverse_edge") == "True"
    if inverse:
        # OGB's add_inverse_edge: (u, v) then (v, u) for every edge, features repeated.
        both = np.repeat(edge, 2, axis=1)
        both[0, 1::2], both[1, 1::2] = edge[1], edge[0]
        edge = both
        num_edges = num_edges * 2
    out["edge_index"] = torch.from_numpy(edge)
    for key, path in node_files.items():
        if path.is_file():
            out[key] = _cast(_csv(path))
    for key, path in edge_files.items():
        if path.is_file():
            values = _csv(path)
            out[key] = _cast(np.repeat(values, 2, axis=0) if inverse else values)
    out["_num_nodes"] = torch.from_numpy(num_nodes)
    out["_num_edges"] = torch.from_numpy(num_edges)
    return out, int(num_nodes.size)


def graph_labels(raw: Path, meta: dict[str, str], num_graphs: int) -> Tensor:
    """Graph labels ``[G, T]`` with OGB's dtype rule (long unless regression or missing)."""
    label = _csv(raw / "graph-label.csv.gz")
    if label.shape[0] != num_graphs:
        raise ValueError(f"{str(raw)!r}: {label.shape[0]} labels for {num_graphs} graphs")
    label = label.astype(np.float64)
    if "classification" in meta["task type"] and not np.isnan(label).any():
        return torch.from_numpy(label).long()
    return torch.from_numpy(label).float()


def storage_to_graph_set(storage: dict[str, Tensor], y: Tensor | None) -> GraphSet:
    """Turn :func:`read_ogb_graphs` output (plus graph labels) into a :class:`GraphSet`."""
    num_nodes, num_edges = storage["_num_nodes"], storage["_num_edges"]

    def ptr(counts: Tensor) -> Tensor:
        return torch.cat([counts.new_zeros(1), counts.cumsum(0)])

    node_ptr, edge_ptr = ptr(num_nodes), ptr(num_edges)
    flat: dict[str, Tensor] = {}
    for key, value in storage.items():
        if key.startswith("_"):
            continue
        flat[f"data.{key}"] = value
        if key == "edge_index":
            flat[f"slices.{key}"] = edge_ptr
        elif key == "x" or key.startswith("node_"):
            flat[f"slices.{key}"] = node_ptr
        else:
            flat[f"slices.{key}"] = edge_ptr
    flat["data.num_nodes"] = num_nodes
    flat["slices.num_nodes"] = torch.arange(num_nodes.numel() + 1)
    if y is not None:
        flat["data.y"] = y
        flat["slices.y"] = torch.arange(y.size(0) + 1)
    return GraphSet.from_storage(flat)


def read_ogb_graph_split(folder: Path, meta: dict[str, str], num_graphs: int) -> dict[str, Tensor]:
    """The official graph split (``split/<type>/{train,valid,test}.csv.gz``)."""
    split_dir = folder / "split" / meta["split"]
    return {
        name: index_tensor(
            _csv(split_dir / f"{name}.csv.gz").reshape(-1), name=f"{name} split", size=num_graphs
        )
        for name in ("train", "valid", "test")
    }


def read_ogb_node_split(folder: Path, meta: dict[str, str], num_nodes: int) -> dict[str, Tensor]:
    """The official node split, same layout as the graph split."""
    return read_ogb_graph_split(folder, meta, num_nodes)


def _pairs(value: Any, what: str) -> Tensor:
    array = np.asarray(value)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{what} must be an array of shape [P, 2]; got shape {array.shape}")
    return torch.from_numpy(array.astype(np.int64)).t().contiguous()


def read_ogb_link_split(
    folder: Path, meta: dict[str, str], num_nodes: int, *, valid_as_input: bool
) -> LinkSplit:
    """The official link split from ``split/<type>/{train,valid,test}.pt`` (loaded safely)."""
    split_dir = folder / "split" / meta["split"]
    parts = {
        name: load_numpy_pickle(split_dir / f"{name}.pt") for name in ("train", "valid", "test")
    }
    for name, part in parts.items():
        if not isinstance(part, dict):
            raise ValueError(f"{str(split_dir / name)!r}.pt is not a dict of arrays")
    directed = "source_node" in parts["train"]
    if directed:  # ogbl-citation2: source/target lists and 1000 negative targets per source
        pos = {
            name: torch.stack(
                [
                    torch.from_numpy(np.asarray(part["source_node"], dtype=np.int64)),
                    torch.from_numpy(np.asarray(part["target_node"], dtype=np.int64)),
                ]
            )
            for name, part in parts.items()
        }
        neg = {}
        for name in ("valid", "test"):
            targets = torch.from_numpy(np.asarray(parts[name]["target_node_neg"], dtype=np.int64))
            sources = pos[name][0].unsqueeze(1).expand_as(targets)
            neg[name] = torch.stack([sources, targets])  # [2, P, K]
    else:
        pos = {name: _pairs(part["edge"], f"{name}.pt['edge']") for name, part in parts.items()}
        neg = {
            name: _pairs(parts[name]["edge_neg"], f"{name}.pt['edge_neg']")
            for name in ("valid", "test")
        }
    weight = parts["train"].get("weight")
    return LinkSplit(
        num_nodes=num_nodes,
        train_pos=pos["train"],
        valid_pos=pos["valid"],
        valid_neg=neg["valid"],
        test_pos=pos["test"],
        test_neg=neg["test"],
        protocol="ogb",
        directed=directed,
        valid_as_input=valid_as_input,
        train_weight=None if weight is None else torch.from_numpy(np.asarray(weight)).float(),
    )


def single_graph(storage: dict[str, Tensor]) -> Data:
    """The one graph of an OGB link/node dataset, with a symmetric deduplicated edge_index."""
    num_nodes = int(storage["_num_nodes"][0])
    data = Data(num_nodes=num_nodes)
    data.edge_index = symmetrize(storage["edge_index"], num_nodes)
    for key, value in storage.items():
        if key in ("x",) or key.startswith("node_"):
            data[key] = value
    return data
