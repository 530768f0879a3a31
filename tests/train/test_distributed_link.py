from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest
import torch.distributed as dist

from graphpair.train import ConfigError, link_config, train_link
from graphpair.train._link import Shard, distributed_shard

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")


def _torchrun(tmp_path: pathlib.Path, predictor: str, *flags: str) -> list[dict[str, Any]]:
    out = tmp_path / f"{predictor}.jsonl"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "graphpair",
        "link",
        "--dataset",
        "karate",
        "--predictor",
        predictor,
        "--output",
        str(out),
        *flags,
    ]
    # Loopback for gloo, as in tests/losses/test_distributed.py.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    # Rank 0 alone reports (--quiet: the table only): one table, one set of records.
    assert done.stdout.count("karate ") == 3  # three table rows, not six
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize("predictor", ["ncn", "ncnc"])
def test_two_gloo_processes_give_the_one_process_numbers(
    tmp_path: pathlib.Path, predictor: str
) -> None:
    # Without dropout, two processes scoring half of every batch each, with DDP averaging the
    # gradients, make the one-process updates up to float summation order: losses agree to
    # 1e-5; a ranking metric can move by a pair whose two scores were tied to rounding
    # (karate: 1/210 of ROC-AUC), hence 0.02 on the metrics.
    values = {"epochs": 4, "runs": 2, "hidden_channels": 8, "dropout": 0.0}
    values["predictor_dropout"] = 0.0
    flags = ["--epochs", "4", "--runs", "2", "--hidden", "8", "--dropout", "0"]
    records = _torchrun(tmp_path, predictor, *flags, "--predictor-dropout", "0", "--quiet")
    single = train_link(link_config("karate", predictor, **values)).to_records()
    assert [r["seed"] for r in records] == [0, 1]
    for two, one in zip(records, single, strict=True):
        assert len(two["history"]) == len(one["history"]) == 4
        for a, b in zip(two["history"], one["history"], strict=True):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-6)
            for split in ("valid", "test"):
                assert a[split] == pytest.approx(b[split], abs=0.02)
        for metric, chosen in one["best"].items():
            assert two["best"][metric]["test"] == pytest.approx(chosen["test"], abs=0.02)


def test_one_process_is_a_single_shard_and_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed_shard() == Shard(0, 1)
    monkeypatch.setattr("graphpair.train._link.distributed_shard", lambda: Shard(0, 3))
    with pytest.raises(ConfigError, match="batch_size must be a multiple of the 3") as info:
        train_link(link_config("karate", epochs=1, runs=1))  # batch 16
    assert info.value.field == "batch_size"
    with pytest.raises(ConfigError, match="not supported with several processes") as info:
        train_link(link_config("karate", batch_size=15), checkpoint_dir=tmp_path)
    assert info.value.field == "checkpoint_dir"


def test_two_gloo_processes_sample_for_their_share_as_one_full_process(
    tmp_path: pathlib.Path,
) -> None:
    """sampler='neighbor' under torchrun: each process samples the computation subgraph of
    its own half of every batch; with every neighbour kept (fanout -1) and a SAGE encoder a
    step's logits are the full ones, so the two sampled processes make the one sampled
    process's numbers (both draw the same per-step seeds from the run's generator)."""
    values = {"epochs": 3, "runs": 1, "hidden_channels": 8, "dropout": 0.0}
    values |= {"predictor_dropout": 0.0, "edge_dropout": 0.0, "conv": "sage", "num_layers": 2}
    values |= {"sampler": "neighbor", "fanout": (-1,)}
    flags = ["--epochs", "3", "--runs", "1", "--hidden", "8", "--dropout", "0"]
    flags += ["--predictor-dropout", "0", "--edge-dropout", "0", "--conv", "sage"]
    flags += ["--num-layers", "2", "--sampler", "neighbor", "--fanout=-1", "--quiet"]
    records = _torchrun(tmp_path, "ncn", *flags)
    single = train_link(link_config("karate", "ncn", **values)).to_records()
    for two, one in zip(records, single, strict=True):
        assert two["config"]["sampler"] == "neighbor"
        for a, b in zip(two["history"], one["history"], strict=True):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-6)
