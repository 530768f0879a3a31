"""One configuration mechanism for every runner: each field declared once, with its check and doc.

A run configuration (:class:`~graphpair.train.LinkConfig`, :class:`~graphpair.train.GraphConfig`,
:class:`~graphpair.train.NodeConfig`, :class:`~graphpair.train.GRACEConfig`) is a frozen
dataclass deriving from :class:`Config`, whose fields are declared with :func:`option`::

    hidden_channels: int = option(256, "width of every layer", Int(minimum=1))

That line is the whole definition of the field. From it come its type and default (the
dataclass), its check and normalisation (run by :class:`Config` at construction, so
``replace``, a YAML file and a flag are checked alike), its entry in the ``Attributes`` section
of the class docstring (written when the class is defined: the documentation cannot drift from
the fields), and, through :mod:`graphpair.train._config_sources`, its ``--hidden-channels``
flag with that text as help and its ``hidden_channels:`` key in a ``--config`` YAML file.
Rules that tie several fields together (GRIT's heads must divide the width) go in the class's
:meth:`Config.check_together`.

Numbers are checked, never converted: ``beta=1`` stays the int ``1``, because records hold
``to_dict()`` and checkpoints are keyed on the values (:func:`~graphpair.train.config_key`).
Names are normalised: choices case- and separator-insensitively, datasets to their registered
spelling, paths to ``str``, ``device='auto'`` to the device found.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar, cast

import torch

from graphpair._validation import describe, normalize_name
from graphpair.data import DatasetSpec, get_spec

__all__ = [
    "SAMPLERS",
    "Bool",
    "Check",
    "Choice",
    "Config",
    "ConfigError",
    "Dataset",
    "Device",
    "Fanout",
    "FieldCheck",
    "Int",
    "Number",
    "Path",
    "Probability",
    "auto_device",
    "cache_option",
    "data_root_option",
    "default_text",
    "deterministic_option",
    "device_option",
    "download_option",
    "fanout_option",
    "field_help",
    "memory_check_option",
    "option",
    "sampler_option",
]

T = TypeVar("T")
C = TypeVar("C", bound="Config")

#: A field's check: called as ``check(field_name, value)``, it returns the value to store or
#: raises :class:`ConfigError` naming the field.
FieldCheck = Callable[[str, Any], Any]

# Keys of a field's metadata.
_DOC = "doc"
_CHECK = "check"


class ConfigError(ValueError):
    """An invalid configuration value; its ``field`` attribute names the field.

    Raised when a run configuration (:class:`~graphpair.train.LinkConfig`,
    :class:`~graphpair.train.GraphConfig`, :class:`~graphpair.train.NodeConfig`,
    :class:`~graphpair.train.GRACEConfig`) is built with a bad value, and by the runners when
    the data do not fit the configuration or a runner argument is invalid (``field`` is then
    e.g. ``'dataset_options'`` or ``'resume'``).

    Args:
        field: The name of the offending field or argument.
        message: What is wrong, naming the value.

    Example:
        >>> from graphpair.train import link_config
        >>> try:
        ...     link_config("karate", hidden_channels=0)
        ... except ConfigError as err:
        ...     print(err.field, "|", err)
        hidden_channels | hidden_channels must be >= 1; got 0
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def option(default: T, doc: str, check: FieldCheck) -> T:
    """Declare a configuration field: its default, its documentation and its check.

    ``doc`` is a phrase in the docstrings' reStructuredText (roles and literals allowed); it
    becomes the field's ``Attributes`` entry and, in plain text, its command-line help.
    """
    metadata = {_DOC: doc, _CHECK: check}
    if isinstance(default, Mapping):  # dataclasses refuse a mapping default: a read-only copy
        items = dict(default)
        factory = dataclasses.field(
            default_factory=lambda: MappingProxyType(dict(items)), metadata=metadata
        )
        return cast(T, factory)
    return dataclasses.field(default=default, metadata=metadata)


