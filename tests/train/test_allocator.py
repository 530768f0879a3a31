"""``reuse_freed_memory`` / ``release_freed_memory`` / ``limit_freed_memory`` and the runners'
``--allocator`` and ``--resident-limit``.

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
    from graphpair.train import limit_freed_memory, release_freed_memory, reuse_freed_memory

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    limit = None if sys.argv[3] == "-" else int(sys.argv[3])
    reused = reuse_freed_memory(resident_limit=limit) if sys.argv[1] == "reuse" else None
    first = torch.ones(24 * 2**20)
    del first
    released = {"release": release_freed_memory, "limit": limit_freed_memory}.get(sys.argv[2])
    released = None if released is None else released()
    before = faults()
    second = torch.ones(16 * 2**20)
    print(json.dumps({"faults": faults() - before, "reused": reused, "released": released}))
    """
)


def _probe(reuse: bool, release: bool | str, limit: int | None = None) -> dict[str, object]:
    """``release``: ``True`` for ``release_freed_memory``, ``"limit"`` for
    ``limit_freed_memory`` (with ``reuse_freed_memory(resident_limit=limit)``)."""
    then = {True: "release", False: "-", "limit": "limit"}[release]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            "reuse" if reuse else "-",
            then,
            "-" if limit is None else str(limit),
        ],
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


@glibc
def test_limit_hands_free_pages_back_only_above_it() -> None:
    # 1 MiB: this interpreter (torch imported) is far above it, so the free block goes back
    low = _probe(reuse=True, release="limit", limit=2**20)
    assert low["released"] is True
    assert int(low["faults"]) > 8_000
    # 1 TiB: never reached, so the freed block stays for the next allocation
    high = _probe(reuse=True, release="limit", limit=2**40)
    assert high["released"] is False
    assert int(high["faults"]) < 1_000


@glibc
def test_limit_does_nothing_without_reuse_or_without_a_limit() -> None:
    assert _probe(reuse=False, release="limit")["released"] is False
    assert _probe(reuse=True, release="limit")["released"] is False  # reuse, no limit


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "12"])
def test_resident_limit_must_be_positive_bytes(bad: object) -> None:
    from graphpair.train import _allocator

    before = (_allocator._reusing, _allocator._limit)
    with pytest.raises(ValueError, match=f"resident_limit must be .* got {bad!r}"):
        _allocator.reuse_freed_memory(resident_limit=bad)  # type: ignore[arg-type]
    assert (_allocator._reusing, _allocator._limit) == before  # refused before any mallopt


def test_resident_bytes_agrees_with_the_kernels_vmrss() -> None:
    from graphpair.train import resident_bytes

    status = Path("/proc/self/status")
    if not status.exists():
        assert resident_bytes() is None
        return
    ballast = bytearray(64 * 2**20)  # resident, so a real change would show
    ours = resident_bytes()
    line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS:"))
    kernel = int(line.split()[1]) * 1024
    assert ours is not None
    assert abs(ours - kernel) < 4 * 2**20
    assert ours > len(ballast)


def test_off_glibc_all_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphpair.train import _allocator

    monkeypatch.setattr(_allocator.os, "confstr", lambda name: None)
    monkeypatch.setattr(_allocator, "_reusing", False)
    assert _allocator.reuse_freed_memory(resident_limit=2**20) is False
    assert _allocator.release_freed_memory() is False
    assert _allocator.limit_freed_memory() is False


def test_training_loops_check_the_limit_after_every_optimizer_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graphpair.train import _link, _node, link_config, node_config, train_link, train_node

    checks: list[str] = []
    steps: list[int] = []
    monkeypatch.setattr(_link, "limit_freed_memory", lambda: checks.append("link") or False)
    monkeypatch.setattr(_node, "limit_freed_memory", lambda: checks.append("node") or False)
    config = link_config("karate", "ncn", epochs=2, runs=1, batch_size=16, device="cpu")
    train_link(config, on_step=lambda *args: steps.append(1))
    assert len(steps) > 2
    assert checks == ["link"] * len(steps)
    checks.clear()
    common: dict[str, object] = {"epochs": 2, "runs": 1, "hidden_channels": 8}
    train_node(node_config("default", **common))  # one full-batch step an epoch
    assert checks == ["node"] * 2
    checks.clear()
    sampled = node_config("default", sampler="neighbor", fanout=(2,), batch_size=8, **common)
    train_node(sampled)
    assert len(checks) > 2
    assert set(checks) == {"node"}


@pytest.mark.parametrize("command", ["link", "node"])
@pytest.mark.parametrize(
    ("flags", "calls"),
    [
        ([], 0),
        (["--allocator", "system"], 0),
        (["--allocator", "reuse"], 1),
        (["--allocator", "reuse", "--print-config"], 0),
        (["--allocator", "reuse", "--resident-limit", "1.5"], 1),
    ],
)
def test_runner_flag_switches_the_heap_before_the_run(
    monkeypatch: pytest.MonkeyPatch, command: str, flags: list[str], calls: int
) -> None:
    seen: list[object] = []
    monkeypatch.setattr(
        graphpair.train, "reuse_freed_memory", lambda resident_limit: seen.append(resident_limit)
    )

    def run(args: object) -> int:
        seen.append("run")
        return 0

    module = importlib.import_module(f"graphpair.cli._{command}")
    monkeypatch.setattr(module, f"_{command}", run)  # read when the parser is built
    assert main([command, "--dataset", "cora", *flags]) == 0
    limit = int(1.5 * 2**30) if "--resident-limit" in flags else None
    assert seen == [limit] * calls + ["run"]


def test_runner_flag_rejects_unknown_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["link", "--allocator", "jemalloc"])
    assert exit_info.value.code == 2
    assert "--allocator: invalid choice: 'jemalloc'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--resident-limit", "4"],
            "--resident-limit: 4 GiB needs --allocator reuse, not 'system'",
        ),
        (
            ["--allocator", "reuse", "--resident-limit", "0"],
            "--resident-limit: must be a positive number of GiB, got '0'",
        ),
        (
            ["--allocator", "reuse", "--resident-limit", "lots"],
            "--resident-limit: must be a positive number of GiB, got 'lots'",
        ),
        (
            ["--allocator", "reuse", "--resident-limit", "inf"],
            "--resident-limit: must be a positive number of GiB, got 'inf'",
        ),
    ],
)
def test_resident_limit_flag_rejects_bad_values(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["node", "--dataset", "cora", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
