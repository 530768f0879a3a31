from __future__ import annotations

from pathlib import Path

import pytest

from graphpair.data import DATASETS, dataset_names, get_spec


def test_table_is_consistent() -> None:
    names = dataset_names()
    assert len(names) == len(set(names)) == len(DATASETS)
    for spec in DATASETS:
        assert spec.task in ("link", "graph", "node")
        assert spec.metrics
        assert spec.split
        assert (spec.folder is None) == (not spec.files) or spec.name == "CSL"
    ogb = {s.name: s.metric for s in DATASETS if s.source == "ogb"}
    from graphpair.data._ogb import ogb_meta

    for name, metric in ogb.items():
        assert ogb_meta(name)["eval metric"].lower() == metric


@pytest.mark.data
def test_offline_entries_are_present(shared_data: Path) -> None:
    for name in (
        "Cora",
        "CiteSeer",
        "ogbl-ddi",
        "ogbg-molesol",
        "ZINC",
        "CSL",
        "MUTAG",
        "Peptides-func",
    ):
        assert get_spec(name).files_present(shared_data), name
