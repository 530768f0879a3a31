"""The dataset registry: one table from name to loader, task, metrics and split protocol.

The table :data:`DATASETS` is a literal tuple, built when this module is imported, never
filled as a side effect of importing other modules. :func:`get_spec` resolves a name case-
and separator-insensitively; :func:`load_dataset` loads it; :func:`link_split` gives the
audited link split a runner trains and evaluates on.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data

from graphpair._validation import check_int, describe, normalize_name
from graphpair.data._audit import audit_split
from graphpair.data._dataset import DatasetSpec, GraphSet, LoadedDataset, Loader, LoadOptions
from graphpair.data._download import ensure_files
from graphpair.data._io import cache_dir, cached, data_root, fingerprint
from graphpair.data._split import LinkSplit, ncn_planetoid_split, random_link_split

__all__ = [
    "DATASETS",
    "LINK_PROTOCOLS",
    "dataset_names",
    "get_spec",
    "link_split",
    "load_dataset",
    "load_edge_list",
]

log = logging.getLogger(__name__)

#: Link split protocols :func:`link_split` can make.
LINK_PROTOCOLS = ("ogb", "ncn-planetoid", "random")
_CACHE_VERSION = 1


# ------------------------------------------------------------------------------------ loaders


def _processed_cache(spec: DatasetSpec, opts: LoadOptions, folder: Path | None) -> Path | None:
    """The processed-data cache file of a dataset (``None`` when caching is off)."""
    if opts.options.get("cache_processed") is False:
        return None
    facts: list[Any] = [spec.name, _CACHE_VERSION, sorted(opts.options.items())]
    if folder is not None:
        for name in spec.files:
            stat = (folder / name).stat()
            facts.append([name, stat.st_size, stat.st_mtime_ns])
    key = fingerprint(*facts)
    return cache_dir(opts.cache) / "processed" / f"{normalize_name(spec.name)}-{key}.pt"


def _cached_graph_set(
    spec: DatasetSpec, opts: LoadOptions, folder: Path | None, build: Callable[[], GraphSet]
) -> GraphSet:
    path = _processed_cache(spec, opts, folder)
    storage = cached(path, lambda: build().to_storage(), {"dataset": spec.name})
    return GraphSet.from_storage(storage)


def _load_planetoid(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._planetoid import PLANETOID_URL, read_planetoid

    folder = opts.folder(spec)
    ensure_files(
        folder,
        spec.files,
        dataset=spec.name,
        urls=[(f"{PLANETOID_URL}/{name}", name) for name in spec.files],
        download=opts.download,
    )
    return LoadedDataset(spec, (read_planetoid(folder, spec.name),), info={"folder": str(folder)})


def _ogb_files(spec: DatasetSpec, opts: LoadOptions) -> tuple[Path, dict[str, str]]:
    """The folder of an OGB dataset with its files present (downloaded if allowed), and
    OGB's facts about it."""
    from graphpair.data._ogb import ogb_meta

    meta = ogb_meta(spec.name)
    folder = opts.folder(spec)
    ensure_files(
        folder,
        spec.files,
        dataset=spec.name,
        archive=meta["url"],
        archive_subdir=meta["download_name"],
        download=opts.download,
    )
    return folder, meta


