"""The configuration mechanism every runner shares: declared fields, their checks and docs."""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from graphpair.train import ConfigError, GRACEConfig, GraphConfig, LinkConfig, NodeConfig
from graphpair.train._config import ConfigError as ConfigErrorOfConfig
from graphpair.train._fields import (
    Bool,
    Choice,
    Config,
    Dataset,
    Device,
    Int,
    Number,
    Path,
    Probability,
    default_text,
    field_help,
    option,
)

CONFIGS = (LinkConfig, GraphConfig, NodeConfig, GRACEConfig)


@dataclass(frozen=True)
class Toy(Config):
    """A configuration made for these tests.

    Example:
        >>> Toy(size=3).size
        3
    """

    size: int = option(2, "how many (at least ``1``).", Int(minimum=1))
    kind: str = option("fast", "one of :data:`KINDS`.", Choice(("fast", "slow-and-steady")))
    rate: float = option(0.5, "a rate, 50% by default.", Probability())
    names: tuple[str, ...] = option(("a",), "some names.", lambda field, value: tuple(value))

    def check_together(self) -> None:
        if self.kind == "fast" and self.size > 10:
            raise ConfigError("size", "size must be <= 10 when kind is 'fast'")


def test_config_error_is_one_class_with_the_field() -> None:
    assert ConfigError is ConfigErrorOfConfig
    err = ConfigError("epochs", "epochs must be >= 1; got 0")
    assert isinstance(err, ValueError)
    assert (err.field, str(err)) == ("epochs", "epochs must be >= 1; got 0")


