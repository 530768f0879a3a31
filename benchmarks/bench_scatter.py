"""Scatter, segment and softmax: torch's native kernels against torch-scatter, same inputs.

The evidence for the ``'auto'`` backend rule in ``graphpair/ops/_backend.py``: torch-scatter
is used for an (op, device) only where it was measured faster there. Inputs: 2M x 64 float32
rows, 100,000 groups, a uniformly random index (sorted, with a pointer, for the segment ops).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fmt_time, markdown_table, median_time, write_results
from graphpair.ops import scatter, segment, softmax, torch_scatter_available


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--data-root", default=None, help="unused; accepted for run.py")
    args = parser.parse_args(argv)
    rows_n, groups = (200_000, 10_000) if args.quick else (2_000_000, 100_000)
    repeats = 2 if args.quick else 5
    command = "python benchmarks/bench_scatter.py" + (" --quick" if args.quick else "")
    gen = torch.Generator().manual_seed(0)
    src = torch.randn(rows_n, 64, generator=gen)
    index = torch.randint(0, groups, (rows_n,), generator=gen)
    sorted_index, order = torch.sort(index)
    sorted_src = src[order]
    ptr = torch.zeros(groups + 1, dtype=torch.long)
    torch.cumsum(torch.bincount(sorted_index, minlength=groups), 0, out=ptr[1:])
    scores = torch.randn(rows_n, 8, generator=gen)  # [E, H]: attention logits of 8 heads
    sorted_scores = scores[order]

    ops = {
        "scatter sum": lambda b: scatter(src, index, 0, groups, "sum", backend=b),
        "scatter mean": lambda b: scatter(src, index, 0, groups, "mean", backend=b),
        "scatter max": lambda b: scatter(src, index, 0, groups, "max", backend=b),
        "segment sum": lambda b: segment(sorted_src, ptr, "sum", backend=b),
        "segment mean": lambda b: segment(sorted_src, ptr, "mean", backend=b),
        "segment max": lambda b: segment(sorted_src, ptr, "max", backend=b),
        "softmax [E, 8] by index": lambda b: softmax(scores, index, num_nodes=groups, backend=b),
        "softmax [E, 8] by ptr": lambda b: softmax(sorted_scores, ptr=ptr, backend=b),
    }
    intro = __doc__.split("\n\n", 1)[1].strip()
    if not torch_scatter_available():
        body = intro + "\n\ntorch-scatter is not installed: nothing to compare."
        write_results("scatter", body, command)
        return body
    rows = []
    for name, fn in ops.items():
        torch.testing.assert_close(fn("native"), fn("torch_scatter"), rtol=1e-4, atol=1e-5)
        native, _ = median_time(lambda f=fn: f("native"), repeats, 1)
        other, _ = median_time(lambda f=fn: f("torch_scatter"), repeats, 1)
        rows.append([name, fmt_time(native), fmt_time(other), f"{other / native:.2f}x"])
    body = intro + f"\n\n## CPU, {rows_n:,} x 64 rows, {groups:,} groups (median of {repeats})\n\n"
    body += markdown_table(["op", "native", "torch-scatter", "torch-scatter / native"], rows)
    write_results("scatter", body, command)
    return body


if __name__ == "__main__":
    print(main())
