from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from graphpair.train import (
    CheckpointError,
    ConfigError,
    EpochRecord,
    LinkConfig,
    LinkResult,
    RunCheckpoints,
    config_key,
    link_config,
    train_link,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _cfg(**changes: Any) -> LinkConfig:
    values: dict[str, Any] = {"epochs": 6, "runs": 2, "hidden_channels": 8, "dropout": 0.2}
    values.update(changes)
    return link_config("karate", "ncn", **values)


def _numbers(result: LinkResult) -> list[list[tuple[Any, ...]]]:
    # Everything but the wall times.
    return [[(r.epoch, r.loss, r.valid, r.test) for r in run.history] for run in result.runs]


class _InterruptError(Exception):
    pass


def _interrupt_at(run: int, epoch: int) -> Any:
    def on_epoch(run_index: int, record: EpochRecord) -> None:
        if run_index == run and record.epoch == epoch:
            raise _InterruptError

    return on_epoch


@pytest.mark.parametrize("predictor", ["ncn", "ncnc"])
def test_resume_after_an_interruption_gives_the_uninterrupted_numbers(
    predictor: str, tmp_path: pathlib.Path
) -> None:
    cfg = _cfg(predictor_edge_dropout=0.3) if predictor == "ncn" else _cfg()
    cfg = cfg.replace(predictor=predictor) if predictor != "ncn" else cfg
    full = train_link(cfg)
    with pytest.raises(_InterruptError):
        train_link(cfg, on_epoch=_interrupt_at(1, 4), checkpoint_dir=tmp_path)
    seen: list[tuple[int, int]] = []
    resumed = train_link(
        cfg,
        checkpoint_dir=tmp_path,
        resume=True,
        on_epoch=lambda run, record: seen.append((run, record.epoch)),
    )
    assert _numbers(resumed) == _numbers(full)  # bit-identical, dropout and negatives included
    assert [run.best for run in resumed.runs] == [run.best for run in full.runs]
    # Run 0 had finished: not repeated. Run 1 continued after its last saved epoch (3).
    assert seen == [(1, 4), (1, 5), (1, 6)]
    # Resuming a finished configuration trains nothing and returns the same result.
    seen.clear()
    again = train_link(
        cfg, checkpoint_dir=tmp_path, resume=True, on_epoch=lambda *a: seen.append(a)
    )
    assert seen == []
    assert _numbers(again) == _numbers(full)


def test_resume_keeps_early_stopping_state(tmp_path: pathlib.Path) -> None:
    cfg = _cfg(epochs=40, runs=1, patience=3)
    full = train_link(cfg)
    stop_epoch = full.runs[0].history[-1].epoch
    assert stop_epoch < 40
    with pytest.raises(_InterruptError):
        train_link(cfg, on_epoch=_interrupt_at(0, stop_epoch - 1), checkpoint_dir=tmp_path)
    resumed = train_link(cfg, checkpoint_dir=tmp_path, resume=True)
    assert _numbers(resumed) == _numbers(full)


def test_existing_checkpoints_need_resume_and_bad_folders_are_named(
    tmp_path: pathlib.Path,
) -> None:
    cfg = _cfg(epochs=2, runs=1)
    train_link(cfg, checkpoint_dir=tmp_path)
    with pytest.raises(ConfigError, match="already holds 1 checkpoint") as info:
        train_link(cfg, checkpoint_dir=tmp_path)
    assert info.value.field == "resume"
    # Another configuration gets its own subfolder; bookkeeping fields do not change it.
    train_link(cfg.replace(dropout=0.1), checkpoint_dir=tmp_path)
    assert config_key(cfg) == config_key(cfg.replace(runs=5, download=False))
    assert config_key(cfg) != config_key(cfg.replace(seed=3))
    with pytest.raises(ConfigError, match="resume needs checkpoint_dir") as info:
        train_link(cfg, resume=True)
    assert info.value.field == "resume"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match="checkpoint_dir must be a folder") as info:
        train_link(cfg, checkpoint_dir=a_file)
    assert info.value.field == "checkpoint_dir"


