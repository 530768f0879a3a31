"""Command-line flags and ``--config`` files, both read off a configuration's field declarations."""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pytest

from graphpair.train import ConfigError
from graphpair.train._config_sources import (
    add_config_flags,
    blame_file,
    flag,
    merge_sources,
    read_config_file,
)
from graphpair.train._fields import Bool, Choice, Config, Int, Number, option


def _options(field: str, value: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class Run(Config):
    """A configuration made for these tests.

    Example:
        >>> Run().epochs
        3
    """

    dataset: str = option("a", "the data.", Choice(("a", "b")))
    epochs: int = option(3, "training epochs.", Int(minimum=1))
    clip: float | None = option(None, "clip norm, 100% off by default.", Number(optional=True))
    tlr: bool = option(True, "target link removal.", Bool())
    metrics: tuple[str, ...] = option(("x",), "tracked metrics.", lambda f, v: tuple(v))
    options: Mapping[str, Any] = option(MappingProxyType({}), "loader options.", _options)


@dataclass(frozen=True)
class RunPlusOne(Run):
    """The same with one more field: one declaration, nothing else.

    Example:
        >>> RunPlusOne().warmup_steps
        0
    """

    warmup_steps: int = option(0, "linear warm-up steps.", Int())


def _parser(config: type[Config]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run")
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--config", default=None)
    add_config_flags(parser, config, skip=("dataset",), aliases={"epochs": ("--ep",)})
    return parser


def test_flag_names() -> None:
    assert flag("hidden_channels") == "--hidden-channels"


def test_every_field_is_a_flag_typed_by_its_annotation() -> None:
    parser = _parser(Run)
    args = parser.parse_args(
        ["--ep", "5", "--clip", "none", "--no-tlr", "--metrics", "a, b", "--options", "p=0.5,k=x"]
    )
    assert vars(args) == {
        "dataset": None,
        "config": None,
        "epochs": 5,
        "clip": None,
        "tlr": False,
        "metrics": ("a", "b"),
        "options": {"p": 0.5, "k": "x"},
    }
    assert vars(parser.parse_args([])) == {"dataset": None, "config": None}  # unset: shipped


def test_help_comes_from_the_field_docs() -> None:
    text = _parser(Run).format_help()
    assert "training epochs (default: 3)" in text
    # '%' is escaped for argparse; the default is the field's own
    assert "clip norm, 100% off by default (default: none)" in text


def test_a_new_field_is_a_flag_and_a_file_key_with_no_other_edit(tmp_path: pathlib.Path) -> None:
    args = _parser(RunPlusOne).parse_args(["--warmup-steps", "7"])
    assert args.warmup_steps == 7
    assert "linear warm-up steps (default: 0)" in _parser(RunPlusOne).format_help()
    path = tmp_path / "run.yaml"
    path.write_text("warmup-steps: 9\n")
    assert read_config_file(str(path), RunPlusOne) == {"warmup_steps": 9}
    with pytest.raises(ConfigError, match="unknown field 'warmup-steps'"):
        read_config_file(str(path), Run)


def test_config_files(tmp_path: pathlib.Path) -> None:
    assert read_config_file(None, Run) == {}
    path = tmp_path / "run.yaml"
    path.write_text("")
    assert read_config_file(str(path), Run) == {}
    path.write_text('{"epochs": 4, "tlr": false}')  # JSON is YAML
    assert read_config_file(str(path), Run) == {"epochs": 4, "tlr": False}
    for text, message in (
        ("epoch: 4\n", r"unknown field 'epoch' in '.*'; valid fields: \['dataset', 'epochs'"),
        ("- 4\n", "must hold a mapping of field: value; got list"),
        ("epochs: [4\n", "cannot read"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=message) as info:
            read_config_file(str(path), Run)
        assert info.value.field == "config"


def test_flags_win_over_the_file_and_file_errors_blame_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("dataset: b\nepochs: 0\nclip: 2.0\n")
    args = _parser(Run).parse_args(["--config", str(path), "--clip", "3"])
    chosen, overrides, from_file = merge_sources(args, Run, ("dataset",))
    assert chosen == {"dataset": "b"}
    assert overrides == {"epochs": 0, "clip": 3.0}
    assert from_file == {"epochs"}
    with pytest.raises(ConfigError, match="in '.*': epochs must be >= 1; got 0") as info:
        blame_file(lambda: Run(**overrides), from_file, str(path))
    assert info.value.field == "config"
    with pytest.raises(ConfigError) as info:
        blame_file(lambda: Run(epochs=-1), set(), str(path))
    assert info.value.field == "epochs"  # a flag's error names the flag


def test_a_subclass_documents_the_inherited_fields_too() -> None:
    doc = RunPlusOne.__doc__ or ""
    assert doc.index("    dataset: the data.") < doc.index("    warmup_steps: linear warm-up")
