"""The ``graphpair`` command with and without torch's transparent huge pages, end to end.

torch reads ``THP_MEM_ALLOC_ENABLE`` once, at its first allocation: with ``1`` it advises its
CPU allocations of 2 MB and more as transparent huge pages (``madvise(MADV_HUGEPAGE)``), so
the kernel backs a fresh block's 2 MB-aligned parts with 2 MB pages, one fault each instead of
512 (where the kernel's THP mode is ``madvise`` or ``always``). On the full-size
citation2 stand-in a sampled NCN step faults in 6.2 million 4 KB pages (about 24 GiB of fresh
memory a step) and spends as much time in the kernel as in torch; there huge pages pay
(``allocator_thp.md``). Whether they also pay on the graphs users train today decides whether
the ``graphpair`` command may set the variable for them: it does not, since ogbl-ddi's NCN
epoch took 1.20x the time with it in this benchmark's run.

This runs whole ``graphpair`` commands on real data, each in a fresh process, alternating
``THP_MEM_ALLOC_ENABLE=0`` (torch's default) and ``=1`` so that a slow spell of the shared
machine hits both (glibc's allocator variables cleared, ``bench_scale.allocator_env``): the
median wall time of each, their ratio, and each child's peak RSS (``ru_maxrss`` of the reaped
child, ``os.wait4``). Needs the shared data (``GRAPHPAIR_DATA`` or ``--data-root``).
"""

from __future__ import annotations

import argparse
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


def _run(args: list[str], thp: str) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one ``graphpair`` child."""
    env = allocator_env({TORCH_THP: thp})
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "graphpair", *args],
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
    return seconds, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--commands", default=",".join(COMMANDS), help="names, comma-separated")
    parser.add_argument("--pairs", type=int, default=5, help="off/on pairs per command")
    args = parser.parse_args()
    root = resolve_data_root(args.data_root)
    names = [name for name in args.commands.split(",") if name]
    unknown = [name for name in names if name not in COMMANDS]
    if unknown:
        parser.error(f"--commands: unknown {unknown}; known: {list(COMMANDS)}")
    if args.quick:
        names, pairs = names[:1], 1
    else:
        pairs = args.pairs
    rows = []
    for name in names:
        argv = [*COMMANDS[name], "--runs", "1", "--quiet", "--data-root", str(root)]
        found: dict[str, list[tuple[float, int]]] = {"0": [], "1": []}
        for _ in range(pairs):
            for thp in ("0", "1"):
                found[thp].append(_run(argv, thp))
        off = statistics.median(t for t, _ in found["0"])
        on = statistics.median(t for t, _ in found["1"])
        print(name, found, flush=True)
        rows.append(
            (
                name,
                fmt_time(off),
                fmt_time(on),
                f"{on / off:.2f}x",
                fmt_bytes(max(m for _, m in found["0"])),
                fmt_bytes(max(m for _, m in found["1"])),
                ", ".join(fmt_time(t) for t, _ in found["0"]),
                ", ".join(fmt_time(t) for t, _ in found["1"]),
            )
        )
    section = (
        f"Median wall time of {pairs} fresh `python -m graphpair` processes per setting, "
        "alternating; peak RSS the largest of the children's.\n\n"
        + markdown_table(
            (
                "command",
                "THP off",
                "THP on",
                "on / off",
                "peak RSS off",
                "peak RSS on",
                "calls off",
                "calls on",
            ),
            rows,
        )
    )
    publish(
        "huge_pages",
        "The graphpair command with and without transparent huge pages",
        [section],
        args.quick,
    )


if __name__ == "__main__":
    main()
