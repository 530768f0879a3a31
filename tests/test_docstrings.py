"""Docstrings as documentation: every doctest passes, every public callable is documented.

The API reference is generated from the ``__all__`` of the public modules, so each public
function and class there must carry an ``Example`` with runnable ``>>>`` lines, an ``Args:``
section (``Attributes:`` for dataclasses) naming each parameter, and a ``Shapes:`` section
when it is a module whose ``forward`` takes tensors. The doctests run with the suite's
``filterwarnings = error``, so an example that warns fails.
"""

from __future__ import annotations

import ast
import dataclasses
import doctest
import importlib
import inspect
import itertools
import pkgutil
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

import graphpair
from tests.test_public_api import PUBLIC_MODULES

DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# ``python -m graphpair`` runs the CLI on import.
_NOT_IMPORTED = {"graphpair.__main__"}

ALL_MODULES = [
    "graphpair",
    *sorted(
        info.name
        for info in pkgutil.walk_packages(graphpair.__path__, prefix="graphpair.")
        if info.name not in _NOT_IMPORTED
    ),
]

# Public callables that need no Example/Args: what they document is when they are raised or
# what a callback receives, not how to call them.
EXEMPT = {
    # exceptions: their docstring says when they are raised
    "graphpair.data.CacheError",
    "graphpair.data.LeakageError",
    "graphpair.data.MissingDataError",
    "graphpair.data.UnsafePickleError",
    "graphpair.losses.NoPairsWarning",
    "graphpair.train.CheckpointError",
    "graphpair.train.ConfigError",
    "graphpair.train.ModelFileError",
    "graphpair.train.ReportError",
    # typing.Protocol callback types: their docstring says what the callback receives
    "graphpair.train.EpochCallback",
    "graphpair.train.GraphRunCallback",
    "graphpair.train.RunCallback",
    "graphpair.train.StepCallback",
}

# napoleon's Google-style section titles, plus the house ``Shapes:``
_TITLES = (
    "Args|Arguments|Attributes|Example|Examples|Keyword Args|Methods|Note|Notes|Raises|"
    "References|Returns|See Also|Shapes|Warning|Warns|Yields"
)
_SECTION = re.compile(rf"^({_TITLES}):\s*$")


def _public_callables() -> list[tuple[str, Any]]:
    found: dict[int, tuple[str, Any]] = {}
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for symbol in module.__all__:
            value = getattr(module, symbol)
            if callable(value) and not symbol.isupper() and not inspect.ismodule(value):
                # a name re-exported by a parent package is checked once, under its home
                found.setdefault(id(value), (f"{name}.{symbol}", value))
    return sorted(found.values(), key=lambda item: item[0])


PUBLIC = _public_callables()
CHECKED = [(name, value) for name, value in PUBLIC if name not in EXEMPT]


def _sections(doc: str) -> dict[str, str]:
    """Google-style sections of a docstring: title -> body text."""
    out: dict[str, str] = {}
    title: str | None = None
    for line in inspect.cleandoc(doc).splitlines():
        match = _SECTION.match(line)
        if match:
            title = match.group(1)
            out[title] = ""
        elif title is not None:
            out[title] += line + "\n"
    return out


def _field_docstrings(cls: type) -> set[str]:
    """Fields of a record class documented by a string literal right after them."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return set()
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    found = set()
    for node, after in itertools.pairwise(body):
        documented = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
        if documented and isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
    return found


def _parameters(value: Callable[..., Any]) -> list[str]:
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # builtins without a signature
        return []
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind not in skip]


@pytest.mark.parametrize("name", ALL_MODULES)
def test_doctests_pass(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    report: list[str] = []
    # examples draw random numbers; keep the global generator of the other tests untouched
    with torch.random.fork_rng():
        for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
            runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)


def test_exemptions_are_exceptions_or_protocols() -> None:
    public = dict(PUBLIC)
    for name in sorted(EXEMPT):
        value = public[name]  # KeyError: a stale entry
        is_exception = isinstance(value, type) and issubclass(value, BaseException)
        assert is_exception or getattr(value, "_is_protocol", False), name
        assert value.__doc__, name
        assert value.__doc__.strip(), name


@pytest.mark.parametrize(("name", "value"), CHECKED, ids=[name for name, _ in CHECKED])
def test_public_callable_has_example_and_args(name: str, value: Any) -> None:
    doc = value.__doc__ or ""
    sections = _sections(doc)
    assert "Example" in sections or "Examples" in sections, f"{name}: no Example section"
    example = sections.get("Example", "") + sections.get("Examples", "")
    assert ">>>" in example, f"{name}: the Example has no >>> line"
    params = _parameters(value)
    if not params:
        return
    # records (dataclasses, named tuples) describe their fields as attributes
    record = dataclasses.is_dataclass(value) or hasattr(value, "_fields")
    documented = "Attributes" if record else "Args"
    body = sections.get(documented, "") or sections.get("Args", "")
    missing = [p for p in params if not re.search(rf"\b{re.escape(p)}\b", body)]
    if missing and record:
        # a record may instead document a field by a string literal after it (autodoc shows it)
        missing = [p for p in missing if p not in _field_docstrings(value)]
    assert not missing, f"{name}: {documented}: does not describe {missing}"


MODULE_CLASSES = [
    (name, value)
    for name, value in CHECKED
    if isinstance(value, type) and issubclass(value, torch.nn.Module)
]


@pytest.mark.parametrize(
    ("name", "value"), MODULE_CLASSES, ids=[name for name, _ in MODULE_CLASSES]
)
def test_module_taking_tensors_has_shapes(name: str, value: type[torch.nn.Module]) -> None:
    parameters = inspect.signature(value.forward).parameters.values()
    if any("Tensor" in str(p.annotation) for p in parameters):
        assert "Shapes" in _sections(value.__doc__ or ""), f"{name}: no Shapes section"


def test_docstrings_hold_no_control_characters() -> None:
    # ``\tau`` or ``\text`` in a docstring that is not a raw string is a tab plus "au"
    bad = re.compile(r"[\x00-\x09\x0b-\x1f]")
    found = []
    for path in sorted(Path(graphpair.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_string = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            if is_string and isinstance(node.value.value, str) and bad.search(node.value.value):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"control characters (unescaped backslashes?) in docstrings at {found}"


def test_every_module_is_collected() -> None:
    assert "graphpair.ops._csr" in ALL_MODULES
    assert set(PUBLIC_MODULES) <= set(ALL_MODULES)
