"""Where a run configuration's values come from outside the code: command-line flags and a
YAML (or JSON) ``--config`` file, both read off the fields that :mod:`graphpair.train._fields`
declares.

Every field of a :class:`~graphpair.train._fields.Config` is a ``--field-name`` flag (its type
from the annotation, its help from the field's doc) and a ``field_name:`` key of a file. The
runners' commands merge them as: the dataset's shipped configuration < the file < the flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from graphpair.train._fields import Config, ConfigError, field_help

__all__ = ["Sources", "add_config_flags", "blame_file", "flag", "merge_sources", "read_config_file"]

T = TypeVar("T")


def flag(field: str) -> str:
    """The flag of a field: ``'hidden_channels'`` -> ``'--hidden-channels'``."""
    return "--" + field.replace("_", "-")


def _optional(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text.strip().lower() == "none" else kind(text)

    parse.__name__ = getattr(kind, "__name__", "value")
    return parse


def _name_list(text: str) -> tuple[str, ...]:
    """``'hits@20, mrr'`` -> ``('hits@20', 'mrr')``."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _option_value(text: str) -> Any:
    """A JSON scalar (``0.3``, ``100``, ``true``, ``null``), else the text itself."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, (bool, int, float, str, type(None))) else text


def _key_values(text: str) -> dict[str, Any]:
    """``'p=0.3,num_features=7'`` -> ``{'p': 0.3, 'num_features': 7}``."""
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE pairs; got {part!r}")
        out[key.strip()] = _option_value(value.strip())
    return out


def add_config_flags(
    parser: argparse.ArgumentParser,
    config_class: type[Config],
    *,
    skip: tuple[str, ...] = (),
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    shipped: bool = True,
) -> None:
    """One flag per field of ``config_class`` except ``skip`` (which the command adds itself),
    with the field's doc, choices and default as help (:func:`field_help`); ``aliases`` adds
    shorter spellings. Unset flags stay out of the namespace, so the dataset's shipped values
    apply (``shipped``: the command has shipped per-dataset values, which the group's title
    says).

    Booleans get ``--name`` / ``--no-name``, tuples a comma-separated list, mappings
    ``KEY=VALUE,...``, optional fields accept ``none``.
    """
    hints = typing.get_type_hints(config_class)
    group = parser.add_argument_group(
        "configuration (each default is the field's; a dataset's shipped configuration may "
        "set another: --print-config shows the values a run will use)"
        if shipped
        else "configuration (--print-config shows the values a run will use)"
    )
    for spec in dataclasses.fields(config_class):
        if spec.name in skip:
            continue
        hint = hints[spec.name]
        args = hint.__args__ if isinstance(hint, types.UnionType) else (hint,)
        base = next(a for a in args if a is not type(None))
        optional = type(None) in args
        names = (flag(spec.name), *(aliases or {}).get(spec.name, ()))
        kwargs: dict[str, Any] = {"dest": spec.name, "default": argparse.SUPPRESS}
        metavar = getattr(spec.metadata["check"], "metavar", None)
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(base) is tuple:
            kwargs["type"] = _name_list
            kwargs["metavar"] = metavar or "A,B"
        elif typing.get_origin(base) is Mapping:
            kwargs["type"] = _key_values
            kwargs["metavar"] = "KEY=VALUE,..."
        else:
            kwargs["type"] = _optional(base) if optional else base
            kwargs["metavar"] = (metavar or base.__name__.upper()) + ("|none" if optional else "")
        group.add_argument(*names, help=field_help(spec), **kwargs)


def read_config_file(path: str | None, config_class: type[Config]) -> dict[str, Any]:
    """The ``field: value`` mapping of a YAML (or JSON) file, keys checked against the fields
    of ``config_class`` (dashes read as underscores); ``{}`` without a path. The values are
    checked when the configuration is built.

    Raises:
        ConfigError: ``field='config'``: the file is unreadable, not a mapping, or names an
            unknown field.
    """
    if path is None:
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError("config", f"cannot read {path!r}: {err}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            "config", f"{path!r} must hold a mapping of field: value; got {type(loaded).__name__}"
        )
    names = config_class.field_names()
    values = {}
    for key, value in loaded.items():
        name = str(key).replace("-", "_")
        if name not in names:
            raise ConfigError("config", f"unknown field {key!r} in {path!r}; valid fields: {names}")
        values[name] = value
    return values


class Sources(NamedTuple):
    """The values a command was given, merged (see :func:`merge_sources`)."""

    #: the selector fields (dataset, model ...): the flag's value, else the file's, else None
    chosen: dict[str, Any]
    #: every other field set by the file or a flag (flags win)
    overrides: dict[str, Any]
    #: the fields only the file set, so their errors are blamed on the file
    from_file: set[str]


def merge_sources(
    args: argparse.Namespace, config_class: type[Config], selectors: tuple[str, ...]
) -> Sources:
    """``--config`` <- flags, for a command that added :func:`add_config_flags` and a
    ``--config`` flag; ``selectors`` are the fields the command reads itself (a
    comma-separated list of models, say), whose flags default to ``None``."""
    from_file = read_config_file(args.config, config_class)
    fields = set(config_class.field_names()) - set(selectors)
    flags = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    chosen = {
        name: getattr(args, name) if getattr(args, name) is not None else from_file.get(name)
        for name in selectors
    }
    overrides = {k: v for k, v in from_file.items() if k not in selectors}
    overrides.update(flags)
    return Sources(chosen, overrides, set(overrides) - set(flags))


def blame_file(make: Callable[[], T], from_file: set[str], path: str | None) -> T:
    """``make()``, with an error about a value that came from the ``--config`` file blamed
    on the file rather than on a flag."""
    try:
        return make()
    except ConfigError as err:
        if err.field in from_file:
            raise ConfigError("config", f"in {path!r}: {err}") from None
        raise
