"""The records of a dataset: its registry entry and what its loader returns.

:class:`DatasetSpec` is one entry of the registry table (with :class:`LoadOptions`, what its
loader reads); a loader returns a :class:`LoadedDataset`, whose graph collections are
:class:`GraphSet`. The spec and the loaded dataset refer to each other (a spec's loader returns
a loaded dataset, which carries its spec), so they live in one module, below the loaders and
the table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset

from graphpair.data._io import cache_dir, data_root

if TYPE_CHECKING:
    from graphpair.data._split import LinkSplit

__all__ = ["DatasetSpec", "GraphSet", "LoadOptions", "LoadedDataset"]


class GraphSet(InMemoryDataset):  # type: ignore[misc]
    """An in-memory collection of graphs, collated once (PyG's ``InMemoryDataset`` storage).

    Indexing with an int gives one :class:`~torch_geometric.data.Data`; with a slice, an index
    tensor or a boolean mask it gives a view, as for any PyG dataset, so it plugs into
    :class:`~torch_geometric.loader.DataLoader` directly.

    Args:
        graphs: the graphs; they must carry the same attributes.
        transform: optional per-access transform (as in PyG).

    Example:
        >>> import torch
        >>> from torch_geometric.data import Data
        >>> graphs = [Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)] * 3
        >>> len(GraphSet(graphs))
        3
    """

    def __init__(self, graphs: Sequence[Data], transform: Any = None) -> None:
        if len(graphs) == 0:
            raise ValueError("graphs must contain at least one graph; got an empty sequence")
        super().__init__(None, transform=transform)
        self._data, self.slices = self.collate(list(graphs))

    @classmethod
    def from_storage(cls, storage: Mapping[str, Tensor]) -> GraphSet:
        """Rebuild from :meth:`to_storage`'s flat dict (used by the processed-data cache).

        ``'data.<key>'`` holds the concatenated attribute and ``'slices.<key>'`` its pointer
        over graphs, as in PyG's collated storage; ``'data.num_nodes'`` holds the node count
        of every graph ``[G]`` (PyG keeps these as a list, so graphs without node features
        still know their size).
        """
        out = cls.__new__(cls)
        InMemoryDataset.__init__(out, None)
        data_keys = sorted(
            k[len("data.") :] for k in storage if k.startswith("data.") and k != "data.num_nodes"
        )
        out._data = Data(**{k: storage[f"data.{k}"] for k in data_keys})
        out.slices = {
            k[len("slices.") :]: v
            for k, v in storage.items()
            if k.startswith("slices.") and k != "slices.num_nodes"
        }
        if "data.num_nodes" in storage:
            counts = storage["data.num_nodes"].long()
            out._data.num_nodes = int(counts.sum())
            out._data._num_nodes = counts.tolist()
        return out

    def to_storage(self) -> dict[str, Tensor]:
        """A flat ``{name: tensor}`` dict of the collated storage, for caching."""
        out: dict[str, Tensor] = {}
        data = self._data
        for key, value in data:  # a PyG Data iterates over (key, value) pairs
            if key in ("num_nodes", "_num_nodes"):
                continue
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"GraphSet can only cache tensor attributes; {key!r} is {type(value)}"
                )
            out[f"data.{key}"] = value
        counts = getattr(data, "_num_nodes", None)
        if counts is not None:
            out["data.num_nodes"] = torch.as_tensor(counts, dtype=torch.long)
        if self.slices is None:  # pragma: no cover - always set by the constructors
            raise RuntimeError("GraphSet has no slices")
        for key, value in self.slices.items():
            out[f"slices.{key}"] = value
        return out


@dataclass(frozen=True)
class LoadedDataset:
    """A dataset as returned by :func:`graphpair.data.load_dataset`.

    Attributes:
        spec: the registry entry it was loaded from (task, metrics, split protocol, ...).
        graphs: the graph (``len == 1`` for single-graph link and node tasks) or the graph set.
        split: index splits ``{'train', 'valid', 'test'}`` for graph- and node-level tasks
            whose dataset defines one (``None`` otherwise).
        folds: fixed cross-validation folds (TU datasets with the splits of Errica et al.):
            each a dict with ``'train'``, ``'valid'`` and ``'test'`` graph indices.
        link_split: the official link split (OGB link datasets); other link datasets get
            theirs from :func:`graphpair.data.link_split` with a seed.
        info: free-form facts about the load (files read, cache used, statistics).

    Example:
        >>> from graphpair.data import load_dataset
        >>> ds = load_dataset("karate")
        >>> ds.name, ds.task, len(ds), ds.data.num_nodes
        ('karate', 'link', 1, 34)
        >>> ds.split is None and ds.link_split is None  # its link split comes from a seed
        True
    """

    spec: DatasetSpec
    graphs: GraphSet | tuple[Data, ...]
    split: dict[str, Tensor] | None = None
    folds: tuple[dict[str, Tensor], ...] | None = None
    link_split: LinkSplit | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The canonical registry name."""
        return self.spec.name

    @property
    def task(self) -> str:
        """``'link'``, ``'graph'`` or ``'node'``."""
        return self.spec.task

    @property
    def data(self) -> Data:
        """The graph of a single-graph dataset (link and node tasks)."""
        if len(self.graphs) != 1:
            raise ValueError(
                f"dataset {self.name!r} holds {len(self.graphs)} graphs; index .graphs instead "
                "of using .data"
            )
        graph = self.graphs[0]
        assert isinstance(graph, Data)
        return graph

    def __len__(self) -> int:
        return len(self.graphs)

    def __repr__(self) -> str:
        parts = [f"{self.name!r}", f"task={self.task!r}", f"graphs={len(self.graphs)}"]
        if len(self.graphs) == 1:
            parts.append(f"data={self.data}")
        if self.split is not None:
            sizes = {k: int(v.numel()) for k, v in self.split.items()}
            parts.append(f"split={sizes}")
        if self.folds is not None:
            parts.append(f"folds={len(self.folds)}")
        if self.link_split is not None:
            parts.append(f"link_split={self.link_split.protocol!r}")
        return f"LoadedDataset({', '.join(parts)})"


