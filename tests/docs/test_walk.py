"""``docs/walkthrough.md``, a new user's walk through the README, the quick start and two
tutorials, runs and prints what the page shows.

The page is a sequence of ```console blocks (``$ graphpair ...`` then what the command
printed, stdout and stderr together) and ```python blocks (setting up files, run as
written). Every block runs in order, in one empty folder, with ``COLUMNS=80`` (argparse
wraps help to it) and no ``$GRAPHPAIR_DATA``. An output line ``...`` stands for any number
of lines, and ``...`` inside a line for any text (timings, scores, the device): the rest must
match exactly, so a changed help text, listing, header or error shows here.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from graphpair.cli import main

PAGE = Path(__file__).resolve().parents[2] / "docs" / "walkthrough.md"
_BLOCK = re.compile(r"^```(console|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def steps(text: str) -> list[tuple[str, str, str]]:
    """``(kind, command or code, expected output)`` of every step of the page, in order."""
    found = []
    for kind, body in _BLOCK.findall(text):
        if kind == "python":
            found.append(("python", body, ""))
            continue
        command, output = None, []
        for line in body.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    found.append(("console", command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        assert command is not None, f"a console block without a command: {body[:60]!r}"
        found.append(("console", command, "\n".join(output)))
    return found


def pattern(expected: str) -> re.Pattern[str]:
    """The output a step's text allows: ``...`` alone on a line is any lines, inside a line
    any text; trailing blanks are ignored."""
    parts = []
    for line in expected.splitlines():
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in line.rstrip().split("...")) + r"\n")
    return re.compile("".join(parts))


def run(command: str) -> str:
    """What ``graphpair ARGS`` prints (stdout and stderr, in order), run in this process."""
    argv = shlex.split(command)
    assert argv[0] == "graphpair", command
    out = io.StringIO()
    # SystemExit: --help, and the errors that print the usage
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
        contextlib.suppress(SystemExit),
    ):
        main(argv[1:])
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())


def test_the_pattern_rule() -> None:
    assert pattern("a ... c\n...\nend").fullmatch("a b b c\nx\ny\nend\n")
    assert pattern("a ... c\n...\nend").fullmatch("a  c\nend\n")
    assert not pattern("a ... c").fullmatch("a b d\n")
    assert not pattern("exact").fullmatch("exact\nmore\n")


@pytest.mark.usefixtures("one_thread")
def test_the_walk_runs_as_the_page_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("GRAPHPAIR_DATA", raising=False)
    monkeypatch.delenv("GRAPHPAIR_TRACEBACK", raising=False)
    monkeypatch.setenv("GRAPHPAIR_CACHE", str(tmp_path / "cache"))
    found = steps(PAGE.read_text(encoding="utf-8"))
    commands = [command for kind, command, _ in found if kind == "console"]
    assert "graphpair --help" in commands  # the help a new user reads first
    assert sum(command.endswith("--help") for command in commands) >= 3
    for number, (kind, body, expected) in enumerate(found, start=1):
        if kind == "python":
            exec(compile(body, f"walkthrough.md#step{number}", "exec"), {"__name__": "__walk__"})
            continue
        actual = run(body)
        assert pattern(expected + "\n").fullmatch(actual), (
            f"step {number}: $ {body}\n--- the page shows ---\n{expected}\n"
            f"--- the command printed ---\n{actual}"
        )
