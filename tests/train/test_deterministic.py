from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import graphpair.train._grace as grace_module
from graphpair.cli import main
from graphpair.train import (
    ConfigError,
    RunCheckpoints,
    config_key,
    deterministic,
    grace_config,
    graph_config,
    group_records,
    link_config,
    node_config,
    train_grace,
    train_graph,
    train_link,
    train_node,
)

CUBLAS = "CUBLAS_WORKSPACE_CONFIG"


def _global_state() -> tuple[Any, ...]:
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        os.environ.get(CUBLAS),
    )


@pytest.fixture
def restore_torch_flags() -> Iterator[None]:
    """Put torch's global flags back even when a test fails half-way."""
    before = _global_state()
    yield
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.deterministic = before[2]
    torch.backends.cudnn.benchmark = before[3]


def _nondeterministic_op() -> None:
    # put_ without accumulate has no deterministic implementation on any device.
    torch.zeros(4).put_(torch.tensor([0, 1]), torch.tensor([1.0, 2.0]))


# ------------------------------------------------------------------------------ the switch


def test_the_switch_turns_everything_on_and_restores_it(
    monkeypatch: pytest.MonkeyPatch, restore_torch_flags: None
) -> None:
    monkeypatch.delenv(CUBLAS, raising=False)
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = True
    before = _global_state()
    _nondeterministic_op()  # allowed outside the switch
    with deterministic():
        assert _global_state() == (True, False, True, False, ":4096:8")
        with pytest.raises(RuntimeError, match="does not have a deterministic implementation"):
            _nondeterministic_op()
    assert _global_state() == before
    assert CUBLAS not in os.environ


