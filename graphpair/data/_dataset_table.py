"""The registry table :data:`DATASETS`: every dataset graphpair knows, as a literal tuple.

The table is built when this module is imported, never filled as a side effect of importing
other modules; the helpers below only spell out the entries one family shares. A spec's
``stats`` hold ``features`` and ``classes`` for the single graphs with node features and
labels, which node classification (``graphpair node``, ``pretrain``) can take.
"""

from __future__ import annotations

from typing import Any

from graphpair.data._dataset import DatasetSpec
from graphpair.data._loaders import (
    load_csl,
    load_default,
    load_networkx,
    load_ogb_graph,
    load_ogb_link,
    load_ogb_node,
    load_peptides,
    load_planetoid,
    load_tu,
    load_unique_signature,
    load_zinc,
    sbm_loader,
)

__all__ = ["DATASETS"]

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
        loader=load_planetoid,
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
        loader=load_ogb_link,
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
        loader=load_ogb_graph,
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
        loader=load_tu,
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
        loader=load_networkx,
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
        loader=load_default,
        description="embedded default: Cora-sized homophilous graph with triadic closure "
        "(generated, deterministic by seed)",
        stats={"nodes": 2708, "features": 1433, "classes": 7},
        aliases=("synthetic", "embedded-default"),
    ),
    _planetoid("Cora", {"nodes": 2708, "edges": 10556, "features": 1433, "classes": 7}),
    _planetoid("CiteSeer", {"nodes": 3327, "edges": 9104, "features": 3703, "classes": 6}),
    _planetoid("PubMed", {"nodes": 19717, "edges": 88648, "features": 500, "classes": 3}),
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
        loader=load_ogb_node,
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
        stats={"nodes": 169343, "edges": 1166243, "features": 128, "classes": 40},
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
        loader=load_zinc,
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
        loader=load_peptides,
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
        loader=load_csl,
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
        loader=sbm_loader("pattern"),
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
        loader=sbm_loader("cluster"),
        description="SBM CLUSTER (Benchmarking GNNs), generated, deterministic by seed",
        stats={"graphs": 12000},
    ),
    DatasetSpec(
        name="UniqueSignature",
        task="node",
        metrics=("balanced_acc",),
        split="first-80-percent",
        source="synthetic",
        loader=load_unique_signature,
        description="UniqueSignature (NCMP paper): G(n, p) graphs, label = a neighbour equals "
        "the neighbourhood sum",
        stats={"graphs": 5000},
    ),
    _networkx("karate", 34, 78),
    _networkx("les-miserables", 77, 254),
    _networkx("florentine-families", 15, 20),
    _networkx("davis-southern-women", 32, 89),
)
