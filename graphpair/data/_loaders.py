"""The registry's loaders: one function per source, from a :class:`DatasetSpec` and
:class:`LoadOptions` to a :class:`LoadedDataset`.

Each loader makes sure the raw files are there (downloading them when allowed), reads them
with the reader of its source and caches processed graph sets. The readers are imported inside
the loaders, so that a source's dependencies (networkx, ogb) are imported only when a dataset
of that source is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from graphpair._validation import check_int, normalize_name
from graphpair.data._dataset import DatasetSpec, GraphSet, LoadedDataset, Loader, LoadOptions
from graphpair.data._download import ensure_files
from graphpair.data._io import MissingDataError, cache_dir, cached, fingerprint, require_files

__all__ = [
    "load_csl",
    "load_default",
    "load_networkx",
    "load_ogb_graph",
    "load_ogb_link",
    "load_ogb_node",
    "load_peptides",
    "load_planetoid",
    "load_tu",
    "load_unique_signature",
    "load_zinc",
    "sbm_loader",
]

log = logging.getLogger(__name__)

_CACHE_VERSION = 1


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


def _why_missing(download: bool, downloadable: bool, cause: BaseException | None) -> str:
    if not downloadable:
        return "no public download exists"
    if not download:
        return "downloading is off (download=False, --no-download)"
    if cause is not None:
        return f"the download failed ({type(cause).__name__}: {cause})"
    return "the download did not hold them"


def _ensure(
    folder: Path,
    files: Sequence[str],
    spec: DatasetSpec,
    *,
    url: str | None,
    download: bool,
    urls: Sequence[tuple[str, str]] = (),
    archive: str | None = None,
    archive_subdir: str | None = None,
    reason: str | None = None,
) -> None:
    """:func:`ensure_files`, with a message that says where to get what is missing: the
    files, their folder, why they are missing, ``url`` (the dataset's public source: OGB's
    ``master.csv`` URL, Planetoid's raw folder), and ``root=`` / ``--data-root`` /
    ``$GRAPHPAIR_DATA`` with the dataset's folder under the data root."""
    try:
        ensure_files(
            folder,
            files,
            dataset=spec.name,
            urls=urls,
            archive=archive,
            archive_subdir=archive_subdir,
            download=download,
        )
    except MissingDataError as err:
        if reason is None:
            reason = _why_missing(download, bool(urls or archive), err.__cause__)
        unpack = ""
        if archive is not None:
            inner = f"its {archive_subdir!r} folder" if archive_subdir else "its content"
            unpack = f"Unpack the archive: {inner} is that folder."
        require_files(
            folder,
            files,
            dataset=spec.name,
            url=url,
            reason=reason,
            relative_folder=spec.folder,
            hint=unpack,
        )
        raise  # require_files found them all after all (a concurrent download): the original


def load_planetoid(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._planetoid import PLANETOID_URL, read_planetoid

    folder = opts.folder(spec)
    _ensure(
        folder,
        spec.files,
        spec,
        url=f"{PLANETOID_URL}/ (one file per name)",
        urls=[(f"{PLANETOID_URL}/{name}", name) for name in spec.files],
        download=opts.download,
    )
    return LoadedDataset(spec, (read_planetoid(folder, spec.name),), info={"folder": str(folder)})


def _ogb_extra_files(meta: dict[str, str]) -> list[str]:
    """The raw files OGB's ``master.csv`` says a dataset has beyond the edge lists: node
    features (``has_node_attr``) and its additional node and edge files (collab's
    ``edge_weight`` / ``edge_year``, citation2's ``node_year``)."""
    files = ["raw/node-feat.csv.gz"] if meta.get("has_node_attr") == "True" else []
    for key in ("additional node files", "additional edge files"):
        value = meta.get(key, "None")
        if value not in ("None", ""):
            files += [f"raw/{name}.csv.gz" for name in value.split(",")]
    return files


def _ogb_files(
    spec: DatasetSpec, opts: LoadOptions, extra: tuple[str, ...] = ()
) -> tuple[Path, dict[str, str]]:
    """The folder of an OGB dataset with its files present (downloaded if allowed), and
    OGB's facts about it. ``extra`` files are required beside the registry's."""
    from graphpair.data._ogb import ogb_meta

    meta = ogb_meta(spec.name)
    folder = opts.folder(spec)
    files = [*spec.files, *(name for name in extra if name not in spec.files)]
    _ensure(
        folder,
        files,
        spec,
        url=meta["url"],
        archive=meta["url"],
        archive_subdir=meta["download_name"],
        download=opts.download,
    )
    return folder, meta


def load_ogb_link(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    """An OGB link dataset: the raw training graph (symmetrised, deduplicated: NCN's binary
    adjacency, ``specs/ncn.md`` §4.2), its node features and extra node files (citation2's
    ``node_year``), and the official split (collab's training ``weight`` kept as
    ``train_weight``; its repeated pairs kept as OGB lists them, quirk Q7)."""
    from graphpair.data._ogb import ogb_meta, read_ogb_graphs, read_ogb_link_split, single_graph

    folder, meta = _ogb_files(spec, opts, tuple(_ogb_extra_files(ogb_meta(spec.name))))
    storage, _ = read_ogb_graphs(folder / "raw", {**meta, "add_inverse_edge": "False"})
    data = single_graph(storage)
    split = read_ogb_link_split(
        folder,
        meta,
        data.num_nodes,
        valid_as_input=bool(spec.defaults.get("valid_as_input", False)),
    )
    return LoadedDataset(spec, (data,), link_split=split, info={"folder": str(folder)})


def load_ogb_graph(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
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


def load_ogb_node(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
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


def load_tu(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._files import read_errica_folds, read_tu

    folder = opts.folder(spec)
    _ensure(
        folder,
        spec.files,
        spec,
        url=f"{_TU_URL}/{spec.name}.zip",
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


def load_zinc(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
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
        off = "downloading is off (download=False, --no-download)"
        _ensure(folder, spec.files, spec, url=ZINC_URL, download=False, reason=off)
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


def load_peptides(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._files import read_peptides_func, read_split_json

    folder = opts.folder(spec)
    _ensure(folder, spec.files, spec, url=None, download=False)
    graphs = _cached_graph_set(spec, opts, folder, lambda: read_peptides_func(folder))
    split = read_split_json(folder / "splits.json", len(graphs))
    return LoadedDataset(spec, graphs, split=split, info={"folder": str(folder)})


def load_networkx(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._networkx import networkx_graph

    return LoadedDataset(spec, (networkx_graph(spec.name),))


def _seed(opts: LoadOptions) -> int:
    return check_int("seed", opts.options.get("seed", 0), minimum=0)


def load_default(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._default_graph import default_graph

    kwargs = {k: v for k, v in opts.options.items() if k not in ("seed", "cache_processed")}
    return LoadedDataset(spec, (default_graph(seed=_seed(opts), **kwargs),))


def load_csl(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._files import read_csl

    if opts.root is not None and spec.files_present(opts.root):
        graphs, folds = read_csl(opts.folder(spec))
        return LoadedDataset(spec, graphs, folds=folds, info={"generated": False})
    from graphpair.data._csl import csl_graphs

    generated = GraphSet(csl_graphs(seed=_seed(opts)))
    return LoadedDataset(spec, generated, info={"generated": True})


def sbm_loader(kind: str) -> Loader:
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


def load_unique_signature(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
    from graphpair.data._unique_signature import unique_signature_graphs, unique_signature_split

    p = float(opts.options.get("p", 0.5))
    num_features = check_int("num_features", opts.options.get("num_features", 5), minimum=1)
    num_graphs = check_int("num_graphs", opts.options.get("num_graphs", 5000), minimum=5)
    graphs = GraphSet(
        unique_signature_graphs(p, num_features, num_graphs=num_graphs, seed=_seed(opts))
    )
    split = unique_signature_split(num_graphs)
    return LoadedDataset(spec, graphs, split=split, info={"generated": True})
