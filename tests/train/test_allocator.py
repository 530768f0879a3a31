"""``reuse_freed_memory`` / ``release_freed_memory`` and the runners' ``--allocator``.

The switch is for the whole process and cannot be undone, so its effects are checked in fresh
interpreters: the page faults of allocating a 64 MiB tensor after freeing a larger one, read
from ``getrusage``, are the oracle (glibc unmaps a freed block that large and faults a new one in
page by page; a reused heap block faults nothing).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import graphpair.train
from graphpair.cli import main

ROOT = Path(__file__).resolve().parents[2]

glibc = pytest.mark.skipif(
    not hasattr(os, "confstr") or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="mallopt and malloc_trim are glibc's",
)

# Allocates and frees a 96 MiB tensor, then allocates and fills one of 64 MiB (16,384 pages
# of 4 KiB): the faults of the second, and what the two functions returned. The first is the
# larger so that the second fits in its freed block whatever torch's aligned allocation adds
# (a block of the same size did not always fit: 1 of 6 suite runs faulted all 16,384 pages).
_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    import torch
    from graphpair.train import release_freed_memory, reuse_freed_memory

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    reused = reuse_freed_memory() if sys.argv[1] == "reuse" else None
    first = torch.ones(24 * 2**20)
    del first
    released = release_freed_memory() if sys.argv[2] == "release" else None
    before = faults()
    second = torch.ones(16 * 2**20)
    print(json.dumps({"faults": faults() - before, "reused": reused, "released": released}))
    """
)


def _probe(reuse: bool, release: bool) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, "reuse" if reuse else "-", "release" if release else "-"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return dict(json.loads(out.stdout.splitlines()[-1]))


@glibc
def test_freed_block_is_reused_without_page_faults() -> None:
    system = _probe(reuse=False, release=False)
    reused = _probe(reuse=True, release=False)
    assert reused["reused"] is True
    assert int(system["faults"]) > 8_000  # 16,384 pages, faulted in afresh
    assert int(reused["faults"]) < 1_000  # the freed block's pages, still resident


@glibc
def test_release_hands_free_pages_back_once() -> None:
    released = _probe(reuse=True, release=True)
    assert released["released"] is True
    # malloc_trim returned the freed block's pages: the next block faults them in again
    assert int(released["faults"]) > 8_000


@glibc
def test_release_does_nothing_unless_reuse_took_effect() -> None:
    assert _probe(reuse=False, release=True)["released"] is False


def test_off_glibc_both_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphpair.train import _allocator

    monkeypatch.setattr(_allocator.os, "confstr", lambda name: None)
    monkeypatch.setattr(_allocator, "_reusing", False)
    assert _allocator.reuse_freed_memory() is False
    assert _allocator.release_freed_memory() is False


@pytest.mark.parametrize("command", ["link", "node"])
@pytest.mark.parametrize(
    ("flags", "calls"),
    [
        ([], 0),
        (["--allocator", "system"], 0),
        (["--allocator", "reuse"], 1),
        (["--allocator", "reuse", "--print-config"], 0),
    ],
)
def test_runner_flag_switches_the_heap_before_the_run(
    monkeypatch: pytest.MonkeyPatch, command: str, flags: list[str], calls: int
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(graphpair.train, "reuse_freed_memory", lambda: seen.append("reuse"))

    def run(args: object) -> int:
        seen.append("run")
        return 0

    module = importlib.import_module(f"graphpair.cli._{command}")
    monkeypatch.setattr(module, f"_{command}", run)  # read when the parser is built
    assert main([command, "--dataset", "cora", *flags]) == 0
    assert seen == ["reuse"] * calls + ["run"]


def test_runner_flag_rejects_unknown_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["link", "--allocator", "jemalloc"])
    assert exit_info.value.code == 2
    assert "--allocator: invalid choice: 'jemalloc'" in capsys.readouterr().err
