"""Seeded runs of every runner give the records they gave before the architecture move.

Issue 21 moved every model into :mod:`graphpair.nn` and the configuration into one mechanism;
the numbers a seeded run records must not change with it. ``golden_records.json`` beside this
file holds the records of short seeded runs made *before* the move (on one CPU thread, where
a run is bit-reproducible): the metrics of every epoch, the losses, the parameter counts, the
configuration and its key (which names checkpoints, so old checkpoints still resume). Timings
and versions are left out. A run of one runner whose dataset is absent skips. The records
were made without ``$GRAPHPAIR_DATA``: CSL is generated (its files, where a data root holds
them, are other graphs) and the link and node runs read the embedded default graph, so the
tests unset it; the Cora runs name their data root.

Regenerate (only for a change that is meant to change the numbers, and say so in the
CHANGELOG): ``python -m tests.train.test_golden_records``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from graphpair.data._io import DATA_ENV_VAR
from graphpair.train._config_key import ADDED_FIELDS
from tests.conftest import data_root

GOLDEN = Path(__file__).with_name("golden_records.json")

# Keys whose values are wall time or versions: not part of the behaviour held here.
_VOLATILE = ("seconds", "versions", "data_root")


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not any(word in k for word in _VOLATILE)}
    if isinstance(value, list | tuple):
        return [_strip(v) for v in value]
    return value


def _link() -> list[dict[str, Any]]:
    from graphpair.train import link_config, train_link

    records = []
    for predictor in ("ncnc", "gae"):
        config = link_config("default", predictor, epochs=2, runs=1)
        records += train_link(config).to_records()
    return records


def _graph(model: str) -> Callable[[], list[dict[str, Any]]]:
    def run() -> list[dict[str, Any]]:
        from graphpair.train import graph_config, train_graph

        # precise_bn came after these records (issue 21's BatchNorm fix, on in CSL's shipped
        # configuration): off, the runs are the ones recorded.
        overrides: dict[str, Any] = {"epochs": 3, "runs": 1, "folds": 1, "precise_bn": False}
        if model == "grit":
            overrides.update(hidden_channels=16, num_layers=2, walk_length=8, fused=False)
        config = graph_config("CSL", model, **overrides)
        return train_graph(config).to_records()

    return run


def _node() -> list[dict[str, Any]]:
    from graphpair.train import node_config, train_node

    root = data_root()
    assert root is not None
    config = node_config("cora", epochs=5, runs=1, data_root=str(root))
    return train_node(config).to_records()


def _pretrain() -> list[dict[str, Any]]:
    from graphpair.train import grace_config, train_grace

    root = data_root()
    assert root is not None
    result = train_grace(grace_config("cora", epochs=3, runs=1, data_root=str(root)))
    return [
        {
            "valid": list(result.valid),
            "test": list(result.test),
            "final_loss": list(result.final_loss),
            "num_parameters": result.num_parameters,
        }
    ]


def _legacy_config(name: str) -> tuple[Callable[..., Any], Any]:
    """The runner and configuration of a checkpoint in ``legacy_checkpoints/NAME``: written
    before the move by a run stopped after its first of three epochs."""
    from graphpair.train import (
        graph_config,
        link_config,
        node_config,
        train_graph,
        train_link,
        train_node,
    )

    if name.startswith("graph-"):
        model = name.removeprefix("graph-")
        kw: dict[str, Any] = {"epochs": 3, "runs": 1, "folds": 1, "hidden_channels": 8}
        kw["precise_bn"] = False
        kw["num_layers"] = 2
        if model == "grit":
            kw.update(heads=2, walk_length=4, fused=False)
        return train_graph, graph_config("CSL", model, **kw)
    if name == "link-ncn":
        return train_link, link_config("karate", "ncn", epochs=3, runs=1, hidden_channels=8)
    assert name == "node-gcn"
    return train_node, node_config("default", epochs=3, runs=1, hidden_channels=8)


LEGACY = ("graph-gin", "graph-sinc", "graph-grit", "link-ncn", "node-gcn")


def _uninterrupted(name: str) -> Callable[[], list[dict[str, Any]]]:
    def run() -> list[dict[str, Any]]:
        train, config = _legacy_config(name)
        return train(config).to_records()  # type: ignore[no-any-return]

    return run


#: name -> (runner, whether it needs the offline datasets)
RUNS: dict[str, tuple[Callable[[], list[dict[str, Any]]], bool]] = {
    "link-default": (_link, False),
    "graph-csl-gin": (_graph("gin"), False),
    "graph-csl-sinc": (_graph("sinc"), False),
    "graph-csl-grit": (_graph("grit"), False),
    "node-cora": (_node, True),
    "pretrain-cora": (_pretrain, True),
    **{f"uninterrupted-{name}": (_uninterrupted(name), False) for name in LEGACY},
}


def _records(name: str) -> list[dict[str, Any]]:
    run, _ = RUNS[name]
    threads = torch.get_num_threads()
    data = os.environ.pop(DATA_ENV_VAR, None)
    torch.set_num_threads(1)
    try:
        return _strip(run())  # type: ignore[no-any-return]
    finally:
        torch.set_num_threads(threads)
        if data is not None:
            os.environ[DATA_ENV_VAR] = data


def _assert_same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        # A configuration field added since, at the value that means "as before", is the same
        # configuration (the rule config_key follows).
        added = {k for k in set(got) - set(want) if ADDED_FIELDS.get(k, ...) == got[k]}
        assert sorted(set(got) - added) == sorted(want), f"{where}: keys {sorted(got)}"
        for key in want:
            _assert_same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list), where
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float), where
        assert math.isnan(got), where
    else:
        # Bit for bit: a float must round-trip to the same double.
        assert got == want, f"{where}: {got!r} != {want!r}"


@pytest.mark.parametrize("name", list(RUNS))
def test_seeded_records_unchanged(name: str) -> None:
    _, needs_data = RUNS[name]
    if needs_data and data_root() is None:
        pytest.skip("offline datasets not found (set GRAPHPAIR_DATA or provide ../shared/data)")
    want = json.loads(GOLDEN.read_text())[name]
    got = json.loads(json.dumps(_records(name)))  # the JSON form the runners write
    _assert_same(got, want, name)


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_checkpoint_resumes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint written before the move loads into the moved models, and resuming it
    ends with the numbers of the uninterrupted run."""
    shutil.copytree(Path(__file__).with_name("legacy_checkpoints") / name, tmp_path / name)
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    train, config = _legacy_config(name)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        records = train(config, checkpoint_dir=tmp_path / name, resume=True).to_records()
    finally:
        torch.set_num_threads(threads)
    want = json.loads(GOLDEN.read_text())[f"uninterrupted-{name}"]
    _assert_same(json.loads(json.dumps(_strip(records))), want, name)


def _regenerate(names: list[str]) -> None:
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    for name in names or list(RUNS):
        print(f"running {name}", flush=True)
        golden[name] = _records(name)
    tmp = GOLDEN.with_suffix(".tmp")
    tmp.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    tmp.replace(GOLDEN)


if __name__ == "__main__":
    _regenerate(sys.argv[1:])