def test_the_switch_restores_the_state_after_an_exception(
    monkeypatch: pytest.MonkeyPatch, restore_torch_flags: None
) -> None:
    # A state unlike the switch's own, so that every field has to be put back.
    monkeypatch.setenv(CUBLAS, ":16:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = True
    before = _global_state()
    inside: list[tuple[Any, ...]] = []

    def fail() -> None:
        with deterministic():
            inside.append(_global_state())
            raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        fail()
    assert inside == [(True, False, True, False, ":16:8")]  # a value already set is kept
    assert _global_state() == before


def test_disabled_switch_changes_nothing_and_nesting_keeps_the_outer_block(
    restore_torch_flags: None,
) -> None:
    before = _global_state()
    with deterministic(False):
        assert _global_state() == before
    with deterministic():
        with deterministic(False):
            assert torch.are_deterministic_algorithms_enabled()
        with deterministic():
            assert torch.are_deterministic_algorithms_enabled()
        assert torch.are_deterministic_algorithms_enabled()  # the inner block restored "on"
    assert _global_state() == before
    with pytest.raises(TypeError, match="enabled must be a bool"), deterministic(1):  # type: ignore[arg-type]
        pass


# ---------------------------------------------------------------------- runners and configs


def _record_optimizers(monkeypatch: pytest.MonkeyPatch) -> list[torch.optim.Optimizer]:
    """Every Adam / AdamW the runners build, so that the trained parameters can be read."""
    made: list[torch.optim.Optimizer] = []
    for name in ("Adam", "AdamW"):
        base = getattr(torch.optim, name)

        class Recording(base):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                made.append(self)

        monkeypatch.setattr(torch.optim, name, Recording)
    return made


def _parameters(optimizers: list[torch.optim.Optimizer]) -> list[torch.Tensor]:
    return [p.detach().clone() for o in optimizers for g in o.param_groups for p in g["params"]]


def _without_timings(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = json.loads(json.dumps(records))
    for record in out:
        for key in ("seconds", "seconds_per_epoch"):
            record.pop(key, None)
        for epoch in record.get("history", []):
            epoch.pop("train_seconds", None)
            epoch.pop("eval_seconds", None)
    return out


# Each config draws random numbers (dropout, edge dropout, negatives, shuffling) every step.
RUNS: dict[str, tuple[Callable[..., Any], Callable[[], Any]]] = {
    "link-ncn": (
        train_link,
        lambda: link_config(
            "karate", "ncn", epochs=2, runs=1, hidden_channels=8, dropout=0.3, deterministic=True
        ),
    ),
    "link-ncnc": (
        train_link,
        lambda: link_config(
            "karate",
            "ncnc",
            epochs=2,
            runs=1,
            hidden_channels=8,
            dropout=0.3,
            predictor_edge_dropout=0.3,
            deterministic=True,
        ),
    ),
    **{
        f"graph-{model}": (
            train_graph,
            lambda model=model: graph_config(
                "UniqueSignature",
                model,
                epochs=2,
                runs=1,
                hidden_channels=8,
                num_layers=2,
                heads=2,
                walk_length=4,
                dropout=0.2,
                dataset_options={"num_graphs": 40},
                deterministic=True,
            ),
        )
        for model in ("gin", "sinc", "grit")
    },
    "node-gcn": (
        train_node,
        lambda: node_config(
            "default", conv="gcn", epochs=3, runs=1, hidden_channels=8, deterministic=True
        ),
    ),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_same_seed_under_the_switch_gives_bit_identical_records_and_parameters(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, make = RUNS[name]
    seen: list[bool] = []

    def on_epoch(run: int, record: Any) -> None:
        seen.append(torch.are_deterministic_algorithms_enabled())

    outcomes = []
    for _ in range(2):
        optimizers = _record_optimizers(monkeypatch)
        result = train(make(), on_epoch=on_epoch)
        outcomes.append((_without_timings(result.to_records()), _parameters(optimizers)))
    assert seen  # the whole training ran inside the switch
    assert all(seen)
    assert not torch.are_deterministic_algorithms_enabled()  # and it was switched off after
    (records, params), (records_again, params_again) = outcomes
    assert records[0]["config"]["deterministic"] is True
    assert records == records_again  # losses per epoch, metrics, selection: exactly equal
    assert len(params) == len(params_again) > 0
    assert all(torch.equal(a, b) for a, b in zip(params, params_again, strict=True))


@pytest.mark.parametrize(
    ("train", "config"),
    [
        (train_link, link_config("karate", "ncn", epochs=1, runs=1, hidden_channels=8)),
        (train_node, node_config("default", epochs=1, runs=1, hidden_channels=8)),
    ],
)
def test_runners_without_the_flag_leave_the_algorithms_alone(train: Any, config: Any) -> None:
    seen: list[bool] = []
    train(
        config,
        on_epoch=lambda run, record: seen.append(torch.are_deterministic_algorithms_enabled()),
    )
    assert seen == [False]


def test_grace_runs_inside_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def spy(*args: Any, **kwargs: Any) -> tuple[float, float]:
        # Called once per run, after training; the real probe (LBFGS) would cost seconds.
        seen.append(torch.are_deterministic_algorithms_enabled())
        return 0.0, 0.0

    monkeypatch.setattr(grace_module, "linear_probe", spy)
    cfg = grace_config("default", epochs=1, hidden_channels=8, proj_channels=8)
    first = train_grace(cfg.replace(deterministic=True))
    second = train_grace(cfg.replace(deterministic=True))
    train_grace(cfg)
    assert seen == [True, True, False]
    assert first.final_loss == second.final_loss


def test_a_runner_that_fails_inside_the_switch_restores_the_state() -> None:
    cfg = link_config("karate", "ncn", batch_size=100_000, runs=1, deterministic=True)
    with pytest.raises(ConfigError, match="batch_size"):
        train_link(cfg)
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda v: link_config("karate", deterministic=v), "deterministic"),
        (lambda v: graph_config("CSL", deterministic=v), "deterministic"),
        (lambda v: node_config("default", deterministic=v), "deterministic"),
        (lambda v: grace_config("default", deterministic=v), "deterministic"),
    ],
)
def test_every_config_checks_the_flag(make: Callable[[Any], Any], field: str) -> None:
    assert make(True).deterministic is True
    assert make(False).deterministic is False
    with pytest.raises(ConfigError, match="deterministic must be a bool") as info:
        make("yes")
    assert info.value.field == field


def test_the_flag_is_bookkeeping_for_checkpoints_and_reports(tmp_path: Path) -> None:
    # Checkpoints written without the flag (or before it existed) resume with it.
    plain = link_config("karate", "ncn", epochs=1, runs=1, hidden_channels=8)
    forced = plain.replace(deterministic=True)
    assert config_key(plain) == config_key(forced)
    RunCheckpoints(tmp_path, plain, resume=False).save(0, {"epoch": 1})
    assert RunCheckpoints(tmp_path, forced, resume=True).load(0) == {"epoch": 1}
    # A record from before the field existed groups with the same run recorded after it.
    record = json.loads(json.dumps(train_link(plain).to_records()[0]))
    old = json.loads(json.dumps(record))
    del old["config"]["deterministic"]
    new = json.loads(json.dumps(record))
    new["seed"] = 1
    new["config"]["deterministic"] = True
    groups = group_records([old, new])
    assert len(groups) == 1
    assert groups[0].variant == ()


@pytest.mark.parametrize(
    "argv",
    [
        ["link", "--dataset", "karate"],
        ["graph", "--dataset", "CSL"],
        ["node", "--dataset", "default"],
        ["pretrain", "--dataset", "default"],
    ],
)
def test_the_cli_flag_reaches_the_config(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["deterministic"] is False
    assert main([*argv, "--deterministic", "--print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["deterministic"] is True


def test_a_deterministic_cli_run_records_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs.jsonl"
    argv = ["link", "--dataset", "karate", "--predictor", "ncn", "--epochs", "1", "--runs", "1"]
    assert main([*argv, "--hidden", "8", "--quiet", "--deterministic", "--output", str(out)]) == 0
    capsys.readouterr()
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["config"]["deterministic"] is True
    assert not torch.are_deterministic_algorithms_enabled()


def test_the_switch_makes_a_multi_threaded_cpu_run_bit_identical() -> None:
    """On two threads the backward of advanced indexing accumulates in a varying order: while
    the link path gathered with ``h[pairs[0]]``, this test failed in 1 of 2 tries without the
    switch (losses ~1e-8 apart by the third epoch). With the switch the two runs must not
    differ at all, whichever ops a path uses."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        config = link_config("default", "ncn", epochs=3, runs=1, deterministic=True)
        first = _without_timings(train_link(config).to_records())
        again = _without_timings(train_link(config).to_records())
    finally:
        torch.set_num_threads(threads)
    assert first == again
