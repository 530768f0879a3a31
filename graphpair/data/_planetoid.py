"""Planetoid citation graphs (Cora, CiteSeer, PubMed) from their raw files, without pickle risk.

The raw files (Yang et al., 2016) are Python pickles; they are read with
:func:`graphpair.data._safe_pickle.safe_unpickle` (an allowlist of numpy/scipy-CSR globals),
and assembled exactly like PyG's ``Planetoid`` (same node order, features, labels, masks and
edge set), which the tests check against PyG on the offline files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from graphpair.data._safe_pickle import PickledCSR, UnsafePickleError, safe_unpickle

__all__ = ["PLANETOID_NAMES", "PLANETOID_URL", "planetoid_files", "read_planetoid"]

#: Canonical names of the three Planetoid graphs.
PLANETOID_NAMES = ("Cora", "CiteSeer", "PubMed")
#: Where PyG downloads the raw files from.
PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data"
_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def planetoid_files(name: str) -> list[str]:
    """The raw file names of Planetoid graph ``name``."""
    return [f"ind.{name.lower()}.{part}" for part in _PARTS]


def _matrix(value: Any, what: str) -> np.ndarray:
    if isinstance(value, PickledCSR):
        return value.to_dense()
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return value.astype(np.float32)
    raise UnsafePickleError(f"{what} is not a matrix ({type(value).__name__})")


def read_planetoid(folder: Path, name: str) -> Data:
    """Assemble a Planetoid graph from the raw files in ``folder``.

    Returns a :class:`~torch_geometric.data.Data` with ``x [N, F]`` (raw bag-of-words, not
    normalised), ``y [N]``, ``edge_index [2, E]`` (both directions, sorted, deduplicated,
    self loops dropped, as PyG), and the public split's ``train_mask``, ``val_mask``, ``test_mask``.
    """
    prefix = f"ind.{name.lower()}"
    parts: dict[str, Any] = {}
    for part in ("x", "tx", "allx", "y", "ty", "ally", "graph"):
        parts[part] = safe_unpickle((folder / f"{prefix}.{part}").read_bytes())
    test_index = torch.tensor(
        [int(line) for line in (folder / f"{prefix}.test.index").read_text().split()],
        dtype=torch.long,
    )
    x_test, x_all = (_matrix(parts[k], f"{prefix}.{k}") for k in ("tx", "allx"))
    y_train, y_test, y_all = (_matrix(parts[k], f"{prefix}.{k}") for k in ("y", "ty", "ally"))
    sorted_test = torch.sort(test_index).values
    if name.lower() == "citeseer":
        # Some CiteSeer test nodes are isolated and absent from tx/ty: pad with zero rows so
        # that every index in the test range has a row (PyG and the original code do this).
        low, high = int(sorted_test[0]), int(sorted_test[-1])
        tx_ext = np.zeros((high - low + 1, x_test.shape[1]), dtype=np.float32)
        tx_ext[(sorted_test - low).numpy()] = x_test
        ty_ext = np.zeros((high - low + 1, y_test.shape[1]), dtype=np.float32)
        ty_ext[(sorted_test - low).numpy()] = y_test
        x_test, y_test = tx_ext, ty_ext
    x = torch.from_numpy(np.concatenate([x_all, x_test])).float()
    y = torch.from_numpy(np.concatenate([y_all, y_test]).argmax(axis=1)).long()
    # tx/ty rows come in test.index order; put each at its node id.
    x[test_index] = x[sorted_test].clone()
    y[test_index] = y[sorted_test].clone()
    num_nodes = x.size(0)
    graph = parts["graph"]
    if not isinstance(graph, Mapping):
        raise UnsafePickleError(f"{prefix}.graph is not an adjacency dict")
    rows: list[int] = []
    cols: list[int] = []
    for node, neighbors in graph.items():
        rows.extend([int(node)] * len(neighbors))
        cols.extend(int(v) for v in neighbors)
    row = torch.tensor(rows, dtype=torch.long)
    col = torch.tensor(cols, dtype=torch.long)
    # The files hold some self loops and duplicates; PyG drops both (CiteSeer: 124 loops).
    keep = row != col
    row, col = row[keep], col[keep]
    keys = torch.unique(torch.cat([row * num_nodes + col, col * num_nodes + row]))
    edge_index = torch.stack([keys // num_nodes, keys % num_nodes])

    def mask(index: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(num_nodes, dtype=torch.bool)
        out[index] = True
        return out

    num_train = y_train.shape[0]
    return Data(
        x=x,
        y=y,
        edge_index=edge_index,
        train_mask=mask(torch.arange(num_train)),
        val_mask=mask(torch.arange(num_train, num_train + 500)),
        test_mask=mask(sorted_test),
    )