@dataclass(frozen=True)
class LoadOptions:
    """Where and how a loader reads: resolved raw root, cache folder, download switch, extras."""

    root: Path | None
    cache: Path | None
    download: bool
    options: Mapping[str, Any] = field(default_factory=dict)

    def folder(self, spec: DatasetSpec) -> Path:
        """The dataset's raw folder: under the root, else under the cache's ``raw/``."""
        if spec.folder is None:
            raise ValueError(f"dataset {spec.name!r} has no files")
        base = self.root if self.root is not None else cache_dir(self.cache) / "raw"
        return base / spec.folder


Loader = Callable[["DatasetSpec", LoadOptions], LoadedDataset]


@dataclass(frozen=True)
class DatasetSpec:
    """One registry entry.

    Attributes:
        name: canonical name (``'ogbl-ddi'``, ``'Cora'``).
        task: ``'link'``, ``'graph'`` or ``'node'``.
        metrics: metric names; the first is the headline metric (OGB's where OGB has one).
        split: split protocol (``'ogb'``, ``'ncn-planetoid'``, ``'errica-10fold'``,
            ``'benchmarking-gnns'``, ...).
        source: family of loader (``'planetoid'``, ``'ogb'``, ``'tu'``, ``'networkx'``,
            ``'synthetic'``, ...).
        loader: the function that loads it.
        folder: raw-files folder relative to the data root (``None`` for generated data).
        files: files the loader needs, relative to ``folder``.
        downloadable: whether the files have a public download graphpair uses.
        description: one line for listings.
        stats: published size facts (nodes, edges, graphs) for listings and checks.
        defaults: dataset rules and defaults runners read (e.g. ``valid_as_input``).
        aliases: further accepted names.

    Example:
        >>> from graphpair.data import get_spec
        >>> spec = get_spec("Karate")
        >>> spec.name, spec.task, spec.metric
        ('karate', 'link', 'rocauc')
        >>> spec.files_present()  # built in: no files to find
        True
    """

    name: str
    task: str
    metrics: tuple[str, ...]
    split: str
    source: str
    loader: Loader = field(repr=False, compare=False)
    folder: str | None = None
    files: tuple[str, ...] = ()
    downloadable: bool = False
    description: str = ""
    stats: Mapping[str, int] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def metric(self) -> str:
        """The headline metric."""
        return self.metrics[0]

    def files_present(self, root: str | os.PathLike[str] | None = None) -> bool:
        """Whether every raw file is under ``root`` (or ``$GRAPHPAIR_DATA``); generated data
        and built-in graphs are always present."""
        if self.folder is None:
            return True
        base = data_root(root)
        if base is None:
            return False
        return all((base / self.folder / name).is_file() for name in self.files)


def index_tensor(values: Sequence[int] | np.ndarray | Tensor, *, name: str, size: int) -> Tensor:
    """A 1-D long tensor of indices in ``[0, size)`` (split files are checked, not trusted)."""
    out = torch.as_tensor(values, dtype=torch.long).reshape(-1)
    if out.numel() and (int(out.min()) < 0 or int(out.max()) >= size):
        raise ValueError(
            f"{name} holds indices outside [0, {size}): min {int(out.min())}, max {int(out.max())}"
        )
    return out
