"""Datasets: registry, loaders, synthetic generators, link splits, negatives and the audit.

Start with :func:`load_dataset` (any registered name) and :func:`link_split` (the audited split
a link runner uses). Users' own graphs come in through :func:`from_edge_list` and
:func:`read_edge_list`.
"""

from graphpair.data._audit import LeakageError, SplitAudit, audit_split
from graphpair.data._dataset import DatasetSpec, GraphSet, LoadedDataset
from graphpair.data._dataset_table import DATASETS
from graphpair.data._edge_list import from_edge_list, read_edge_list
from graphpair.data._heart import heart_negatives
from graphpair.data._heuristic_scores import heuristic_scores
from graphpair.data._io import CacheError, MissingDataError, cache_dir, data_root
from graphpair.data._negative_sampling import negative_sampling
from graphpair.data._registry import (
    LINK_PROTOCOLS,
    dataset_names,
    get_spec,
    link_split,
    load_dataset,
    load_edge_list,
)
from graphpair.data._safe_pickle import UnsafePickleError
from graphpair.data._split import (
    LinkSplit,
    canonical_pairs,
    ncn_planetoid_split,
    random_link_split,
    symmetrize,
)

__all__ = [
    "DATASETS",
    "LINK_PROTOCOLS",
    "CacheError",
    "DatasetSpec",
    "GraphSet",
    "LeakageError",
    "LinkSplit",
    "LoadedDataset",
    "MissingDataError",
    "SplitAudit",
    "UnsafePickleError",
    "audit_split",
    "cache_dir",
    "canonical_pairs",
    "data_root",
    "dataset_names",
    "from_edge_list",
    "get_spec",
    "heart_negatives",
    "heuristic_scores",
    "link_split",
    "load_dataset",
    "load_edge_list",
    "ncn_planetoid_split",
    "negative_sampling",
    "random_link_split",
    "read_edge_list",
    "symmetrize",
]
