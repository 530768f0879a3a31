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

The records are bit-reproducible on one kind of CPU, not across kinds: MKL and torch's
vectorised kernels round differently by vendor and instruction set (on an Intel Xeon with
AVX-512 every CSL loss and the link and node losses differ from the AMD records in their
last bits or more, even with ``ATEN_CPU_CAPABILITY=avx2`` and ``MKL_CBWR=AVX2``). So each
kind has its own file (:data:`GOLDEN_FILES`), keyed by :func:`machine`; a kind without one
skips, saying how to make it. ``golden_records.json`` was made on AMD EPYC machines before the
move; ``golden_records.GenuineIntel-AVX512.json`` on 2026-12-07 by commit fc10370 (the last
commit that held the AMD records) on an Intel Xeon with AVX-512, with the resumes of the
legacy checkpoints as ``resumed-NAME`` (their first epoch is the checkpoint's, made on AMD).
``golden_records.AuthenticAMD-AVX2-family23-model1.json`` on 2026-12-08 at 6d47468, on an AMD
EPYC of family 23, model 1 with AVX2 (no AVX-512): there the link and node records matched
the AMD file bit for bit but every CSL loss differed in its last bits, at fc10370 too (whose
code gave this file's CSL records there), so the key also names the CPU's family and model,
and the longest key that leads this machine's kind wins.

Regenerate (only for a change that is meant to change the numbers, and say so in the
CHANGELOG), or make a new machine's file at a commit that holds another machine's records:
``python -m tests.train.test_golden_records`` (this machine's file).
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from graphpair.data._io import DATA_ENV_VAR
from graphpair.train._config_key import ADDED_FIELDS
from tests.conftest import data_root

#: machine() -> the records made on that kind of CPU (a key without its instruction set
#: matches any): see the module docstring.
GOLDEN_FILES = {
    "AuthenticAMD": "golden_records.json",
    "AuthenticAMD-AVX2-family23-model1": "golden_records.AuthenticAMD-AVX2-family23-model1.json",
    "GenuineIntel-AVX512": "golden_records.GenuineIntel-AVX512.json",
}


def machine() -> str:
    """This CPU's kind: its vendor, torch's CPU capability and, where ``/proc/cpuinfo`` gives
    them, its family and model numbers, e.g. ``AuthenticAMD-AVX2-family23-model1``."""
    fields = {}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if not key.strip():  # the first processor's block ends
                break
            fields.setdefault(key.strip(), value.strip())
    vendor = fields.get("vendor_id") or platform.processor() or platform.machine()
    kind = f"{vendor}-{torch.backends.cpu.get_cpu_capability()}"
    if "cpu family" in fields and "model" in fields:
        kind += f"-family{fields['cpu family']}-model{fields['model']}"
    return kind


def golden_path(kind: str | None = None) -> Path | None:
    """The records file of ``kind`` (default: this machine), ``None`` where none was made: the
    longest key of :data:`GOLDEN_FILES` that is a leading part of the kind (vendor, then
    capability, then family and model)."""
    parts = (kind or machine()).split("-")
    for end in range(len(parts), 0, -1):
        name = GOLDEN_FILES.get("-".join(parts[:end]))
        if name:
            return Path(__file__).with_name(name)
    return None


def _golden() -> dict[str, Any]:
    path = golden_path()
    if path is None:
        pytest.skip(
            f"no golden records for this kind of CPU ({machine()}): make them with "
            "`python -m tests.train.test_golden_records` at a commit that holds another "
            "machine's records, and add the file to GOLDEN_FILES"
        )
    return json.loads(path.read_text())  # type: ignore[no-any-return]


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
    want = _golden()[name]
    got = json.loads(json.dumps(_records(name)))  # the JSON form the runners write
    _assert_same(got, want, name)


def _resumed(name: str, folder: Path) -> list[dict[str, Any]]:
    """The records of resuming the legacy checkpoint ``name`` (copied into ``folder``), on one
    thread, without ``$GRAPHPAIR_DATA``."""
    shutil.copytree(Path(__file__).with_name("legacy_checkpoints") / name, folder / name)
    data = os.environ.pop(DATA_ENV_VAR, None)
    train, config = _legacy_config(name)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        records = train(config, checkpoint_dir=folder / name, resume=True).to_records()
    finally:
        torch.set_num_threads(threads)
        if data is not None:
            os.environ[DATA_ENV_VAR] = data
    return _strip(records)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_checkpoint_resumes(name: str, tmp_path: Path) -> None:
    """A checkpoint written before the move loads into the moved models, and resuming it
    ends with the numbers of the uninterrupted run (on another kind of CPU than the
    checkpoints', with the numbers of the resume recorded there before the move)."""
    golden = _golden()
    got = json.loads(json.dumps(_resumed(name, tmp_path)))
    # on the machines the checkpoints were written on (AMD), the uninterrupted run's numbers;
    # elsewhere the first epoch is the checkpoint's (AMD's) and the rest this CPU's, recorded
    # as 'resumed-NAME' with the machine's file
    want = golden.get(f"resumed-{name}", golden[f"uninterrupted-{name}"])
    _assert_same(got, want, name)


def _regenerate(names: list[str]) -> None:
    path = golden_path() or Path(__file__).with_name(f"golden_records.{machine()}.json")
    print(f"records of {machine()}: {path.name}", flush=True)
    golden = json.loads(path.read_text()) if path.exists() else {}
    for name in names or list(RUNS):
        print(f"running {name}", flush=True)
        golden[name] = _records(name)
    if path.name != GOLDEN_FILES["AuthenticAMD"]:  # not the checkpoints' kind of CPU
        for name in LEGACY:
            with tempfile.TemporaryDirectory() as folder:
                golden[f"resumed-{name}"] = _resumed(name, Path(folder))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    _regenerate(sys.argv[1:])
