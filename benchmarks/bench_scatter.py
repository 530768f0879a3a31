"""Scatter, segment and softmax: torch's native kernels against torch-scatter on the same inputs.

The evidence for the `'auto'` backend rule in `graphpair/ops/_backend.py`, which uses
torch-scatter for an (op, device type) only where it was measured faster there. Every op runs
through graphpair's front function with `backend='native'` and with `backend='torch_scatter'`;
the two outputs are checked allclose first. Inputs (fixed seed): `src [E, D]` float32 rows and a
uniformly random group index over G groups; the segment ops and the pointer softmax get the
same group sizes as a pointer `ptr [G + 1]` (the index sorted); softmax gets attention scores
`[E, H]` of H = 8 heads.
Times are forward passes: the median of the calls after one warm-up call (the check).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    add_common_arguments,
    fmt_time,
    markdown_table,
    median_time,
    publish,
)
from graphpair.ops import resolve_backend, scatter, segment, softmax, torch_scatter_available

BACKENDS = ("native", "torch_scatter")


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    num_rows: int
    num_cols: int
    num_groups: int
    heads: int
    repeats: int
    device: torch.device

    @classmethod
    def from_args(cls, quick: bool, device: str) -> Config:
        if quick:
            return cls(100_000, 16, 5_000, 8, 2, torch.device(device))
        return cls(2_000_000, 64, 100_000, 8, 5, torch.device(device))


def make_ops(config: Config) -> dict[str, tuple[str, Callable[[str], Tensor]]]:
    """Table label -> (op name of the backend rule, call taking the backend)."""
    generator = torch.Generator().manual_seed(0)
    rows, groups = config.num_rows, config.num_groups
    src = torch.randn(rows, config.num_cols, generator=generator).to(config.device)  # [E, D]
    scores = torch.randn(rows, config.heads, generator=generator).to(config.device)  # [E, H]
    index = torch.randint(0, groups, (rows,), generator=generator).to(config.device)  # [E]
    sorted_index = torch.sort(index).values
    ptr = torch.zeros(groups + 1, dtype=torch.long, device=config.device)  # [G + 1]
    torch.cumsum(torch.bincount(sorted_index, minlength=groups), 0, out=ptr[1:])
    return {
        "scatter sum": ("scatter_sum", lambda b: scatter(src, index, 0, groups, "sum", backend=b)),
        "scatter mean": (
            "scatter_mean",
            lambda b: scatter(src, index, 0, groups, "mean", backend=b),
        ),
        "scatter max": ("scatter_max", lambda b: scatter(src, index, 0, groups, "max", backend=b)),
        "segment sum": ("segment_sum", lambda b: segment(src, ptr, "sum", backend=b)),
        "segment mean": ("segment_mean", lambda b: segment(src, ptr, "mean", backend=b)),
        "segment max": ("segment_max", lambda b: segment(src, ptr, "max", backend=b)),
        "softmax by index": (
            "softmax",
            lambda b: softmax(scores, index, num_nodes=groups, backend=b),
        ),
        "softmax by ptr": ("softmax", lambda b: softmax(scores, ptr=ptr, backend=b)),
    }


def timed_call(call: Callable[[str], Tensor], backend: str, device: torch.device) -> Tensor:
    """``call(backend)``, waiting for the device to finish (CUDA runs asynchronously)."""
    out = call(backend)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/scatter.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)  # --data-root is accepted for run.py and unused
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    args = parser.parse_args(argv)
    config = Config.from_args(args.quick, args.device)
    device = config.device
    shape = (
        f"E = {config.num_rows:,} rows, D = {config.num_cols} (scores: H = {config.heads}), "
        f"G = {config.num_groups:,} groups, device {device}"
    )
    sections = [__doc__.split("\n\n", 1)[1]]
    if not torch_scatter_available():
        line = "**torch-scatter is not installed: no comparison was made.**"
        print(line)
        sections.append(line)
    else:
        rows = []
        for label, (op, call) in make_ops(config).items():
            print(f"  {label}", flush=True)
            outputs = [timed_call(call, backend, device) for backend in BACKENDS]  # warm-up
            torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-4, atol=1e-5)
            del outputs
            times = [
                median_time(partial(timed_call, call, backend, device), config.repeats, 0)[0]
                for backend in BACKENDS
            ]
            faster = BACKENDS[int(times[1] < times[0])]
            rows.append(
                [
                    label,
                    fmt_time(times[0]),
                    fmt_time(times[1]),
                    f"{times[1] / times[0]:.2f}x",
                    faster,
                    resolve_backend(op, device, "auto"),
                ]
            )
        sections += [
            f"## {shape} (median of {config.repeats})",
            markdown_table(
                [
                    "op",
                    "native",
                    "torch-scatter",
                    "torch-scatter / native",
                    "faster",
                    "'auto' uses",
                ],
                rows,
            ),
        ]
    return publish("scatter", "Scatter, segment and softmax backends", sections, args.quick)


if __name__ == "__main__":
    main()
