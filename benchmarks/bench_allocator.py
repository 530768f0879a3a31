"""Allocator settings: the memory an OGB-scale run keeps, against its time (issue 22).

An evaluation of the citation2 stand-in allocates and frees large blocks chunk after chunk.
glibc keeps freed blocks in its heaps for reuse, so the process's peak RSS grows past its live
peak; a setting that hands them back to the kernel pays for fresh zeroed pages when they are
used again, and every fresh page costs a page fault. These are environment variables read
before or as the process starts; graphpair sets none of them. This measures pieces of
``bench_scale.py`` (its child, the same code; ``--cases``) under each setting, side by side
in one run:

- ``glibc defaults``: nothing set (the baseline; what a user gets);
- ``MALLOC_MMAP_THRESHOLD_=131072``: every block above 128 KiB is its own mapping, returned
  when freed (``bench_scale.py --allocator exact``: the peak RSS is the live peak);
- ``MALLOC_MMAP_THRESHOLD_=4194304``: the same from 4 MiB up;
- ``MALLOC_ARENA_MAX=1``: one heap for all threads;
- ``THP_MEM_ALLOC_ENABLE=1``: torch advises its CPU allocations of 2 MB and more as
  transparent huge pages (``madvise(MADV_HUGEPAGE)``), so the kernel backs a fresh block's
  2 MB-aligned parts with 2 MB pages, one fault each instead of 512 (glibc's settings at
  their defaults);
- ``heap reuse`` (``MALLOC_MMAP_MAX_=0``, ``MALLOC_TRIM_THRESHOLD_=2**40``): no block gets
  its own mapping and the heap is never trimmed, so a freed block's pages are reused by the
  next allocation instead of being returned and faulted in afresh; the peak RSS is then the
  heap's high-water mark, fragmentation included;
- ``graphpair reuse``: what ``graphpair link`` / ``node --allocator reuse`` do (the same two
  settings through ``mallopt``, and the set-up's free pages handed back once before the calls).

Each child inherits this process's environment without any ``MALLOC_*`` variable,
``GLIBC_TUNABLES`` or ``THP_MEM_ALLOC_ENABLE``, plus the setting
(``bench_scale.allocator_env``). It calls the piece ``--repeats`` times; the row gives the
median time, the median minor page faults and system (kernel) CPU time of a call, the growth
of the child's peak RSS (``VmHWM``) over its RSS after the set-up, as ``bench_scale.py`` does,
and the peak RSS. Default case: ``eval-ogb`` (OGB's citation2
protocol, 1,000 given negatives per positive) on the citation2 stand-in at 1/4, NCN.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_scale
from benchmarks._common import add_common_arguments, fmt_bytes, fmt_time, markdown_table, publish

#: Name -> the environment variables it sets (the first is the baseline).
SETTINGS: dict[str, dict[str, str]] = {
    "glibc defaults": {},
    "MALLOC_MMAP_THRESHOLD_=131072": {"MALLOC_MMAP_THRESHOLD_": "131072"},
    "MALLOC_MMAP_THRESHOLD_=4194304": {"MALLOC_MMAP_THRESHOLD_": "4194304"},
    "MALLOC_ARENA_MAX=1": {"MALLOC_ARENA_MAX": "1"},
    "THP_MEM_ALLOC_ENABLE=1": {bench_scale.TORCH_THP: "1"},
    "heap reuse": {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**40)},
    "graphpair reuse": {bench_scale.REUSE: "1"},
}


def _case(text: str) -> tuple[str, float, str]:
    """``GRAPH:FRACTION:PIECE`` of ``--cases``."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"--cases: {text!r} is not GRAPH:FRACTION:PIECE")
    graph, fraction, piece = parts
    if graph not in bench_scale.GRAPHS or piece not in bench_scale.PIECES:
        raise ValueError(f"--cases: unknown graph or piece in {text!r}")
    return graph, float(fraction), piece


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--cases",
        default="citation2:0.25:eval-ogb",
        help="GRAPH:FRACTION:PIECE,...: bench_scale.py pieces, each a section of the results",
    )
    parser.add_argument("--predictor", default="ncn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--settings", default=",".join(SETTINGS), help="names, comma-separated")
    parser.add_argument("--cap-gib", type=float, default=22.0)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per setting")
    parser.add_argument("--name", default="allocator", help="results file stem")
    args = parser.parse_args()
    names = [name for name in args.settings.split(",") if name]
    unknown = [name for name in names if name not in SETTINGS]
    if unknown:
        parser.error(f"--settings: unknown {unknown}; known: {list(SETTINGS)}")
    try:
        cases = [_case(text) for text in args.cases.split(",") if text]
    except ValueError as error:
        parser.error(str(error))
    repeats = 1 if args.quick else args.repeats
    sections = [
        _section(graph, 0.004 if args.quick else fraction, piece, args, names, repeats)
        for graph, fraction, piece in cases
    ]
    publish(args.name, "Allocator settings: memory kept against time", sections, args.quick)


def _section(
    graph: str,
    fraction: float,
    piece: str,
    args: argparse.Namespace,
    names: list[str],
    repeats: int,
) -> str:
    """One case under every setting, as a results section."""
    edges, _ = bench_scale.standin(graph, fraction)  # generated here, once, if not cached
    rows, base = [], None
    for name in names:
        out = bench_scale.measure(
            graph,
            fraction,
            piece,
            args.predictor,
            args.cap_gib,
            args.timeout,
            repeats,
            SETTINGS[name],
        )
        print(graph, fraction, piece, name, out, flush=True)
        if "error" in out:
            rows.append((name, out["error"], "", "", "", "", "", "", ""))
            continue
        base = base or out
        rows.append(
            (
                name,
                fmt_time(out["seconds"]),
                f"{out['seconds'] / base['seconds']:.2f}x",
                f"{out['faults'] / 1e6:.2f}M",
                fmt_time(out["kernel"]),
                f"+{fmt_bytes(out['extra'])}",
                f"{max(out['extra'], 1) / max(base['extra'], 1):.2f}x",
                fmt_bytes(out["peak"]),
                ", ".join(fmt_time(t) for t in out["times"]),
            )
        )
    return (
        f"## {piece}, {graph} stand-in at {fraction:g} ({edges.shape[1]:,} edges), "
        f"{args.predictor}\n\n"
        f"Median of {repeats} calls in one child per setting; ratios against the first "
        "setting that completed.\n\n"
        + markdown_table(
            (
                "setting",
                "median",
                "time ratio",
                "page faults",
                "kernel time",
                "extra memory",
                "memory ratio",
                "peak RSS",
                "calls",
            ),
            rows,
        )
    )


if __name__ == "__main__":
    main()
