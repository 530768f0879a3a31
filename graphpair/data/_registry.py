"""The dataset registry: one table from name to loader, task, metrics and split protocol.

The table :data:`DATASETS` (``_dataset_table``) is a literal tuple, built when it is imported,
never filled as a side effect of importing other modules. :func:`get_spec` resolves a name
case- and separator-insensitively; :func:`load_dataset` loads it; :func:`link_split` gives the
audited link split a runner trains and evaluates on.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data

from graphpair._validation import check_int, describe, normalize_name
from graphpair.data._audit import audit_split
from graphpair.data._dataset import DatasetSpec, LoadedDataset, LoadOptions
from graphpair.data._dataset_table import DATASETS
from graphpair.data._io import cache_dir, data_root, fingerprint
from graphpair.data._split import LinkSplit, ncn_planetoid_split, random_link_split

__all__ = [
    "LINK_PROTOCOLS",
    "dataset_names",
    "get_spec",
    "link_split",
    "load_dataset",
    "load_edge_list",
]

#: Link split protocols :func:`link_split` can make.
LINK_PROTOCOLS = ("ogb", "ncn-planetoid", "random")


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
            :class:`~graphpair.data.MissingDataError` naming the files, their folder, the URL
            to fetch them from, and how to point graphpair at a copy (``root=``,
            ``--data-root``, ``$GRAPHPAIR_DATA``).
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
    header: bool | None = None,
) -> LoadedDataset:
    """Your own edge list file as a link dataset, to train on like a registered one.

    The file is read by :func:`graphpair.data.read_edge_list` (``.csv``, ``.tsv`` or
    whitespace separated, plain or gzip-compressed; comments, a header line and extra columns
    are skipped; self loops and repeated edges are dropped; string ids are relabelled
    ``0 .. N - 1`` and kept in ``data.node_ids``). The dataset is named after the file, its
    task is ``'link'``, its headline metric Hits@100 (as Cora's), and its splits follow NCN's
    random protocol (``'ncn-planetoid'``: about 70 / 10 / 20 % of the edges, a function of
    the seed), so :func:`link_split` and the link runner (``graphpair link --edge-list
    FILE``) treat it like Cora. The graph has no node features: the runner learns one
    embedding per node.

    Args:
        path: The edge list file.
        directed: Keep the edges as given (the NCN protocol then splits directed pairs).
        delimiter: Field separator; ``None`` picks it from the suffix.
        num_nodes: ``N`` when the ids are integers and some nodes have no edge.
        header: Whether the first line (not blank or a comment) is a header: ``True`` skips
            it, ``False`` reads it as an edge, ``None`` (default) detects it by the rules of
            :func:`~graphpair.data.read_edge_list`.

    Returns:
        A :class:`~graphpair.data.LoadedDataset` holding the one graph.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: A malformed line (named with its number, see
            :func:`~graphpair.data.read_edge_list`), or the file has no edge.

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
    data = read_edge_list(
        file, delimiter=delimiter, directed=directed, num_nodes=num_nodes, header=header
    )
    if data.edge_index.size(1) == 0:  # only self loops, or num_nodes without edges
        raise ValueError(f"path {str(file)!r} holds no edge: nothing to train a link predictor on")

    def reload(spec: DatasetSpec, opts: LoadOptions) -> LoadedDataset:
        return load_edge_list(
            file, directed=directed, delimiter=delimiter, num_nodes=num_nodes, header=header
        )

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
