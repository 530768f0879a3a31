"""Sphinx extension of the graphpair docs: pages generated from the code at build time.

At ``builder-inited`` it writes, into folders that git ignores:

- ``api/``: one page per public module, with an autodoc entry for every name in its
  ``__all__``. A name re-exported by several public modules is documented once, under the
  most specific one (``graphpair.nn.link.NCNPredictor``, not ``graphpair.nn.NCNPredictor``);
  the other pages list it with a cross-reference, so a stale ``__all__`` or a broken
  reference fails the build (``-W -n``).
- ``cli.md``: the help of the ``graphpair`` command and of every subcommand, from
  :func:`graphpair.cli.build_parser`, so the reference cannot drift from the parser.
- ``benchmarks/``: the project's recorded benchmark pages from ``benchmarks/results/*.md``
  and the leaderboard that ``graphpair report`` renders from ``benchmarks/results/*/*.jsonl``
  (table and figures).

Each file is written only when its content changed, so incremental builds stay incremental.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import re
import shutil
from pathlib import Path
from typing import Any


def _public_modules() -> list[str]:
    """Every package module without a private (``_``) part in its name, except the command
    line (``graphpair.cli``, documented from its parser) and ``__main__``, parents first."""
    import graphpair

    names = ["graphpair"]
    for info in pkgutil.walk_packages(graphpair.__path__, "graphpair."):
        parts = info.name.split(".")[1:]
        if not any(part.startswith("_") for part in parts) and info.name != "graphpair.cli":
            names.append(info.name)
    return sorted(names, key=lambda name: (name.count("."), name))


PUBLIC_MODULES = _public_modules()

# The leaderboard of `make report`: every recorded runner output.
REPORT_GLOBS = ["link_accuracy/*.jsonl", "grit_short/*.jsonl"]


def _write(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _home_modules() -> dict[int, str]:
    """Object id -> the most specific public module exporting it (the deepest name wins)."""
    home: dict[int, str] = {}
    for name in sorted(PUBLIC_MODULES, key=lambda m: m.count(".")):
        module = importlib.import_module(name)
        for symbol in module.__all__:
            home[id(getattr(module, symbol))] = name
    return home


def _directive(value: Any, qualified: str) -> str:
    if inspect.isclass(value):
        if issubclass(value, BaseException):
            return f".. autoexception:: {qualified}\n"
        return (
            f".. autoclass:: {qualified}\n"
            "   :members:\n"
            "   :show-inheritance:\n"
            "   :exclude-members: training, dump_patches, call_super_init\n"
        )
    if callable(value):
        return f".. autofunction:: {qualified}\n"
    # Constants: the value is the documentation unless it is long.
    hide = "   :no-value:\n" if len(repr(value)) > 300 else ""
    return f".. autodata:: {qualified}\n{hide}"


def _role(value: Any) -> str:
    if inspect.isclass(value):
        return "exc" if issubclass(value, BaseException) else "class"
    return "func" if callable(value) else "data"


def write_api(out: Path, home: dict[int, str]) -> None:
    index = [
        "API reference",
        "=============",
        "",
        "Generated from the ``__all__`` of every public module. Each object is documented",
        "under the most specific module that exports it; the shorter import paths work too.",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ]
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        index.append(f"   {name}")
        own: list[str] = []
        elsewhere: list[str] = []
        for symbol in module.__all__:
            value = getattr(module, symbol)
            where = home[id(value)]
            if inspect.ismodule(value):
                elsewhere.append(f"- :mod:`{value.__name__}`")
            elif symbol == "__version__":
                own.append(f".. py:data:: {name}.__version__\n\n   ``{value!r}``\n")
            elif where == name:
                own.append(_directive(value, f"{name}.{symbol}"))
            else:
                elsewhere.append(f"- :{_role(value)}:`{symbol} <{where}.{symbol}>`")
        lines = [
            f"``{name}``",
            "=" * (len(name) + 4),
            "",
            f".. automodule:: {name}",
            "   :no-members:",
            "",
        ]
        for block in own:
            lines += [block]
        if elsewhere:
            lines += [
                "Also exported here",
                "------------------",
                "",
                "Documented under their own module:",
                "",
                *elsewhere,
                "",
            ]
        _write(out / f"{name}.rst", "\n".join(lines))
    _write(out / "index.rst", "\n".join(index) + "\n")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def write_cli(out: Path) -> None:
    from graphpair.cli import build_parser

    parser = build_parser()
    parser.prog = "graphpair"
    lines = [
        "# Command-line reference",
        "",
        "Generated from the `graphpair` command's argument parser at build time",
        "(`graphpair.cli.build_parser()`), so it always matches the installed command.",
        "`python -m graphpair` is the same command.",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
        "",
    ]
    for name, sub in _subparsers(parser).items():
        lines += [f"## `graphpair {name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    _write(out, "\n".join(lines))


_LINK = re.compile(r"\[([^\]]*)\]\((?!https?://|#)([^)#\s]+)(#[^)\s]*)?\)")


def _local_links(text: str, known: set[str]) -> str:
    """Keep links between the copied result pages; a link to another repository path
    becomes its text and the path as code (the site holds only the copied pages)."""

    def fix(match: re.Match[str]) -> str:
        label, target, anchor = match.group(1), match.group(2), match.group(3) or ""
        if target in known:
            return f"[{label}]({target}{anchor})"
        return f"{label} (`benchmarks/results/{target}`)"

    return _LINK.sub(fix, text)


def write_benchmarks(out: Path, results: Path) -> None:
    from graphpair.train import group_records, read_records, write_report

    pages = sorted(results.glob("*.md"))
    known = {page.name for page in pages}
    for page in pages:
        _write(out / page.name, _local_links(page.read_text(encoding="utf-8"), known))
    files = sorted(p for pattern in REPORT_GLOBS for p in results.glob(pattern))
    report = out / "report"
    if report.exists():
        shutil.rmtree(report)
    write_report(
        group_records(read_records(files)),
        report,
        title="Leaderboard of the recorded benchmark runs",
    )
    toc = "\n".join(f"{page.stem}" for page in pages)
    index = f"""# Benchmarks