def test_truncated_corrupted_and_foreign_checkpoints_are_refused(tmp_path: pathlib.Path) -> None:
    cfg = _cfg(epochs=2, runs=1)
    train_link(cfg, checkpoint_dir=tmp_path)
    store = RunCheckpoints(tmp_path, cfg, resume=True)
    path = store.path(0)
    good = path.read_bytes()
    assert store.load(0) is not None

    path.write_bytes(good[: len(good) // 2])  # a torn copy
    with pytest.raises(CheckpointError, match="failed its checksum"):
        train_link(cfg, checkpoint_dir=tmp_path, resume=True)
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one flipped bit
    with pytest.raises(CheckpointError, match="failed its checksum"):
        store.load(0)
    path.write_bytes(b"PK\x03\x04 some zip archive")  # not ours
    with pytest.raises(CheckpointError, match="is not a graphpair checkpoint"):
        store.load(0)
    # A valid checkpoint of another configuration (or seed) placed here is refused too.
    other = _cfg(epochs=2, runs=1, dropout=0.1)
    train_link(other, checkpoint_dir=tmp_path)
    shutil.copy(RunCheckpoints(tmp_path, other, resume=True).path(0), path)
    with pytest.raises(CheckpointError, match="written for other parameters"):
        store.load(0)
    path.write_bytes(good)
    assert store.load(0) is not None
    assert not list(tmp_path.rglob(".*.tmp"))  # atomic writes leave no temporaries


def _wait_for(path: pathlib.Path, process: subprocess.Popen[bytes], limit: float) -> None:
    deadline = time.monotonic() + limit
    while not path.is_file():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {path.name} appeared")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} did not appear within {limit} s")
        time.sleep(0.005)


def test_sigkill_then_resume_repeats_nothing_and_matches(tmp_path: pathlib.Path) -> None:
    # A real kill -9 of a CLI run while its second seed is training, then --resume.
    epochs = 100
    flags = ["--dataset", "karate", "--predictor", "ncn", "--epochs", str(epochs)]
    flags += ["--runs", "2", "--hidden", "8", "--dropout", "0.2", "--quiet"]
    ckpt, out = tmp_path / "ckpt", tmp_path / "runs.jsonl"
    cfg = _cfg(epochs=epochs)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "graphpair", "link", *flags, "--checkpoint-dir", str(ckpt)]
    process = subprocess.Popen([*command, "--output", str(out)], env=env, cwd=ROOT)
    try:
        store = RunCheckpoints(ckpt, cfg, resume=True)
        _wait_for(store.path(1), process, limit=120)
        time.sleep(0.2)  # somewhere inside run 1, possibly in the middle of a write
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    saved = store.load(1)
    assert saved is not None
    assert saved["result"] is None  # killed mid-run
    assert 1 <= saved["epoch"] < epochs
    # Run 0's record was stored when run 0 ended; run 1 has none yet.
    assert [json.loads(line)["seed"] for line in out.read_text().splitlines()] == [0]

    resume = [*command, "--output", str(out), "--resume"]
    subprocess.run(resume, env=env, cwd=ROOT, check=True, capture_output=True, timeout=600)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seed"] for r in records] == [0, 1]  # one line per run, run 0 not repeated
    full = train_link(cfg)
    for record, run in zip(records, full.runs, strict=True):
        got = [(h["epoch"], h["loss"], h["valid"], h["test"]) for h in record["history"]]
        assert got == [(r.epoch, r.loss, dict(r.valid), dict(r.test)) for r in run.history]


def _graph_numbers(result: Any) -> list[list[tuple[Any, ...]]]:
    return [[(r.epoch, r.loss, r.valid, r.test) for r in run.history] for run in result.runs]


@pytest.mark.parametrize(
    ("dataset", "changes"),
    [
        # A fixed split, dropout, a cosine schedule with warm-up: every state must come back.
        (
            "CLUSTER",
            {
                "dataset_options": {"num_train": 24, "num_valid": 8, "num_test": 8},
                "scheduler": "cosine",
                "warmup_epochs": 2,
                "dropout": 0.3,
            },
        ),
        # Cross-validation folds (one checkpoint per seed and fold) and a plateau schedule.
        ("CSL", {"folds": 2, "scheduler": "plateau", "plateau_patience": 1}),
    ],
)
def test_graph_runner_resumes_to_the_uninterrupted_numbers(
    tmp_path: pathlib.Path, dataset: str, changes: dict[str, Any]
) -> None:
    from graphpair.train import graph_config, train_graph

    values: dict[str, Any] = {
        "epochs": 5,
        "runs": 2,
        "hidden_channels": 8,
        "num_layers": 2,
        "batch_size": 8,
    }
    cfg = graph_config(dataset, "gin", **values, **changes)
    full = train_graph(cfg)
    with pytest.raises(_InterruptError):
        train_graph(cfg, on_epoch=_interrupt_at(len(full.runs) - 1, 3), checkpoint_dir=tmp_path)
    seen: list[tuple[int, int]] = []
    resumed = train_graph(
        cfg,
        checkpoint_dir=tmp_path,
        resume=True,
        on_epoch=lambda run, record: seen.append((run, record.epoch)),
    )
    assert _graph_numbers(resumed) == _graph_numbers(full)
    assert [r.best for r in resumed.runs] == [r.best for r in full.runs]
    last = len(full.runs) - 1
    assert seen == [(last, 3), (last, 4), (last, 5)]  # finished runs are not repeated
    with pytest.raises(ConfigError, match="already holds"):
        train_graph(cfg, checkpoint_dir=tmp_path)
