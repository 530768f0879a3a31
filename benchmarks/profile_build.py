"""Why building the CSR and the split grows faster than E (issue 22's ``csr`` / ``split`` rows).

``scale.md`` measured both pieces above the exponent goal of 1.1 between 1/4 and full size
(``csr`` E^1.17 / E^1.34, ``split`` E^1.19 / E^1.20 on the ppa / citation2 stand-ins). This
runs ``bench_scale.py``'s ``csr`` piece (``CSR.from_edge_index`` and the cached transpose) and
``split`` piece (``link_split``: NCN's Planetoid split and its audit) at each ``--fractions``
size, each size in a fresh child process under the allocator of those rows (``--allocator``,
default ``exact`` as in ``bench_scale.py``), and reports:

- one call's wall time, minor page faults and kernel CPU time (``getrusage``), the first call
  of the child as in ``bench_scale.py``'s rows;
- a second call under ``torch.profiler``: each operator's self CPU time, its share, and its
  growth exponent :math:`\\log(t_b / t_a) / \\log(E_b / E_a)` over each interval, with the time
  per input edge at full size.

A last table (``--ballast``) prices one fresh page alone: in a fresh child holding a resident
ballast of each size, eight 512 MiB tensors are allocated, filled and freed, each its own
mapping under the ``exact`` allocator; kernel CPU time over minor page faults is the kernel's
cost of one 4 KiB page (zeroing, mapping, accounting, unmapping), against the memory the
process already holds.

Writes ``results/build_profile.md`` (``--name``).

    python benchmarks/profile_build.py --graphs ppa --fractions 0.0625,0.25
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import add_common_arguments, fmt_time, markdown_table, publish
from benchmarks.bench_scale import ALLOCATORS, child_env, run_capped, standin

PIECES = ("csr", "split")


def child(name: str, fraction: float, piece: str) -> None:
    """Print one JSON line: the first call's cost and the profiled second call's operators."""
    from torch.profiler import ProfilerActivity, profile

    from benchmarks.bench_scale import _setup

    call = _setup(name, fraction, piece, "ncn")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        call()
    ops = {event.key: event.self_cpu_time_total / 1e6 for event in prof.key_averages()}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "faults": after.ru_minflt - usage.ru_minflt,
                "kernel": after.ru_stime - usage.ru_stime,
                "user": after.ru_utime - usage.ru_utime,
                "ops": ops,
            }
        )
    )


def fault_child(ballast_gib: float) -> None:
    """Print one JSON line: kernel seconds and minor faults of eight fresh 512 MiB tensors
    filled and freed beside a resident ballast of ``ballast_gib``."""
    import torch

    ballast = torch.ones(int(ballast_gib * 2**30) // 8, dtype=torch.long)
    kernel = faults = 0.0
    for _ in range(8):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        fresh = torch.empty(2**26, dtype=torch.long)  # 512 MiB
        fresh.fill_(1)
        del fresh
        after = resource.getrusage(resource.RUSAGE_SELF)
        kernel += after.ru_stime - usage.ru_stime
        faults += after.ru_minflt - usage.ru_minflt
    print(json.dumps({"kernel": kernel, "faults": faults, "ballast": int(ballast.numel()) * 8}))


def _exponent(a: float, b: float, ea: int, eb: int) -> str:
    if a <= 0 or b <= 0:
        return "-"
    return f"{math.log(b / a) / math.log(eb / ea):.2f}"


def section(
    name: str, piece: str, fractions: list[float], runs: list[dict[str, Any]], top: int
) -> str:
    """The call table and the operator table of one piece on one stand-in."""
    edges = [standin(name, f)[0].shape[1] for f in fractions]
    sizes = [f"{f:g} ({e:,} edges)" for f, e in zip(fractions, edges, strict=True)]
    intervals = [
        f"exponent {fractions[i]:g} -> {fractions[i + 1]:g}" for i in range(len(fractions) - 1)
    ]
    calls = []
    for key, label, fmt in (
        ("seconds", "wall time", fmt_time),
        ("user", "user CPU", fmt_time),
        ("kernel", "kernel CPU", fmt_time),
        ("faults", "minor page faults", lambda v: f"{v:,.0f}"),
    ):
        values = [run[key] for run in runs]
        growth = [
            _exponent(values[i], values[i + 1], edges[i], edges[i + 1])
            for i in range(len(values) - 1)
        ]
        calls.append((label, *(fmt(v) for v in values), *growth))
    ops = [run["ops"] for run in runs]
    totals = [sum(o.values()) for o in ops]
    largest = sorted(ops[-1], key=lambda k: ops[-1][k], reverse=True)[:top]
    rows = []
    for op in largest:
        times = [o.get(op, 0.0) for o in ops]
        cells = [
            f"{1e3 * t:.0f} ms ({100 * t / total:.0f} %)"
            for t, total in zip(times, totals, strict=True)
        ]
        growth = [
            _exponent(times[i], times[i + 1], edges[i], edges[i + 1]) for i in range(len(times) - 1)
        ]
        rows.append((op, *cells, *growth, f"{1e9 * times[-1] / edges[-1]:.1f}"))
    growth = [
        _exponent(totals[i], totals[i + 1], edges[i], edges[i + 1]) for i in range(len(totals) - 1)
    ]
    rows.append(
        (
            "all operators",
            *(f"{1e3 * t:.0f} ms" for t in totals),
            *growth,
            f"{1e9 * totals[-1] / edges[-1]:.1f}",
        )
    )
    return (
        f"## {name} stand-in, `{piece}`\n\nThe first call in the child:\n\n"
        + markdown_table(("", *sizes, *intervals), calls)
        + f"\n\nThe second call under `torch.profiler`, self CPU time of the {top} largest "
        "operators at the largest size (time on the calling thread):\n\n"
        + markdown_table(("operator", *sizes, *intervals, "ns an edge, largest size"), rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--graphs", default="ppa,citation2")
    parser.add_argument("--fractions", default="0.0625,0.25,1")
    parser.add_argument("--pieces", default=",".join(PIECES))
    parser.add_argument("--allocator", choices=sorted(ALLOCATORS), default="exact")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--cap-gib", type=float, default=22.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per child")
    parser.add_argument("--name", default="build_profile", help="results file stem")
    parser.add_argument(
        "--ballast", default="0.1,1,2,3,4,6,8", help="GiB held for the fresh-page table ('' skips)"
    )
    args = parser.parse_args()
    fractions = [0.001, 0.004] if args.quick else [float(f) for f in args.fractions.split(",")]
    pieces = args.pieces.split(",")
    for piece in pieces:
        if piece not in PIECES:
            parser.error(f"--pieces: {piece!r} is not one of {list(PIECES)}")
    settings = ALLOCATORS[args.allocator]
    allocator = ", ".join(f"`{k}={v}`" for k, v in settings.items()) or "glibc's defaults"
    sections = [
        f"Allocator: `{args.allocator}` (`bench_scale.py`'s `--allocator`: "
        f"{allocator}). Each size runs in a fresh child "
        f"process, its address space capped at {args.cap_gib:g} GiB."
    ]
    for name in args.graphs.split(","):
        for piece in pieces:
            runs = []
            for fraction in fractions:
                argv = [__file__, "--child", name, str(fraction), piece]
                run = run_capped(argv, args.cap_gib, args.timeout, child_env(args.allocator))
                if "error" in run:
                    raise SystemExit(f"{name} {piece} at {fraction:g}: {run['error']}")
                print(f"{name} {piece} {fraction:g}: {fmt_time(run['seconds'])}", flush=True)
                runs.append(run)
            sections.append(section(name, piece, fractions, runs, args.top))
    ballasts = [float(b) for b in args.ballast.split(",") if b]
    if ballasts:
        rows = []
        for gib in [0.1, 1.0] if args.quick else ballasts:
            argv = [__file__, "--fault-child", str(gib)]
            run = run_capped(argv, args.cap_gib, args.timeout, child_env("exact"))
            if "error" in run:
                raise SystemExit(f"fresh pages beside {gib:g} GiB: {run['error']}")
            per_fault = 1e6 * run["kernel"] / run["faults"]
            rows.append((f"{gib:g} GiB", f"{run['faults']:,.0f}", f"{per_fault:.2f} µs"))
        sections.append(
            "## The kernel's cost of a fresh page, by resident memory\n\n"
            "Eight 512 MiB tensors filled and freed (`exact` allocator) in a child holding "
            "a resident ballast:\n\n"
            + markdown_table(("ballast", "minor page faults", "kernel CPU a fault"), rows)
        )
    publish(args.name, "CSR and split build profile by size", sections, args.quick)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif sys.argv[1:2] == ["--fault-child"]:
        fault_child(float(sys.argv[2]))
    else:
        main()