def _load_ogb_link(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._ogb import read_ogb_graphs, read_ogb_link_split, single_graph

    folder, meta = _ogb_files(spec, opts)
    storage, _ = read_ogb_graphs(folder / "raw", {**meta, "add_inverse_edge": "False"})
    data = single_graph(storage)
    split = read_ogb_link_split(
        folder,
        meta,
        data.num_nodes,
        valid_as_input=bool(spec.defaults.get("valid_as_input", False)),
    )
    return LoadedDataset(spec, (data,), link_split=split, info={"folder": str(folder)})


def _load_ogb_graph(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._ogb import (
        graph_labels,
        read_ogb_graph_split,
        read_ogb_graphs,
        storage_to_graph_set,
    )

    folder, meta = _ogb_files(spec, opts)

    def build() -> GraphSet:
        storage, num_graphs = read_ogb_graphs(folder / "raw", meta)
        return storage_to_graph_set(storage, graph_labels(folder / "raw", meta, num_graphs))

    graphs = _cached_graph_set(spec, opts, folder, build)
    split = read_ogb_graph_split(folder, meta, len(graphs))
    return LoadedDataset(spec, graphs, split=split, info={"folder": str(folder)})


def _load_ogb_node(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._ogb import (
        _csv,
        read_ogb_graphs,
        read_ogb_node_split,
        single_graph,
    )

    folder, meta = _ogb_files(spec, opts)
    storage, _ = read_ogb_graphs(folder / "raw", meta)
    data = single_graph(storage)
    data.y = torch.from_numpy(_csv(folder / "raw" / "node-label.csv.gz")).long().view(-1)
    split = read_ogb_node_split(folder, meta, data.num_nodes)
    return LoadedDataset(spec, (data,), split=split, info={"folder": str(folder)})


_TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets"


def _load_tu(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._files import read_errica_folds, read_tu

    folder = opts.folder(spec)
    ensure_files(
        folder,
        spec.files,
        dataset=spec.name,
        archive=f"{_TU_URL}/{spec.name}.zip",
        archive_subdir=spec.name,
        download=opts.download,
    )
    graphs = read_tu(folder, spec.name)
    folds = None
    if spec.split == "errica-10fold":
        # tu/<NAME>/raw -> tu/splits/<NAME>.json (the layout of ../shared/data)
        split_file = folder.parent.parent / "splits" / f"{spec.name}.json"
        if split_file.is_file():
            folds = read_errica_folds(split_file, len(graphs))
        else:
            log.warning(
                "%s: Errica et al. folds not found at %s; loading without folds",
                spec.name,
                split_file,
            )
    return LoadedDataset(spec, graphs, folds=folds, info={"folder": str(folder)})


def _load_zinc(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._files import (
        ZINC_INDEX_URL,
        ZINC_PICKLE_FILES,
        ZINC_URL,
        read_zinc_pickles,
        read_zinc_subset,
    )

    folder = opts.folder(spec)
    if all((folder / name).is_file() for name in spec.files) or not opts.download:
        # The text layout (../shared/data); offline this names the missing text files.
        ensure_files(folder, spec.files, dataset=spec.name, download=False)
        graphs, split = read_zinc_subset(folder)
        return LoadedDataset(spec, graphs, split=split, info={"folder": str(folder)})
    # Online: PyG's source, the 'Benchmarking GNNs' pickles plus the subset's index files.
    molecules = folder / "molecules"
    ensure_files(
        molecules,
        ZINC_PICKLE_FILES,
        dataset=spec.name,
        archive=ZINC_URL,
        archive_subdir="molecules",
        urls=[(ZINC_INDEX_URL.format(s), f"{s}.index") for s in ("train", "val", "test")],
    )
    graphs = _cached_graph_set(spec, opts, None, lambda: read_zinc_pickles(molecules)[0])
    split = {
        "train": torch.arange(0, 10_000),
        "valid": torch.arange(10_000, 11_000),
        "test": torch.arange(11_000, 12_000),
    }
    return LoadedDataset(spec, graphs, split=split, info={"folder": str(molecules)})


def _load_peptides(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._files import read_peptides_func, read_split_json

    folder = opts.folder(spec)
    ensure_files(folder, spec.files, dataset=spec.name, download=False)
    graphs = _cached_graph_set(spec, opts, folder, lambda: read_peptides_func(folder))
    split = read_split_json(folder / "splits.json", len(graphs))
    return LoadedDataset(spec, graphs, split=split, info={"folder": str(folder)})


def _load_networkx(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._networkx import networkx_graph

    return LoadedDataset(spec, (networkx_graph(spec.name),))


def _seed(opts: LoadOptions) -> int:
    return check_int("seed", opts.options.get("seed", 0), minimum=0)


def _load_default(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._default_graph import default_graph

    kwargs = {k: v for k, v in opts.options.items() if k not in ("seed", "cache_processed")}
    return LoadedDataset(spec, (default_graph(seed=_seed(opts), **kwargs),))


def _load_csl(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._files import read_csl

    if opts.root is not None and spec.files_present(opts.root):
        graphs, folds = read_csl(opts.folder(spec))
        return LoadedDataset(spec, graphs, folds=folds, info={"generated": False})
    from graphpair.data._csl import csl_graphs

    generated = GraphSet(csl_graphs(seed=_seed(opts)))
    return LoadedDataset(spec, generated, info={"generated": True})


def _sbm_loader(kind: str) -> Loader:
    # Benchmarking GNNs: PATTERN 10,000 / 2,000 / 2,000 graphs, CLUSTER 10,000 / 1,000 / 1,000.
    default_sizes = (10_000, 2_000, 2_000) if kind == "pattern" else (10_000, 1_000, 1_000)

    def load(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
        from graphpair.data._sbm import cluster_graphs, pattern_graphs

        generate = pattern_graphs if kind == "pattern" else cluster_graphs
        sizes = dict(zip(("train", "valid", "test"), default_sizes, strict=True))
        for name in sizes:
            value = opts.options.get(f"num_{name}", sizes[name])
            sizes[name] = check_int(f"num_{name}", value, minimum=1)
        seed = _seed(opts)
        total = sum(sizes.values())

        def build() -> GraphSet:
            return GraphSet(generate(total, seed=seed))

        graphs = _cached_graph_set(spec, opts, None, build)
        bounds = torch.tensor([0, sizes["train"], sizes["train"] + sizes["valid"], total])
        split = {
            name: torch.arange(int(bounds[i]), int(bounds[i + 1]))
            for i, name in enumerate(("train", "valid", "test"))
        }
        return LoadedDataset(spec, graphs, split=split, info={"generated": True, "seed": seed})

    return load


def _load_unique_signature(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._unique_signature import unique_signature_graphs, unique_signature_split

    p = float(opts.options.get("p", 0.5))
    num_features = check_int("num_features", opts.options.get("num_features", 5), minimum=1)
    num_graphs = check_int("num_graphs", opts.options.get("num_graphs", 5000), minimum=5)
    graphs = GraphSet(
        unique_signature_graphs(p, num_features, num_graphs=num_graphs, seed=_seed(opts))
    )
    split = unique_signature_split(num_graphs)
    return LoadedDataset(spec, graphs, split=split, info={"generated": True})


# ------------------------------------------------------------------------------------ table

_PLANETOID_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_OGB_GRAPH_FILES = (
    "raw/edge.csv.gz",
    "raw/num-node-list.csv.gz",
    "raw/num-edge-list.csv.gz",
    "raw/node-feat.csv.gz",
    "raw/edge-feat.csv.gz",
    "raw/graph-label.csv.gz",
    "split/scaffold/train.csv.gz",
    "split/scaffold/valid.csv.gz",
    "split/scaffold/test.csv.gz",
)


def _planetoid(name: str, stats: dict[str, int]) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        task="link",
        metrics=("hits@100", "hits@20", "hits@50", "mrr"),
        split="ncn-planetoid",
        source="planetoid",
        loader=_load_planetoid,
        folder=f"planetoid/{name}/raw",
        files=tuple(f"ind.{name.lower()}.{part}" for part in _PLANETOID_PARTS),
        downloadable=True,
        description=f"Planetoid {name} citation graph (Yang et al. 2016), NCN's link protocol",
        stats=stats,
    )


def _ogb_link(name: str, split: str, stats: dict[str, int], **defaults: Any) -> DatasetSpec:
    metric = {"ddi": "hits@20", "collab": "hits@50", "ppa": "hits@100", "citation2": "mrr"}
    short = name.split("-")[1]
    files = ["raw/edge.csv.gz", "raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz"]
    files += [f"split/{split}/{part}.pt" for part in ("train", "valid", "test")]
    return DatasetSpec(
        name=name,
        task="link",
        metrics=(metric[short],),
        split="ogb",
        source="ogb",
        loader=_load_ogb_link,
        folder=f"ogb/{name.replace('-', '_')}",
        files=tuple(files),
        downloadable=True,
        description=f"OGB {name} with its official split",
        stats=stats,
        defaults=defaults,
    )


def _ogb_graph(name: str, metric: str, stats: dict[str, int]) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        task="graph",
        metrics=(metric,),
        split="ogb-scaffold",
        source="ogb",
        loader=_load_ogb_graph,
        folder=f"ogb/{name.replace('-', '_')}",
        files=_OGB_GRAPH_FILES,
        downloadable=True,
        description=f"OGB molecule property set {name}, official scaffold split",
        stats=stats,
    )


_TU_FILES = ("A", "graph_indicator", "graph_labels")


def _tu(name: str, graphs: int, errica: bool) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        task="graph",
        metrics=("acc",),
        split="errica-10fold" if errica else "none",
        source="tu",
        loader=_load_tu,
        folder=f"tu/{name}/raw",
        files=tuple(f"{name}_{part}.txt" for part in _TU_FILES),
        downloadable=True,
        description=f"TU dataset {name}"
        + (" with the 10 folds of Errica et al. (ICLR 2020)" if errica else ""),
        stats={"graphs": graphs},
    )


def _networkx(name: str, nodes: int, edges: int) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        task="link",
        metrics=("rocauc", "hits@20"),
        split="ncn-planetoid",
        source="networkx",
        loader=_load_networkx,
        description=f"networkx built-in graph {name}",
        stats={"nodes": nodes, "edges": edges},
    )


#: The registry: every dataset graphpair knows, in listing order.
DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        name="default",
        task="link",
        metrics=("hits@100", "hits@20", "hits@50", "mrr"),
        split="ncn-planetoid",
        source="synthetic",
        loader=_load_default,
        description="embedded default: Cora-sized homophilous graph with triadic closure "
        "(generated, deterministic by seed)",
        stats={"nodes": 2708},
        aliases=("synthetic", "embedded-default"),
    ),
    _planetoid("Cora", {"nodes": 2708, "edges": 10556, "features": 1433}),
    _planetoid("CiteSeer", {"nodes": 3327, "edges": 9104, "features": 3703}),
    _planetoid("PubMed", {"nodes": 19717, "edges": 88648, "features": 500}),
    _ogb_link("ogbl-ddi", "target", {"nodes": 4267, "train_edges": 1067911}),
    _ogb_link(
        "ogbl-collab",
        "time",
        {"nodes": 235868, "train_edges": 1179052},
        valid_as_input=True,
        train_duplicates=True,
    ),
    _ogb_link("ogbl-ppa", "throughput", {"nodes": 576289, "train_edges": 21231931}),
    _ogb_link("ogbl-citation2", "time", {"nodes": 2927963, "train_edges": 30387995}),
    _ogb_graph("ogbg-molhiv", "rocauc", {"graphs": 41127}),
    _ogb_graph("ogbg-molpcba", "ap", {"graphs": 437929}),
    _ogb_graph("ogbg-molesol", "rmse", {"graphs": 1128}),
    _ogb_graph("ogbg-molfreesolv", "rmse", {"graphs": 642}),
    _ogb_graph("ogbg-molbace", "rocauc", {"graphs": 1513}),
    _ogb_graph("ogbg-molbbbp", "rocauc", {"graphs": 2039}),
    DatasetSpec(
        name="ogbn-arxiv",
        task="node",
        metrics=("acc",),
        split="ogb-time",
        source="ogb",
        loader=_load_ogb_node,
        folder="ogb/ogbn_arxiv",
        files=(
            "raw/edge.csv.gz",
            "raw/num-node-list.csv.gz",
            "raw/num-edge-list.csv.gz",
            "raw/node-feat.csv.gz",
            "raw/node-label.csv.gz",
            "split/time/train.csv.gz",
            "split/time/valid.csv.gz",
            "split/time/test.csv.gz",
        ),
        downloadable=True,
        description="OGB ogbn-arxiv citation graph (node classification), official split",
        stats={"nodes": 169343, "edges": 1166243},
    ),
    _tu("MUTAG", 188, errica=False),
    _tu("PROTEINS", 1113, errica=True),
    _tu("NCI1", 4110, errica=True),
    _tu("ENZYMES", 600, errica=True),
    _tu("DD", 1178, errica=True),
    _tu("DHFR", 756, errica=False),
    _tu("IMDB-BINARY", 1000, errica=True),
    _tu("IMDB-MULTI", 1500, errica=True),
    _tu("COLLAB", 5000, errica=True),
    _tu("REDDIT-BINARY", 2000, errica=True),
    DatasetSpec(
        name="ZINC",
        task="graph",
        metrics=("mae",),
        split="benchmarking-gnns",
        source="zinc",
        loader=_load_zinc,
        folder="zinc_subset",
        files=("ZINC_Nodes.txt", "ZINC_Edges.txt", "ZINC_Labels.txt", "splits.json"),
        downloadable=True,
        description="ZINC 12k subset (Benchmarking GNNs split 10,000 / 1,000 / 1,000); text "
        "files offline, PyG's pickles (read safely) online",
        stats={"graphs": 12000},
        aliases=("zinc-subset", "zinc12k"),
    ),
    DatasetSpec(
        name="Peptides-func",
        task="graph",
        metrics=("ap",),
        split="lrgb",
        source="lrgb",
        loader=_load_peptides,
        folder="peptides_func",
        files=("raw/peptide_multi_class_dataset.csv.gz", "splits.json"),
        description="LRGB Peptides-func (SMILES via ogb.utils.smiles2graph, needs RDKit)",
        stats={"graphs": 15535},
    ),
    DatasetSpec(
        name="CSL",
        task="graph",
        metrics=("acc",),
        split="5-fold",
        source="synthetic",
        loader=_load_csl,
        folder="csl",
        files=(
            "CSL_Nodes.txt",
            "CSL_Edges.txt",
            "CSL_Labels.txt",
            "CSL_train.txt",
            "CSL_val.txt",
            "CSL_test.txt",
        ),
        description="Circular Skip Link graphs (Murphy et al. 2019): files if present, else "
        "generated",
        stats={"graphs": 150, "nodes_per_graph": 41},
    ),
    DatasetSpec(
        name="PATTERN",
        task="node",
        # Benchmarking GNNs' accuracy_SBM (GraphGPS and GRIT's "accuracy-SBM"): the accuracy
        # of each class averaged over the classes present, i.e. balanced accuracy; the
        # published PATTERN / CLUSTER numbers are this metric.
        metrics=("balanced_acc", "acc"),
        split="benchmarking-gnns",
        source="synthetic",
        loader=_sbm_loader("pattern"),
        description="SBM PATTERN (Benchmarking GNNs), generated, deterministic by seed",
        stats={"graphs": 14000},
    ),
    DatasetSpec(
        name="CLUSTER",
        task="node",
        # Benchmarking GNNs' accuracy_SBM (GraphGPS and GRIT's "accuracy-SBM"): the accuracy
        # of each class averaged over the classes present, i.e. balanced accuracy; the
        # published PATTERN / CLUSTER numbers are this metric.
        metrics=("balanced_acc", "acc"),
        split="benchmarking-gnns",
        source="synthetic",
        loader=_sbm_loader("cluster"),
        description="SBM CLUSTER (Benchmarking GNNs), generated, deterministic by seed",
        stats={"graphs": 12000},
    ),
    DatasetSpec(
        name="UniqueSignature",
        task="node",
        metrics=("balanced_acc",),
        split="first-80-percent",
        source="synthetic",
        loader=_load_unique_signature,
        description="UniqueSignature (NCMP paper): G(n, p) graphs, label = a neighbour equals "
        "the neighbourhood sum",
        stats={"graphs": 5000},
    ),
    _networkx("karate", 34, 78),
    _networkx("les-miserables", 77, 254),
    _networkx("florentine-families", 15, 20),
    _networkx("davis-southern-women", 32, 89),
)


def _table() -> dict[str, DatasetSpec]:
    table: dict[str, DatasetSpec] = {}
    for spec in DATASETS:
        for name in (spec.name, *spec.aliases):
            table[normalize_name(name)] = spec
    return table


_BY_KEY = _table()


def dataset_names() -> list[str]:
    """Canonical names of every registered dataset, in listing order.

    Example:
        >>> dataset_names()[:4]
        ['default', 'Cora', 'CiteSeer', 'PubMed']
    """
    return [spec.name for spec in DATASETS]


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name`` (case- and separator-insensitive: ``'OGBL_DDI'`` works).

    Args:
        name: A registered name or alias (see :func:`dataset_names`).

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: unknown name (the message lists every valid name), or a name that looks
            like a path (use :func:`graphpair.data.read_edge_list` for files).

    Example:
        >>> get_spec("OGBL_DDI").name
        'ogbl-ddi'
        >>> get_spec("not-a-dataset")
        Traceback (most recent call last):
            ...
        ValueError: unknown dataset 'not-a-dataset'; choose one of ['default', 'Cora', ...]
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string; got {describe(name)}")
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(
            f"name must be a registered dataset name, not a path; got {name!r}. "
            "Load your own edge list with graphpair.data.load_edge_list(path) "
            "(graphpair link --edge-list PATH)."
        )
    spec = _BY_KEY.get(normalize_name(name))
    if spec is None:
        raise ValueError(f"unknown dataset {name!r}; choose one of {dataset_names()}")
    return spec


def load_dataset(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    cache: str | os.PathLike[str] | None = None,
    download: bool = True,
    **options: Any,
) -> LoadedDataset:
    """Load a registered dataset.

    Args:
        name: a registry name (see :func:`dataset_names`), case- and separator-insensitive.
        root: folder holding raw files in the layout of ``../shared/data`` (``planetoid/Cora/
            raw``, ``ogb/ogbl_ddi``, ``tu/NAME/raw``, ...); default ``$GRAPHPAIR_DATA``. It is
            only read from, except that missing files are downloaded into it when online.
            Without a root, downloads go to the cache folder's ``raw/``.
        cache: writable folder for processed caches (default ``$GRAPHPAIR_CACHE`` or
            ``~/.cache/graphpair``).
        download: fetch missing files from their public source; offline, a missing file gives
            :class:`~graphpair.data.MissingDataError` naming the files and their folder.
        **options: loader options: ``seed`` for generated datasets, ``p`` /
            ``num_features`` / ``num_graphs`` for UniqueSignature, ``num_train`` /
            ``num_valid`` / ``num_test`` for PATTERN and CLUSTER, ``cache_processed=False``.

    Example:
        >>> ds = load_dataset("karate")
        >>> ds.task, ds.data.num_nodes
        ('link', 34)
    """
    spec = get_spec(name)
    opts = LoadOptions(
        root=data_root(root),
        cache=Path(cache) if cache is not None else None,
        download=bool(download),
        options=dict(options),
    )
    return spec.loader(spec, opts)


def load_edge_list(
    path: str | os.PathLike[str],
    *,
    directed: bool = False,
    delimiter: str | None = None,
    num_nodes: int | None = None,
) -> LoadedDataset:
    """Your own edge list file as a link dataset, to train on like a registered one.

    The file is read by :func:`graphpair.data.read_edge_list` (``.csv``, ``.tsv`` or
    whitespace separated; comments, a header line and extra columns are skipped; self loops
    and repeated edges are dropped; string ids are relabelled ``0 .. N - 1`` and kept in
    ``data.node_ids``). The dataset is named after the file, its task is ``'link'``, its
    headline metric Hits@100 (as Cora's), and its splits follow NCN's random protocol
    (``'ncn-planetoid'``: about 70 / 10 / 20 % of the edges, a function of the seed), so
    :func:`link_split` and the link runner (``graphpair link --edge-list FILE``) treat it
    like Cora. The graph has no node features: the runner learns one embedding per node.

    Args:
        path: The edge list file.
        directed: Keep the edges as given (the NCN protocol then splits directed pairs).
        delimiter: Field separator; ``None`` picks it from the suffix.
        num_nodes: ``N`` when the ids are integers and some nodes have no edge.

    Returns:
        A :class:`~graphpair.data.LoadedDataset` holding the one graph.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: A line has fewer than two fields, or the file has no edge.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "friends.csv").write_text("ann,bob\\nbob,cy\\ncy,ann\\n")
        >>> ds = load_edge_list(folder / "friends.csv")
        >>> ds.name, ds.task, ds.spec.metric, ds.data.num_nodes, ds.data.node_ids
        ('friends.csv', 'link', 'hits@100', 3, ['ann', 'bob', 'cy'])
    """
    from graphpair.data._edge_list import read_edge_list

    file = Path(path)
    data = read_edge_list(file, delimiter=delimiter, directed=directed, num_nodes=num_nodes)
    if data.edge_index.size(1) == 0:  # only self loops, or num_nodes without edges
        raise ValueError(f"path {str(file)!r} holds no edge: nothing to train a link predictor on")

    def reload(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
        return load_edge_list(file, directed=directed, delimiter=delimiter, num_nodes=num_nodes)

    spec = DatasetSpec(
        name=file.name,
        task="link",
        metrics=("hits@100", "hits@20", "hits@50"),
        split="ncn-planetoid",
        source="file",
        loader=reload,
        description=f"edge list {file}",
        stats={"nodes": int(data.num_nodes), "edges": int(data.edge_index.size(1))},
    )
    return LoadedDataset(spec, (data,), info={"file": str(file.resolve())})


def link_split(
    dataset: LoadedDataset | Data,
    seed: int = 0,
    *,
    protocol: str | None = None,
    audit: bool = True,
    hard_negatives: int | None = None,
    cache: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> LinkSplit:
    """The link split a runner uses: official when the dataset has one, else made from ``seed``.

    Args:
        dataset: a loaded link dataset, or any single graph (``Data`` with ``edge_index``).
        seed: run index; the split is a function of the graph and the seed only.
        protocol: ``'ogb'`` (official), ``'ncn-planetoid'`` (default for non-OGB graphs) or
            ``'random'`` (with ``valid_fraction``, ``test_fraction``, ``num_neg_per_pos`` in
            ``kwargs``).
        audit: run :func:`graphpair.data.audit_split` (raises on leakage).
        hard_negatives: replace the validation and test negatives by this many HeaRT-style
            hard negatives per positive (:func:`graphpair.data.heart_negatives`: corrupt one
            endpoint, rank candidates by heuristics on the stage's message-passing graph,
            filter every known positive), giving ``[2, P, K]`` negatives for MRR / Hits@K
            per positive. Seeded by ``seed`` and cached (``cache`` folder, as for datasets).
        cache: Cache folder of the HeaRT negatives, which go to its ``heart/`` subfolder
            (default: :func:`cache_dir`).
        **kwargs: Options of the ``'random'`` protocol (see
            :func:`graphpair.data.random_link_split`).

    Returns:
        The split, audited unless ``audit=False``.

    Raises:
        ValueError: An unknown ``protocol``, ``'ogb'`` for a graph without an official
            split, options for ``'ncn-planetoid'``, or (from the audit) a leaking split.

    Example:
        >>> split = link_split(load_dataset("karate"), seed=0)
        >>> split.protocol, split.sizes()["test_pos"]
        ('ncn-planetoid', 15)
    """
    check_int("seed", seed, minimum=0)
    spec = dataset.spec if isinstance(dataset, LoadedDataset) else None
    official = dataset.link_split if isinstance(dataset, LoadedDataset) else None
    if protocol is None:
        protocol = "ogb" if official is not None else "ncn-planetoid"
    if protocol not in LINK_PROTOCOLS:
        raise ValueError(f"protocol must be one of {list(LINK_PROTOCOLS)}; got {protocol!r}")
    if protocol == "ogb":
        if official is None:
            raise ValueError(
                f"protocol='ogb' needs a dataset with an official split; "
                f"{spec.name if spec else 'this graph'!r} has none"
            )
        split = official
    else:
        data = dataset.data if isinstance(dataset, LoadedDataset) else dataset
        if data.edge_index is None or data.num_nodes is None:
            raise ValueError("dataset must be a graph with edge_index and num_nodes")
        if protocol == "ncn-planetoid":
            if kwargs:
                raise ValueError(f"protocol='ncn-planetoid' takes no options; got {kwargs}")
            split = ncn_planetoid_split(data.edge_index, int(data.num_nodes), seed)
        else:
            split = random_link_split(data.edge_index, int(data.num_nodes), seed, **kwargs)
    if hard_negatives is not None:
        split = _with_hard_negatives(split, hard_negatives, seed, cache, spec)
    if audit:
        duplicates = bool(spec.defaults.get("train_duplicates", False)) if spec else False
        audit_split(split, allow_train_duplicates=duplicates)
    return split


def _with_hard_negatives(
    split: LinkSplit,
    num_negatives: int,
    seed: int,
    cache: str | os.PathLike[str] | None,
    spec: DatasetSpec | None,
) -> LinkSplit:
    from graphpair.data._heart import heart_negatives

    check_int("hard_negatives", num_negatives, minimum=1)
    known = torch.cat([split.train_pos, split.valid_pos, split.test_pos], dim=1)
    negatives = {}
    for stage in ("valid", "test"):
        graph = split.edge_index(stage)
        key = fingerprint(graph, split.pos(stage), known, num_negatives, seed)
        label = normalize_name(spec.name) if spec is not None else "graph"
        path = cache_dir(cache) / "heart" / f"{label}-{stage}-{key}.pt"
        negatives[stage] = heart_negatives(
            graph,
            split.pos(stage),
            split.num_nodes,
            num_negatives,
            known=known,
            seed=seed,
            cache=path,
        )
    return dataclasses.replace(
        split,
        valid_neg=negatives["valid"],
        test_neg=negatives["test"],
        protocol=f"{split.protocol}+heart",
    )