# ------------------------------------------------------------------------------------ checks


class Check:
    """Base of the declarative checks: ``None`` passes when ``optional``, anything else goes to
    :meth:`check`. Every message reads ``"<field> must be <requirement>; got <value>"``."""

    #: How the command-line help names the flag's value (``None``: from the field's type).
    metavar: str | None = None

    def __init__(self, *, optional: bool = False) -> None:
        self.optional = optional

    def __call__(self, field: str, value: Any) -> Any:
        if value is None and self.optional:
            return None
        return self.check(field, value)

    def check(self, field: str, value: Any) -> Any:
        """The value to store for a non-``None`` ``value``, or a :class:`ConfigError`."""
        raise NotImplementedError

    def fail(self, field: str, requirement: str, value: Any) -> ConfigError:
        """The error for a value that is not ``requirement`` (``or None`` when optional)."""
        if self.optional:
            requirement += " or None"
        return ConfigError(field, f"{field} must be {requirement}; got {describe(value)}")

    @property
    def hint(self) -> str:
        """What the command-line help adds to the field's doc (the choices, say)."""
        return ""


class Choice(Check):
    """One of ``choices``, matched case- and separator-insensitively (``'NCN_Diff'`` ->
    ``'ncn-diff'``); stores the canonical spelling."""

    metavar = "NAME"

    def __init__(self, choices: Sequence[str], *, optional: bool = False) -> None:
        super().__init__(optional=optional)
        self.choices = tuple(choices)
        self._table = {normalize_name(c): c for c in self.choices}

    def check(self, field: str, value: Any) -> str:
        if isinstance(value, str):
            found = self._table.get(normalize_name(value))
            if found is not None:
                return found
        raise self.fail(field, f"one of {list(self.choices)}", value)

    @property
    def hint(self) -> str:
        return "choices: " + ", ".join(self.choices)


class Int(Check):
    """An ``int`` (not a ``bool``) of at least ``minimum``."""

    def __init__(self, minimum: int = 0, *, optional: bool = False) -> None:
        super().__init__(optional=optional)
        self.minimum = minimum

    def check(self, field: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, "an int", value)
        if value < self.minimum:
            raise self.fail(field, f">= {self.minimum}", value)
        return value


class Number(Check):
    """A finite ``int`` or ``float`` (not a ``bool``), above ``above`` / at least ``at_least``
    / below ``below`` where given; ``note`` explains the bound in the message. The value is
    stored as given (an int stays an int)."""

    def __init__(
        self,
        *,
        above: float | None = None,
        at_least: float | None = None,
        below: float | None = None,
        note: str = "",
        optional: bool = False,
    ) -> None:
        super().__init__(optional=optional)
        self.above, self.at_least, self.below, self.note = above, at_least, below, note

    def check(self, field: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, "a finite number", value)
        if not math.isfinite(value):
            raise self.fail(field, "a finite number", value)
        low_ok = self.above is None or value > self.above
        low_ok = low_ok and (self.at_least is None or value >= self.at_least)
        if not (low_ok and (self.below is None or value < self.below)):
            raise self.fail(field, self._bounds(), value)
        return value

    def _bounds(self) -> str:
        if self.above is not None and self.below is not None:
            text = f"in ({self.above:g}, {self.below:g})"
        elif self.above is not None:
            text = f"> {self.above:g}"
        elif self.at_least is not None:
            text = f">= {self.at_least:g}"
        else:
            text = f"< {self.below:g}"
        return f"{text} ({self.note})" if self.note else text


class Probability(Number):
    """A dropout-like rate: a finite number in ``[0, 1)``."""

    def __init__(self) -> None:
        super().__init__(at_least=0.0, below=1.0)

    def _bounds(self) -> str:
        return "a probability in [0, 1)"


