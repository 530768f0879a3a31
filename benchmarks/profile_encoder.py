"""Where the shipped link encoder's time goes as the graph grows (issue 22's encoder exponent).

Runs ``bench_scale.py``'s ``encoder`` piece (the dataset's shipped encoder, forward and
backward on the whole stand-in, the CSR's transpose cached in set-up) under
``torch.profiler`` at each ``--fractions`` size, after one warm-up call, and tabulates the
operators' self CPU time: milliseconds, share of the call, and growth exponent between sizes
(:math:`\\log(t_b / t_a) / \\log(E_b / E_a)`). A second table times the operator that grows
most, torch's CSR x dense product, alone on the stand-in's adjacency (width 64, median of 5)
in the layouts that could make it cache-friendlier: int64 (graphpair's) or int32 indices, and
the columns cut into blocks whose slice of ``x`` fits the L3 cache, one product per block
summed. Writes ``results/encoder_profile.md``.

    python benchmarks/profile_encoder.py --graphs ppa --fractions 0.0625,0.25
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import add_common_arguments, markdown_table, publish
from benchmarks.bench_scale import _setup, standin
from graphpair.ops import CSR
from graphpair.ops._segment import counts_to_ptr
from graphpair.ops._spmm import csr_matrix


def self_times(name: str, fraction: float) -> dict[str, float]:
    """Self CPU milliseconds of every operator in one encoder call."""
    call = _setup(name, fraction, "encoder", "ncn")
    call()  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        call()
    return {event.key: event.self_cpu_time_total / 1e3 for event in prof.key_averages()}


def _median(call: Any, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def product_variants(name: str, fraction: float) -> dict[str, float]:
    """Seconds of one ``A @ x`` (width 64) per index layout and column blocking."""
    edges, n = standin(name, fraction)
    adj = CSR.from_edge_index(torch.from_numpy(edges), n)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 64, generator=gen)
    weight = torch.rand(adj.num_edges, generator=gen)
    out = {
        "int64": _median(lambda: csr_matrix(adj.rowptr, adj.col, weight, (n, n)) @ x),
        "int32": _median(lambda: csr_matrix(adj.rowptr.int(), adj.col.int(), weight, (n, n)) @ x),
    }
    for blocks in (8, 16):
        size = -(-n // blocks)
        parts = []
        for b in range(blocks):
            keep = adj.col // size == b
            rowptr = counts_to_ptr(torch.bincount(adj.row[keep], minlength=n))
            width = min(size, n - b * size)
            matrix = csr_matrix(rowptr, adj.col[keep] - b * size, weight[keep], (n, width))
            parts.append((matrix, b * size))

        def blocked(parts: list[tuple[torch.Tensor, int]] = parts) -> torch.Tensor:
            total = torch.zeros(n, 64)
            for matrix, lo in parts:
                total += matrix @ x[lo : lo + matrix.size(1)]
            return total

        out[f"{blocks} column blocks"] = _median(blocked)
    out["entries"] = adj.num_edges
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--graphs", default="ppa")
    parser.add_argument("--fractions", default="0.0625,0.25")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--skip-profile", action="store_true", help="the product table only")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    fractions = [0.001, 0.004] if args.quick else [float(f) for f in args.fractions.split(",")]
    sections = []
    for name in args.graphs.split(","):
        edges = [standin(name, f)[0].shape[1] for f in fractions]
        variants = [product_variants(name, f) for f in fractions]
        rows = []
        for key in [k for k in variants[0] if k != "entries"]:
            cells = [
                f"{v[key]:.3f} s ({1e9 * v[key] / v['entries']:.1f} ns an entry)" for v in variants
            ]
            rows.append((key, *cells))
        header = (
            "layout",
            *(f"{f:g} ({e:,} edges)" for f, e in zip(fractions, edges, strict=True)),
        )
        sections.append(
            f"## {name} stand-in: one CSR x dense product, width 64, median of 5\n\n"
            + markdown_table(header, rows)
        )
        if args.skip_profile:
            continue
        times = [self_times(name, f) for f in fractions]
        totals = [sum(t.values()) for t in times]
        top = sorted(times[-1], key=times[-1].get, reverse=True)[: args.top]  # type: ignore[arg-type]
        rows = []
        for op in top:
            cells: list[str] = []
            for t, total in zip(times, totals, strict=True):
                ms = t.get(op, 0.0)
                cells.append(f"{ms:.0f} ms ({100 * ms / total:.0f} %)")
            a, b = times[0].get(op, 0.0), times[-1].get(op, 0.0)
            growth = math.log(b / a) / math.log(edges[-1] / edges[0]) if a > 0 and b > 0 else 0
            rows.append((op, *cells, f"{growth:.2f}"))
        growth = math.log(totals[-1] / totals[0]) / math.log(edges[-1] / edges[0])
        rows.append(("all", *(f"{t:.0f} ms" for t in totals), f"{growth:.2f}"))
        header = (
            "operator",
            *(f"{f:g} ({e:,} edges)" for f, e in zip(fractions, edges, strict=True)),
        )
        sections.append(
            f"## {name} stand-in: self CPU time per operator, one forward + backward\n\n"
            + markdown_table((*header, "exponent"), rows)
        )
    publish("encoder_profile", "Encoder profile by size", sections, args.quick)


if __name__ == "__main__":
    main()
