"""SINCConv forward + backward against a straightforward per-edge message MLP, on Cora and ogbl-ddi.

Methods, run one after the other in the same process on the same inputs (fixed seed), with the
same weights; each method's output is checked allclose to graphpair's before it is timed:

- `graphpair SINCConv`: `graphpair.nn.SINCConv` with the linearity trick: `W_Q`, `W_K` and
  the context map applied once per node, per edge only a gather, an add, ReLU and the
  aggregation, `W_R` once per node after a sum;
- `per-edge MLP`: the layer as one would first write it in PyG, a `MessagePassing` whose
  `message(x_i, x_j, c_i)` runs the message MLP `W_R ReLU(W_Q x_i + b_Q + W_K x_j + c_i) + ...`
  on every edge (`x_i`, `x_j` gathered to `[E, D]`, three `[E, D] x [D, D]` products per edge);
  the context `c = W_N sum_w x_w` is computed once per node (it is a node quantity, so even a
  first implementation does that), and the output bias is added once per node so that both
  compute the same function.

Both use `aggr='sum'`, `context_aggr='sum'` (the authors' defaults), `in = hidden = out = D`
(a layer in the middle of a stack), ReLU, float32, and random node features `x [N, D]` that
require a gradient. One call = forward, `(out * w).sum()` with a fixed random `w`, backward to
`x` and every weight. Graphs: every edge in both directions (ogbl-ddi: 2,135,822 directed
edges; Cora: 10,556). Times: median of the calls after one warm-up call (the check); calls
slower than 5 s count the check as a sample and stop after 240 s of samples (column *calls*).
*Peak extra memory*: one call in a fresh process (see `_common.py`). torch runs on one thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    LOADERS,
    PEAK_FALLBACK_NOTE,
    Graph,
    PeakMemory,
    add_common_arguments,
    fmt_bytes,
    fmt_peak,
    fmt_time,
    markdown_table,
    peak_memory,
    publish,
    resolve_data_root,
    time_once,
)
from graphpair.nn import SINCConv

THREADS = 1
#: Skip the per-edge MLP where its estimated peak would pass this share of the free memory.
MEMORY_SHARE = 0.85
#: Calls at least this slow (seconds) are timed fewer times, within :data:`SLOW_BUDGET_S`.
SLOW_CALL_S = 5.0
SLOW_BUDGET_S = 240.0


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    hidden: tuple[int, ...]
    repeats: int
    max_edges: int | None
    """Keep only the first this many (undirected) edges of each graph (``--quick``)."""
    data_root: Path
    quick: bool

    @classmethod
    def from_args(cls, quick: bool, data_root: str | None) -> Config:
        root = resolve_data_root(data_root)
        if quick:
            return cls((16, 64), 2, 50_000, root, quick)
        return cls((64, 256), 3, None, root, quick)


class PerEdgeMLP(MessagePassing):  # type: ignore[misc]
    """Baseline: the message MLP evaluated on every edge (no linearity trick)."""

    def __init__(self, conv: SINCConv) -> None:
        super().__init__(aggr="sum")
        assert conv.lin_context is not None
        self.lin_query = conv.lin_query
        self.lin_key = conv.lin_key
        self.lin_context = conv.lin_context
        self.lin_relation = conv.lin_relation

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        src, dst = edge_index
        total = torch.zeros_like(x).index_add_(0, dst, x[src])  # sum_w x_w per node
        context = self.lin_context(total)  # [N, D]
        out: Tensor = self.propagate(edge_index, x=x, c=context)
        assert self.lin_relation.bias is not None
        return out + self.lin_relation.bias  # b_R once per node, as SINCConv

    def message(self, x_i: Tensor, x_j: Tensor, c_i: Tensor) -> Tensor:
        z = torch.relu(self.lin_query(x_i) + self.lin_key(x_j) + c_i)  # [E, D]
        return torch.nn.functional.linear(z, self.lin_relation.weight)  # [E, D]


METHODS: dict[str, Callable[[SINCConv], torch.nn.Module]] = {
    "graphpair SINCConv": lambda conv: conv,
    "per-edge MLP": PerEdgeMLP,
}
REFERENCE = "graphpair SINCConv"


def both_directions(graph: Graph, max_edges: int | None) -> Tensor:
    """Every edge in both directions, once each, no self loops ``[2, E]`` (from the first
    ``max_edges`` stored edges if given). Cora stores both directions already, ogbl-ddi one."""
    edges = graph.edge_index if max_edges is None else graph.edge_index[:, :max_edges]
    edges = torch.cat([edges, edges.flip(0)], dim=1)
    edges = edges[:, edges[0] != edges[1]]
    keys = torch.unique(edges[0] * graph.num_nodes + edges[1])  # sorted, deduplicated
    return torch.stack([keys // graph.num_nodes, keys % graph.num_nodes])


@dataclass
class Case:
    """Inputs and weights shared by both methods."""

    x: Tensor
    edge_index: Tensor
    weight: Tensor
    conv: SINCConv


def make_case(graph: Graph, hidden: int, max_edges: int | None) -> Case:
    torch.manual_seed(0)
    conv = SINCConv(hidden, hidden, aggr="sum", context_aggr="sum")
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(graph.num_nodes, hidden, generator=gen).requires_grad_()
    weight = torch.randn(graph.num_nodes, hidden, generator=gen)
    return Case(x, both_directions(graph, max_edges), weight, conv)


def step(module: torch.nn.Module, case: Case) -> Tensor:
    """Forward, weighted sum, backward; returns the output (detached)."""
    module.zero_grad(set_to_none=True)
    case.x.grad = None
    out = module(case.x, case.edge_index)
    (out * case.weight).sum().backward()
    return out.detach()


def setup_case(case: dict[str, Any]) -> Callable[[], object]:
    """Peak-memory child: load the graph, build the inputs and the method, return one call."""
    torch.set_num_threads(THREADS)
    config = Config.from_args(case["quick"], case["data_root"])
    graph = LOADERS[case["graph"]](config.data_root)
    inputs = make_case(graph, case["hidden"], config.max_edges)
    module = METHODS[case["method"]](inputs.conv)
    return partial(step, module, inputs)


def timed_calls(call: Callable[[], object], check_s: float, config: Config) -> tuple[float, int]:
    """Median time of ``call`` and the number of calls it is the median of.

    Fast calls: ``config.repeats`` calls after the check call, which was the warm-up. Calls
    slower than :data:`SLOW_CALL_S` (their first-call overhead is negligible) count the check
    call as a sample and stop adding calls once the samples pass :data:`SLOW_BUDGET_S`.
    """
    slow = check_s >= SLOW_CALL_S
    samples = [check_s] if slow else []
    while len(samples) < config.repeats and not (slow and sum(samples) >= SLOW_BUDGET_S):
        seconds, _ = time_once(call)
        samples.append(seconds)
    return statistics.median(samples), len(samples)


def available_bytes() -> int:
    """``MemAvailable`` from ``/proc/meminfo`` (0 if it cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def compare(graph: Graph, config: Config) -> tuple[list[list[str]], list[str]]:
    """Rows for one graph (both hidden sizes, both methods) and notes."""
    rows: list[list[str]] = []
    notes: list[str] = []
    baseline_peak_per_unit: float | None = None  # bytes per (edge x hidden), from a run
    for hidden in config.hidden:
        inputs = make_case(graph, hidden, config.max_edges)
        num_edges = inputs.edge_index.size(1)
        timings: dict[str, float] = {}
        counts: dict[str, int] = {}
        peaks: dict[str, PeakMemory] = {}
        reference: Tensor | None = None
        for label, build in METHODS.items():
            if label != REFERENCE and baseline_peak_per_unit is not None:
                estimate = baseline_peak_per_unit * num_edges * hidden
                free = available_bytes()
                if estimate > MEMORY_SHARE * free:
                    notes.append(
                        f"**{graph.name}, D = {hidden}: {label} not run**: its peak, "
                        f"extrapolated from the smaller D, is about {fmt_bytes(estimate)}, "
                        f"more than {MEMORY_SHARE:.0%} of the {fmt_bytes(free)} available."
                    )
                    continue
            print(f"  {graph.name}, D = {hidden}: {label}", flush=True)
            module = build(inputs.conv)
            check_s, out = time_once(partial(step, module, inputs))  # warm-up and check
            if reference is None:
                reference = out
            else:
                # float32 sums over thousands of neighbours (ddi) differ in the last digits.
                error = float((out - reference).norm() / reference.norm())
                if error > 1e-5:
                    raise AssertionError(f"{label} on {graph.name}: relative error {error:.2e}")
            timings[label], counts[label] = timed_calls(
                partial(step, module, inputs), check_s, config
            )
            case = {
                "quick": config.quick,
                "data_root": str(config.data_root),
                "graph": graph.name,
                "hidden": hidden,
                "method": label,
            }
            peaks[label] = peak_memory(__file__, case)
            if label != REFERENCE:
                baseline_peak_per_unit = peaks[label].bytes / (num_edges * hidden)
        for label, seconds in timings.items():
            peak = peaks[label]
            rows.append(
                [
                    graph.name,
                    f"{num_edges:,}",
                    str(hidden),
                    label,
                    fmt_time(seconds),
                    str(counts[label]),
                    f"{seconds / timings[REFERENCE]:.2f}x",
                    fmt_peak(peak),
                    f"{peak.bytes / peaks[REFERENCE].bytes:.2f}x",
                    f"{peak.bytes / (4 * num_edges * hidden):.1f}",
                ]
            )
        if not all(p.exact for p in peaks.values()):
            notes.append(PEAK_FALLBACK_NOTE)
    return rows, notes


def profile(graph: Graph, hidden: int, config: Config, top: int = 10) -> str:
    """Self CPU time per op of one SINCConv call (forward + backward), as a markdown table."""
    inputs = make_case(graph, hidden, config.max_edges)
    step(inputs.conv, inputs)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step(inputs.conv, inputs)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    rows = [
        [
            f"`{e.key}`",
            str(e.count),
            fmt_time(e.self_cpu_time_total / 1e6),
            f"{e.self_cpu_time_total / total:.0%}",
        ]
        for e in events[:top]
    ]
    return "\n\n".join(
        [
            f"## Where SINCConv spends its time: {graph.name}, D = {hidden} "
            f"(torch.profiler, one call, top {top} ops by self time)",
            markdown_table(["op", "calls", "self time", "share"], rows),
        ]
    )


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/sinc.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    config = Config.from_args(args.quick, args.data_root)
    torch.set_num_threads(THREADS)

    notes: list[str] = []
    rows: list[list[str]] = []
    profiled: list[str] = []
    for name in ("Cora", "ogbl-ddi"):
        try:
            graph = LOADERS[name](config.data_root)
        except FileNotFoundError as err:
            line = f"**{name}: skipped.** {err}"
            print(line, flush=True)
            notes.append(line)
            continue
        graph_rows, graph_notes = compare(graph, config)
        rows += graph_rows
        notes += graph_notes
        if name == "ogbl-ddi":
            profiled.append(profile(graph, config.hidden[-1], config))

    sections = [
        __doc__.split("\n\n", 1)[1],
        f"Data root: `{config.data_root}`. MemAvailable at the end: "
        f"{fmt_bytes(available_bytes())}; pid {os.getpid()}.",
        *notes,
    ]
    if rows:
        sections += [
            f"## Forward + backward, median of up to {config.repeats} calls",
            "*Bytes / (4·E·D)*: the peak extra memory in units of one `[E, D]` float32 tensor.",
            markdown_table(
                [
                    "graph",
                    "directed edges E",
                    "D",
                    "method",
                    "time",
                    "calls",
                    "vs SINCConv",
                    "peak extra memory",
                    "vs SINCConv",
                    "bytes / (4·E·D)",
                ],
                rows,
            ),
            *profiled,
        ]
    return publish(
        "sinc", "SINCConv: the linearity trick against a per-edge MLP", sections, args.quick
    )


if __name__ == "__main__":
    main()