The pages below are the project's recorded benchmark results, copied at build time from
`benchmarks/results/`: speed and memory side by side with a baseline measured in the same
run, and accuracy runs with the exact command that produced them. The leaderboard is rendered
by `graphpair report` from the JSON records of those runs
(`benchmarks/results/*/*.jsonl`), with learning curves and time per epoch.

```{{toctree}}
:maxdepth: 1

report/report
{toc}
```
"""
    _write(out / "index.md", index)


def _public_names(home: dict[int, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(qualified alias -> documented name, short name -> documented name) of every
    public object; a short name exported under two different objects is left out."""
    aliases: dict[str, str] = {}
    short: dict[str, str | None] = {}
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for symbol in module.__all__:
            documented = f"{home[id(getattr(module, symbol))]}.{symbol}"
            aliases[f"{name}.{symbol}"] = documented
            if short.get(symbol, documented) != documented:
                short[symbol] = None
            else:
                short.setdefault(symbol, documented)
    return aliases, {k: v for k, v in short.items() if v is not None}


def resolve_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``graphpair.nn.SINCConv`` (a re-export) and bare public names such as
    ``GRITPairs`` or ``GRIT.encode`` to where autodoc documents the object. Anything else
    stays unresolved, and nitpicky mode reports it."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    aliases, short = app.env.graphpair_names
    # "GRIT.encode" -> head "GRIT", rest "encode"; qualified names are handled below.
    head, _, rest = target.partition(".")
    new = None
    if target in aliases:
        new = aliases[target]
    elif head in short:
        new = short[head] + (f".{rest}" if rest else "")
    else:
        for alias, documented in aliases.items():
            if target.startswith(alias + "."):
                new = documented + target[len(alias) :]
                break
    if new is None or new == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], new, node, contnode
    )


def drop_type_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """A constant without a ``#:`` comment would show its type's docstring (``dict``'s)."""
    doc = type(obj).__doc__
    if (
        what in ("data", "attribute")
        and isinstance(doc, str)
        and lines
        and "\n".join(lines).strip() == (inspect.cleandoc(doc).strip())
    ):
        lines.clear()


def public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Show a public class's bases without the private helpers it inherits from."""
    aliases, _ = app.env.graphpair_names
    documented = set(aliases.values())
    bases[:] = [
        base
        for base in bases
        if not base.__module__.startswith("graphpair")
        or f"{base.__module__}.{base.__qualname__}" in documented
        or any(
            getattr(importlib.import_module(m), base.__name__, None) is base for m in PUBLIC_MODULES
        )
    ] or [object]


def generate(app: Any) -> None:
    home = _home_modules()
    app.env.graphpair_names = _public_names(home)
    src = Path(app.srcdir)
    write_api(src / "api", home)
    write_cli(src / "cli.md")
    write_benchmarks(src / "benchmarks", src.parent / "benchmarks" / "results")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    app.connect("missing-reference", resolve_alias)
    app.connect("autodoc-process-docstring", drop_type_docstring)
    app.connect("autodoc-process-bases", public_bases)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