class Bool(Check):
    """A ``bool`` (``1`` and ``'yes'`` are refused: a YAML typo should not pass)."""

    def check(self, field: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(field, "a bool", value)
        return value


class Path(Check):
    """A ``str`` or ``os.PathLike``, stored as ``str``; with ``exists='folder'`` or ``'file'``
    it must name an existing one. Optional by default (``None``: the runner's default)."""

    metavar = "PATH"

    def __init__(
        self, *, exists: str | None = None, what: str = "a path", optional: bool = True
    ) -> None:
        super().__init__(optional=optional)
        self.exists, self.what = exists, what

    def check(self, field: str, value: Any) -> str:
        if not isinstance(value, (str, os.PathLike)):
            raise self.fail(field, self.what, value)
        path = os.fspath(value)
        if not isinstance(path, str):  # a bytes path
            raise self.fail(field, self.what, value)
        found = {"folder": os.path.isdir, "file": os.path.isfile}.get(self.exists or "")
        if found is not None and not found(path):
            raise ConfigError(field, f"{field} must be an existing {self.exists}; got {path!r}")
        return path


def auto_device() -> str:
    """What ``device='auto'`` resolves to: ``'cuda'`` when CUDA is available, else ``'cpu'``
    (one function, so that a test suite can pin its runs to the CPU)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class Device(Check):
    """A torch device name (``'cpu'``, ``'cuda:1'``), stored as torch spells it, or
    ``'auto'``: CUDA when available, else the CPU."""

    metavar = "DEVICE"

    def check(self, field: str, value: Any) -> str:
        requirement = "'auto' or a torch device name such as 'cpu' or 'cuda:0'"
        if value == "auto":
            return auto_device()
        if not isinstance(value, (str, torch.device)):
            raise self.fail(field, requirement, value)
        try:
            return str(torch.device(value))
        except (RuntimeError, ValueError):
            raise self.fail(field, requirement, value) from None


class Fanout(Check):
    """Neighbours sampled per node and layer: a non-empty tuple of ints >= 1 (``-1`` = every
    neighbour), one per layer, or one value for every layer; stored as a tuple of ints. The
    command line gives ``15,10``."""

    metavar = "N1,N2"

    def check(self, field: str, value: Any) -> tuple[int, ...]:
        requirement = "a non-empty tuple of neighbour counts >= 1 (or -1 for all)"
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
            raise self.fail(field, requirement, value)
        out = []
        for item in value:
            if isinstance(item, str) and item.strip().lstrip("-").isdigit():
                item = int(item)
            if isinstance(item, bool) or not isinstance(item, int) or (item < 1 and item != -1):
                raise self.fail(field, requirement, value)
            out.append(item)
        return tuple(out)

    @property
    def hint(self) -> str:
        return "separated by commas, one per layer or one for all"


class Dataset(Check):
    """A registered dataset name (case- and separator-insensitive), stored as registered;
    ``rule(spec)`` returns why the runner cannot take that dataset, or ``None``."""

    metavar = "NAME"

    def __init__(self, rule: Callable[[DatasetSpec], str | None] | None = None) -> None:
        super().__init__()
        self.rule = rule

    def check(self, field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(field, "a registered dataset name", value)
        try:
            spec = get_spec(value)
        except ValueError as err:
            raise ConfigError(field, str(err)) from None
        problem = None if self.rule is None else self.rule(spec)
        if problem is not None:
            raise ConfigError(field, f"{field} must be {problem}")
        return spec.name


# -------------------------------------------------------------------------------- the base


# ------------------------------------------------------------------------ shared fields
# The fields every runner has (where it runs, where its data is): declared here once, each
# config takes a fresh dataclass field from these.


def device_option() -> str:
    """The ``device`` field."""
    return option(
        "auto",
        "where the run computes: ``'auto'`` (the GPU when CUDA is available, else the CPU; "
        "resolved when the configuration is built, so records name the device that ran), "
        "``'cpu'`` or ``'cuda[:i]'``. Bookkeeping: it does not change the configuration's "
        "checkpoint or report identity.",
        Device(),
    )


#: How a training step sees the graph: ``'full'`` = the encoder runs on the whole graph every
#: step; ``'neighbor'`` = on the sampled computation subgraph of the step's nodes (``fanout``
#: neighbours per node and layer), and evaluation by layer-wise inference over node chunks.
SAMPLERS = ("full", "neighbor")


def sampler_option() -> str:
    """The ``sampler`` field."""
    return option(
        "full",
        "``'full'``: the encoder runs on the whole graph every step; ``'neighbor'``: on the "
        "sampled computation subgraph of the step's nodes (``fanout`` neighbours per node "
        "and layer), for graphs whose full-batch pass does not fit or is too slow.",
        Choice(SAMPLERS),
    )


def fanout_option() -> tuple[int, ...]:
    """The ``fanout`` field."""
    return option(
        (10,),
        "neighbours sampled per node for each encoder layer with ``sampler='neighbor'`` "
        "(first layer first; the last value repeats for deeper encoders, ``-1`` = all; more "
        "values than layers is an error).",
        Fanout(),
    )


def memory_check_option() -> bool:
    """The ``memory_check`` field."""
    return option(
        True,
        "estimate the run's peak memory before training and refuse, naming the flag that "
        "helps, when it exceeds the memory available.",
        Bool(),
    )


def data_root_option() -> str | None:
    """The ``data_root`` field."""
    return option(
        None, "folder of raw datasets (default ``$GRAPHPAIR_DATA``).", Path(exists="folder")
    )


def cache_option() -> str | None:
    """The ``cache`` field."""
    return option(None, "folder for processed caches (default ``$GRAPHPAIR_CACHE``).", Path())


def download_option() -> bool:
    """The ``download`` field."""
    return option(True, "fetch missing raw files when online.", Bool())


def deterministic_option() -> bool:
    """The ``deterministic`` field."""
    return option(
        False,
        "run the whole training inside :func:`graphpair.train.deterministic` (torch's "
        "deterministic algorithms). Bookkeeping: it does not change the configuration's "
        "checkpoint or report identity.",
        Bool(),
    )


class Config:
    """Base of the run configurations: checks at construction, ``replace``, ``to_dict``,
    ``from_mapping``, and the ``Attributes`` section written from the fields' docs.

    A subclass is a ``@dataclass(frozen=True)`` whose every field is an :func:`option`; its
    docstring has no ``Attributes`` section of its own (the one written here goes before its
    ``Example``).
    """

    # Declared for the type checker: subclasses are dataclasses.
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _with_attributes(cls)

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = spec.metadata[_CHECK](spec.name, getattr(self, spec.name))
            object.__setattr__(self, spec.name, value)  # frozen: normalised once, here
        self.check_together()

    def check_together(self) -> None:
        """Rules between fields, run after every field's own check (none here)."""

    @classmethod
    def field_names(cls) -> list[str]:
        """The fields, in declaration order."""
        return [spec.name for spec in dataclasses.fields(cls)]

    @classmethod
    def check_names(cls, names: Iterable[str]) -> None:
        """Raise :class:`ConfigError` (``field`` = the name) for the first unknown name."""
        known = cls.field_names()
        for name in names:
            if name not in known:
                raise ConfigError(
                    name, f"unknown {cls.__name__} field {name!r}; valid fields: {known}"
                )

    @classmethod
    def resolve(cls, name: str, value: Any) -> Any:
        """``value`` checked and normalised as field ``name`` would be (``'cora'`` ->
        ``'Cora'`` for a dataset), without building a configuration."""
        return cls.__dataclass_fields__[name].metadata[_CHECK](name, value)

    @classmethod
    def from_mapping(cls: type[C], values: Mapping[str, Any]) -> C:
        """A configuration from ``field: value`` pairs (a loaded YAML or JSON file, a record's
        ``config``); dashes in keys read as underscores, unknown keys raise
        :class:`ConfigError`."""
        changes = {str(key).replace("-", "_"): value for key, value in values.items()}
        cls.check_names(changes)
        return cls(**changes)

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes`` applied (and checked); unknown names raise
        :class:`ConfigError`."""
        self.check_names(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict, in field order (tuples become lists,
        mappings dicts)."""
        return {name: _plain(getattr(self, name)) for name in self.field_names()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _field_docs(cls: type) -> dict[str, str]:
    """``name -> doc`` of the fields ``cls`` declares, refusing a field without :func:`option`
    (before ``@dataclass`` has run: the class attributes are still ``Field`` objects)."""
    docs = {  # inherited fields first, as dataclasses orders them
        spec.name: spec.metadata.get(_DOC, "")
        for base in reversed(cls.__mro__[1:])
        for spec in vars(base).get("__dataclass_fields__", {}).values()
    }
    for name, annotation in vars(cls).get("__annotations__", {}).items():
        if "ClassVar" in str(annotation):
            continue
        spec = vars(cls).get(name)
        if not isinstance(spec, dataclasses.Field) or _DOC not in spec.metadata:
            raise TypeError(
                f"{cls.__name__}.{name}: declare configuration fields with "
                "option(default, doc, check)"
            )
        docs[name] = spec.metadata[_DOC]
    return docs


def _with_attributes(cls: type) -> str:
    """The class docstring with an ``Attributes`` section from the fields' docs, placed
    before the ``Example``."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    if re.search(r"^Attributes:", doc, flags=re.MULTILINE):
        raise TypeError(f"{cls.__name__}: the Attributes section is written from the fields")
    entries = [
        textwrap.fill(
            f"{name}: {text}",
            width=96,
            initial_indent="    ",
            subsequent_indent="        ",
            break_on_hyphens=False,
            break_long_words=False,
        )
        for name, text in _field_docs(cls).items()
    ]
    section = "Attributes:\n" + "\n".join(entries)
    head, found, example = doc.partition("\nExample:")
    return f"{head.rstrip()}\n\n{section}\n" + (f"\nExample:{example}\n" if found else "")


_ROLE = re.compile(r":([a-z:]+):`~?([^`]+)`")


def _unmark(match: re.Match[str]) -> str:
    role, text = match.groups()
    if role == "math":  # help is plain text: \tau -> tau, \, -> nothing
        return re.sub(r"\\([A-Za-z]+)", r"\1", text).replace("\\,", "")
    return text


def default_text(spec: dataclasses.Field[Any]) -> str:
    """A field's default as the command line spells it: ``on`` / ``off`` for a bool,
    ``none`` for ``None``, ``A,B`` for a tuple, ``KEY=VALUE,...`` for a mapping.

    Example:
        >>> from graphpair.train import LinkConfig
        >>> specs = {spec.name: spec for spec in dataclasses.fields(LinkConfig)}
        >>> [default_text(specs[name]) for name in ("conv", "tlr", "patience", "metrics")]
        ['puregcn', 'on', 'none', 'hits@20,hits@50,hits@100']
    """
    factory: Any = spec.default_factory  # option() gives every field a default or a factory
    value = spec.default if spec.default is not dataclasses.MISSING else factory()
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def field_help(spec: dataclasses.Field[Any]) -> str:
    """A field's doc as command-line help: plain text (roles and literals unmarked, ``%``
    escaped for argparse), then what its check adds (the choices), then its default."""
    text = _ROLE.sub(_unmark, spec.metadata[_DOC]).replace("``", "")
    hint = getattr(spec.metadata[_CHECK], "hint", "")
    if hint:
        text = f"{text.rstrip('.')}; {hint}"
    text = f"{text.rstrip('.')} (default: {default_text(spec)})"
    return text.replace("%", "%%")
