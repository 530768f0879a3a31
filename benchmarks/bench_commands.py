"""Whole ``graphpair`` commands on real data under the process allocator settings (issue 22).

A setting is the ``graphpair`` flag ``--allocator`` and, for torch's transparent huge pages,
an environment variable:

- ``system``: ``--allocator system``, glibc's own policy (blocks above its mmap threshold, at
  most 32 MiB, are mappings of their own, unmapped when freed and faulted in afresh when
  allocated again);
- ``reuse``: ``--allocator reuse`` (opt-in), :func:`graphpair.train.reuse_freed_memory`:
  freed blocks stay in the heap for the next allocation;
- ``THP``: ``--allocator system`` with ``THP_MEM_ALLOC_ENABLE=1``: torch advises its CPU
  allocations of 2 MB and more as transparent huge pages, one fault per 2 MB instead of 512
  (``results/huge_pages.md`` compared this with ``system``, when the script was
  ``bench_huge_pages.py`` and ``system`` the only policy).

Each command runs in a fresh process, the settings alternating so that a slow spell of the
shared machine hits all of them (glibc's allocator variables cleared,
``bench_scale.allocator_env``): the median wall time of each, its ratio to the first
setting's, each child's minor page faults and kernel (system) CPU time, and the peak RSS
(``ru_maxrss`` of the reaped child, ``os.wait4``). Needs the shared data (``GRAPHPAIR_DATA``
or ``--data-root``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    add_common_arguments,
    fmt_bytes,
    fmt_time,
    markdown_table,
    publish,
    resolve_data_root,
)
from benchmarks.bench_scale import TORCH_THP, allocator_env

#: Name -> the ``graphpair`` arguments (the data root is added).
COMMANDS: dict[str, list[str]] = {
    "cora NCN 20 epochs": ["link", "--dataset", "cora", "--predictor", "ncn", "--epochs", "20"],
    "cora NCNC 5 epochs": ["link", "--dataset", "cora", "--predictor", "ncnc", "--epochs", "5"],
    "citeseer NCN 20 epochs": [
        *("link", "--dataset", "citeseer", "--predictor", "ncn", "--epochs", "20"),
    ],
    "ogbl-ddi NCN 1 epoch": [
        "link",
        "--dataset",
        "ogbl-ddi",
        "--predictor",
        "ncn",
        "--epochs",
        "1",
    ],
    "cora node GCN": ["node", "--dataset", "cora", "--conv", "gcn"],
}


#: Setting -> its ``--allocator`` value and environment variables.
SETTINGS: dict[str, tuple[str, dict[str, str]]] = {
    "system": ("system", {}),
    "reuse": ("reuse", {}),
    "THP": ("system", {TORCH_THP: "1"}),
}


@dataclasses.dataclass(frozen=True)
class Child:
    """One ``graphpair`` process: wall time, peak RSS, minor faults, kernel CPU time."""

    seconds: float
    peak: int
    faults: int
    kernel: float


def _run(args: list[str], setting: str) -> Child:
    """One ``graphpair`` child under ``setting``."""
    allocator, variables = SETTINGS[setting]
    env = allocator_env(variables)
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "graphpair", *args, "--allocator", allocator],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            errors.seek(0)
            raise RuntimeError(f"graphpair {' '.join(args)} failed: {errors.read()[-500:]}")
    return Child(seconds, usage.ru_maxrss * 1024, usage.ru_minflt, usage.ru_stime)


def _rows(name: str, found: dict[str, list[Child]]) -> list[tuple[str, ...]]:
    """One row per setting of command ``name``; ratios against the first setting."""
    base = statistics.median(c.seconds for c in next(iter(found.values())))
    rows = []
    for setting, children in found.items():
        median = statistics.median(c.seconds for c in children)
        rows.append(
            (
                name,
                setting,
                fmt_time(median),
                f"{median / base:.2f}x",
                f"{statistics.median(c.faults for c in children) / 1e6:.2f}M",
                fmt_time(statistics.median(c.kernel for c in children)),
                fmt_bytes(max(c.peak for c in children)),
                ", ".join(fmt_time(c.seconds) for c in children),
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--commands", default=",".join(COMMANDS), help="names, comma-separated")
    parser.add_argument(
        "--settings", default="system,reuse", help=f"of {list(SETTINGS)}, comma-separated"
    )
    parser.add_argument("--rounds", type=int, default=5, help="children per setting")
    parser.add_argument("--name", default="commands", help="results file stem")
    args = parser.parse_args()
    root = resolve_data_root(args.data_root)
    names = [name for name in args.commands.split(",") if name]
    unknown = [name for name in names if name not in COMMANDS]
    if unknown:
        parser.error(f"--commands: unknown {unknown}; known: {list(COMMANDS)}")
    settings = [name for name in args.settings.split(",") if name]
    unknown = [name for name in settings if name not in SETTINGS]
    if unknown:
        parser.error(f"--settings: unknown {unknown}; known: {list(SETTINGS)}")
    if args.quick:
        names, rounds = names[:1], 1
    else:
        rounds = args.rounds
    rows = []
    for name in names:
        argv = [*COMMANDS[name], "--runs", "1", "--quiet", "--data-root", str(root)]
        found: dict[str, list[Child]] = {setting: [] for setting in settings}
        for _ in range(rounds):
            for setting in settings:
                found[setting].append(_run(argv, setting))
        print(name, found, flush=True)
        rows.extend(_rows(name, found))
    section = (
        f"Median wall time of {rounds} fresh `python -m graphpair` processes per setting, "
        "the settings alternating; ratios against the first setting; page faults and kernel "
        "time are medians, the peak RSS the largest of the children's.\n\n"
        + markdown_table(
            (
                "command",
                "setting",
                "median",
                "ratio",
                "page faults",
                "kernel time",
                "peak RSS",
                "children",
            ),
            rows,
        )
    )
    publish(
        args.name,
        "The graphpair command under the allocator settings",
        [section],
        args.quick,
    )


if __name__ == "__main__":
    main()
