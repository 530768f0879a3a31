"""Output paths of the Python runners are refused before any data is loaded (issue 25)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from graphpair.train import (
    ConfigError,
    grace_config,
    graph_config,
    link_config,
    node_config,
    train_grace,
    train_graph,
    train_link,
    train_node,
)

RUNNERS: list[tuple[str, Callable[..., Any], Callable[[], Any]]] = [
    ("graphpair.train._link.load_dataset", train_link, lambda: link_config("karate", epochs=1)),
    ("graphpair.train._graph.load_dataset", train_graph, lambda: graph_config("CSL", epochs=1)),
    ("graphpair.train._node.load_dataset", train_node, lambda: node_config("default", epochs=1)),
    ("graphpair.train._grace.load_dataset", train_grace, lambda: grace_config("cora", epochs=1)),
]


@pytest.mark.parametrize(
    ("loader", "train", "make"), RUNNERS, ids=lambda v: getattr(v, "__name__", "")
)
def test_save_model_under_a_file_is_refused_before_loading(
    loader: str,
    train: Callable[..., Any],
    make: Callable[[], Any],
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("data loaded")

    monkeypatch.setattr(loader, spy)
    file = tmp_path / "a-file"
    file.write_text("")
    for target, message in ((file, "must be a folder"), (file / "model", "is a file")):
        with pytest.raises(ConfigError, match=message) as info:
            train(make(), save_model=target)
        assert info.value.field == "save_model"
        assert str(file) in str(info.value)
    assert calls == []


@pytest.mark.parametrize(
    ("loader", "train", "make"), RUNNERS[:3], ids=lambda v: getattr(v, "__name__", "")
)
def test_checkpoint_dir_and_predictions_under_a_file_are_refused_before_loading(
    loader: str,
    train: Callable[..., Any],
    make: Callable[[], Any],
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def spy(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("data loaded")

    monkeypatch.setattr(loader, spy)
    file = tmp_path / "a-file"
    file.write_text("")
    with pytest.raises(ConfigError, match="is a file") as info:
        train(make(), checkpoint_dir=file / "checkpoints")
    assert info.value.field == "checkpoint_dir"
    with pytest.raises(ConfigError) as info:
        train(make(), save_predictions=file / "scores.csv")
    assert info.value.field == "save_predictions"