@pytest.mark.parametrize(
    ("check", "value", "stored"),
    [
        (Choice(("ncn", "ncn-diff")), "NCN_Diff", "ncn-diff"),
        (Int(minimum=1), 3, 3),
        (Int(minimum=1, optional=True), None, None),
        (Number(), 1, 1),  # checked, not converted: an int stays an int (config keys)
        (Number(above=0, below=1), 0.5, 0.5),
        (Probability(), 0.0, 0.0),
        (Bool(), False, False),
        (Path(), pathlib.PurePosixPath("a/b"), "a/b"),
        (Device(), "cpu", "cpu"),
        (Dataset(), "CORA", "Cora"),
    ],
)
def test_checks_store_normalised_values(check: Any, value: Any, stored: Any) -> None:
    got = check("field", value)
    assert got == stored
    assert type(got) is type(stored)


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (Choice(("a", "b")), "c", "x must be one of ['a', 'b']; got 'c'"),
        (Choice(("a", "b")), 1, "x must be one of ['a', 'b']; got 1"),
        (Int(minimum=1), 0, "x must be >= 1; got 0"),
        (Int(minimum=1), True, "x must be an int; got True"),
        (Int(minimum=1), 2.0, "x must be an int; got 2.0"),
        (Int(minimum=1, optional=True), 0, "x must be >= 1 or None; got 0"),
        (Number(), float("nan"), "x must be a finite number; got nan"),
        (Number(), "1", "x must be a finite number; got '1'"),
        (Number(above=0), 0, "x must be > 0; got 0"),
        (Number(at_least=0), -1, "x must be >= 0; got -1"),
        (Number(above=0, below=1), 1.0, "x must be in (0, 1); got 1.0"),
        (Number(above=0, note="a prior"), 0.0, "x must be > 0 (a prior); got 0.0"),
        (Number(above=0, optional=True), 0.0, "x must be > 0 or None; got 0.0"),
        (Probability(), 1.0, "x must be a probability in [0, 1); got 1.0"),
        (Bool(), 1, "x must be a bool; got 1"),
        (Bool(optional=True), "yes", "x must be a bool or None; got 'yes'"),
        (Path(), 3, "x must be a path or None; got 3"),
        (Path(exists="folder"), "/no/such/folder", "x must be an existing folder; got '/no"),
        (Device(), "warp-drive", "x must be 'auto' or a torch device name"),
        (Dataset(), "nope", "unknown dataset 'nope'"),
        (Dataset(lambda spec: f"a link dataset; {spec.name!r} is not"), "zinc", "x must be a link"),
    ],
)
def test_checks_name_the_field_the_requirement_and_the_value(
    check: Any, value: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        check("x", value)
    assert info.value.field == "x"
    assert message in str(info.value)


def test_device_auto_resolves_when_built() -> None:
    assert Device()("device", "auto") in ("cpu", "cuda")


def test_fields_are_checked_and_normalised_at_construction_and_replace() -> None:
    toy = Toy(kind="Slow_And_Steady", names=["b"])
    assert (toy.kind, toy.names) == ("slow-and-steady", ("b",))
    with pytest.raises(ConfigError, match="size must be >= 1; got 0"):
        Toy(size=0)
    with pytest.raises(ConfigError, match="size must be <= 10 when kind is 'fast'"):
        toy.replace(kind="fast", size=11)
    with pytest.raises(dataclasses.FrozenInstanceError):
        toy.size = 3  # type: ignore[misc]


def test_replace_from_mapping_and_to_dict() -> None:
    toy = Toy.from_mapping({"size": 4, "names": ["x", "y"]})
    assert toy == Toy(size=4, names=("x", "y"))
    assert toy.to_dict() == {"size": 4, "kind": "fast", "rate": 0.5, "names": ["x", "y"]}
    assert Toy.from_mapping(json.loads(json.dumps(toy.to_dict()))) == toy
    assert Toy.from_mapping({"size": 4}).replace(size=5).size == 5
    with pytest.raises(ConfigError, match=r"unknown Toy field 'colour'; valid fields: \['size'"):
        Toy.from_mapping({"colour": "red"})
    with pytest.raises(ConfigError) as info:
        toy.replace(sise=3)
    assert info.value.field == "sise"
    assert Toy.resolve("kind", "SLOW and steady") == "slow-and-steady"


def test_the_attributes_section_is_written_from_the_fields() -> None:
    doc = Toy.__doc__ or ""
    assert doc.index("Attributes:") < doc.index("Example:")
    assert "    size: how many (at least ``1``)." in doc
    assert "    kind: one of :data:`KINDS`." in doc


def test_a_field_without_option_or_a_written_attributes_section_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Bad.size: declare configuration fields with option"):

        @dataclass(frozen=True)
        class Bad(Config):
            """No."""

            size: int = 3

    with pytest.raises(TypeError, match="the Attributes section is written from the fields"):

        @dataclass(frozen=True)
        class Twice(Config):
            """No.

            Attributes:
                size: written twice.
            """

            size: int = option(3, "a size.", Int())


def test_field_help_is_plain_text_with_the_choices() -> None:
    size, kind, rate, _ = dataclasses.fields(Toy)
    assert field_help(size) == "how many (at least 1) (default: 2)"
    assert field_help(kind) == "one of KINDS; choices: fast, slow-and-steady (default: fast)"
    # argparse formats help with %
    assert field_help(rate) == "a rate, 50%% by default (default: 0.5)"


def test_default_text_spells_defaults_as_the_command_line_reads_them() -> None:
    @dataclass(frozen=True)
    class Kinds(Config):
        """Defaults of every kind.

        Example:
            >>> Kinds().on
            True
        """

        on: bool = option(True, "a switch.", Bool())
        off: bool = option(False, "another.", Bool())
        nothing: int | None = option(None, "maybe.", Int(optional=True))
        many: tuple[int, ...] = option((15, 10), "a list.", lambda field, value: tuple(value))
        pairs: Mapping[str, Any] = option({"p": 0.3}, "options.", lambda field, value: value)
        rate: float = option(5e-4, "a rate.", Probability())

    texts = [default_text(spec) for spec in dataclasses.fields(Kinds)]
    assert texts == ["on", "off", "none", "15,10", "p=0.3", "0.0005"]
    # what each text stands for parses back to the default through the flag
    from graphpair.train._config_sources import add_config_flags

    parser = argparse.ArgumentParser()
    add_config_flags(parser, Kinds)
    args = parser.parse_args(["--many", texts[3], "--pairs", texts[4], "--rate", texts[5]])
    assert (tuple(int(v) for v in args.many), dict(args.pairs), args.rate) == (
        (15, 10),
        {"p": 0.3},
        5e-4,
    )


@pytest.mark.parametrize("config", CONFIGS, ids=[c.__name__ for c in CONFIGS])
def test_every_runner_config_documents_every_field_in_order(config: type[Config]) -> None:
    doc = config.__doc__ or ""
    section = doc[doc.index("Attributes:") : doc.index("Example:")]
    documented = re.findall(r"^    (\w+): ", section, flags=re.MULTILINE)
    assert documented == config.field_names()
    for spec in dataclasses.fields(config):
        assert spec.metadata["doc"].strip(), spec.name
        assert callable(spec.metadata["check"]), spec.name
        assert "``" not in field_help(spec)
        assert ":data:" not in field_help(spec)


@pytest.mark.parametrize("config", CONFIGS, ids=[c.__name__ for c in CONFIGS])
def test_defaults_round_trip_through_to_dict(config: type[Config]) -> None:
    default = config()
    assert config.from_mapping(json.loads(json.dumps(default.to_dict()))) == default
    assert list(default.to_dict()) == config.field_names()


def test_numbers_are_stored_as_given() -> None:
    # records hold to_dict() and checkpoints are keyed on it: 1 and 1.0 must stay apart
    config = LinkConfig(dataset="karate", beta=1, gnnlr=1)
    assert (config.beta, config.gnnlr) == (1, 1)
    assert isinstance(config.to_dict()["beta"], int)


def test_auto_device_is_one_function_a_suite_can_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from graphpair.train import _fields

    assert _fields.auto_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    assert LinkConfig().device == _fields.auto_device()  # the default is 'auto'
    monkeypatch.setattr(_fields, "auto_device", lambda: "cpu")
    assert LinkConfig().device == "cpu"
    assert NodeConfig(device="auto").device == "cpu"
    assert LinkConfig(device="cuda:1").device == "cuda:1"  # an explicit device stays
