"""The code blocks of the documentation pages run, and print what the pages say they print.

A page is only useful if its code works on a fresh install: each ```python block of the pages
below is executed in a fresh namespace (blocks of one page share nothing). A block whose
``print`` lines end in ``# -> TEXT`` must print exactly those lines, in order (a trailing
parenthetical remark after TEXT is prose, not output).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["quickstart.md", "concepts.md", "reliability.md"]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXPECTED = re.compile(r"#\s*->\s*(.*?)(?:\s+\([^)]*\))?\s*$")


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        for number, match in enumerate(_BLOCK.finditer(text), start=1):
            found.append((page, number, match.group(1)))
    return found


def test_pages_have_code_blocks() -> None:
    counts = {page: sum(1 for p, _, _ in _blocks() if p == page) for page in PAGES}
    assert all(count >= 1 for count in counts.values()), counts


@pytest.mark.parametrize(
    ("page", "number", "code"), _blocks(), ids=lambda v: v if isinstance(v, (str, int)) else ""
)
def test_code_block_runs_and_prints_what_it_says(page: str, number: int, code: str) -> None:
    expected = [
        m.group(1)
        for line in code.splitlines()
        if "print(" in line and (m := _EXPECTED.search(line)) is not None
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{page}#block{number}", "exec"), {"__name__": "__docs__"})
    if expected:
        assert out.getvalue().splitlines() == expected
