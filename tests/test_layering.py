"""The package's import graph: no cycles between files, and the layering of DESIGN.md.

Layers, bottom to top: ``ops`` -> ``transforms`` -> ``nn`` -> ``losses`` / ``data`` /
``metrics`` -> ``train`` -> ``cli``. A module may import its own layer (without a cycle) and
the layers below it, never one above. The root's private helpers (``graphpair._validation``,
``graphpair._version``) sit below every layer; the root package ``graphpair`` itself is the
public facade above them all, imported by nothing inside the package. Every import counts:
module level, inside functions, and under ``TYPE_CHECKING``. No module imports one of the
package's own modules by a string (``importlib.import_module("graphpair...")``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "graphpair"

#: Layer of each top-level part of the package (DESIGN.md, "Layers").
LAYERS = {
    "_validation": 0,
    "_version": 0,
    "ops": 1,
    "transforms": 2,
    "nn": 3,
    "losses": 4,
    "data": 4,
    "metrics": 4,
    "train": 5,
    "cli": 6,
    "__main__": 7,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str:
    """The module a dotted import name lands in (``graphpair.nn.SINC`` -> ``graphpair.nn``)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for every import of the package's own modules."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "graphpair":
                    yield _resolve(alias.name), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            if stem.split(".")[0] != "graphpair":
                continue
            for alias in node.names:
                target = f"{stem}.{alias.name}"
                yield (target if target in MODULES else _resolve(stem)), node.lineno


def _graph() -> dict[str, set[str]]:
    return {m: {t for t, _ in _imports(m) if t != m} for m in MODULES}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return None if len(parts) == 1 else LAYERS[parts[1]]


def test_every_part_of_the_package_has_a_layer() -> None:
    tops = {m.split(".")[1] for m in MODULES if "." in m}
    assert tops <= set(LAYERS), f"parts without a layer in this test: {tops - set(LAYERS)}"


def test_nothing_imports_upward_or_the_root_package() -> None:
    wrong = []
    for module in MODULES:
        for target, line in _imports(module):
            if target == "graphpair":
                if module != "graphpair":
                    wrong.append(f"{module}:{line} imports the root package graphpair")
                continue
            low, high = _layer(target), _layer(module)
            if low is not None and high is not None and low > high:
                wrong.append(f"{module}:{line} imports {target}, a layer above it")
    assert not wrong, "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_between_files() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_string_imports_of_the_package() -> None:
    wrong = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
                and node.args
                and not (
                    isinstance(node.args[0], ast.Constant)
                    and not str(node.args[0].value).startswith("graphpair")
                )
            ):
                wrong.append(f"{module}:{node.lineno}")
    assert not wrong, f"importlib imports of graphpair modules (import them directly): {wrong}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_file_above_600_lines(module: str) -> None:
    # One concept that cannot be split without harm may say so here, with the reason.
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{MODULES[module]} has {lines} lines"
