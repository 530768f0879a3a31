"""The benchmarks of ``benchmarks/gpu_check.py``: each graphpair path timed side by side with
its baseline in the same process, on one device (CUDA on a GPU run; ``--device cpu`` runs them
at smoke-test sizes so that the code cannot rot). Each function returns rows
``[what, method, time, peak memory, note]`` and, where a target of issue 23 applies, a check
``(name, ok, detail)``; nothing here prints.

Reused from the CPU benchmarks: the torch.sparse CN+sum baseline and the seeded pairs
(``bench_link.py``, ``bench_common_neighbors.py``), the ZINC inputs and reference-style GRIT
(``bench_grit.py``), the Cora set-up and reference-style NCN predictor (``bench_link.py``),
the scatter/segment/softmax cases (``bench_scatter.py``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import cast

import torch
from torch import Tensor

from graphpair.nn import NCNPredictor
from graphpair.nn.link._common import _pair_ptr, _pair_segment_sum, _pair_spmm, pair_sum
from graphpair.ops import CSR, common_neighbors

__all__ = ["Check", "Row", "bench_all"]

Row = list[str]
Check = tuple[str, bool, str]


@dataclass(frozen=True)
class Sizes:
    """Benchmark sizes: ``full`` on a GPU run, ``smoke`` for ``--device cpu``."""

    cn_pairs: int
    grit_batches: tuple[int, ...]
    loss_rows: int
    scatter_rows: int
    repeats: int

    @classmethod
    def for_device(cls, device: torch.device, smoke: bool) -> Sizes:
        if smoke:
            return cls(512, (4,), 1024, 20_000, 1)
        return cls(65_536, (32, 128), 65_536, 2_000_000, 5)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device, repeats: int) -> tuple[float, int]:
    """Median seconds of ``repeats`` calls after one warm-up, and the peak extra CUDA memory
    of one call in bytes (0 on CPU, where the CPU benchmarks measure it in a child)."""
    fn()
    _sync(device)
    peak = 0
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        _sync(device)
        peak = torch.cuda.max_memory_allocated(device) - base
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], peak


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"


def _mib(value: int) -> str:
    return f"{value / 2**20:,.1f} MiB" if value else "-"


def _row(what: str, method: str, seconds: float, peak: int, note: str = "") -> Row:
    return [what, method, _fmt(seconds), _mib(peak), note]


# ---------------------------------------------------------------------- CN + sum on ddi


def bench_cn_sum(root: Path, device: torch.device, sizes: Sizes) -> tuple[list[Row], list[Check]]:
    """CN + sum of 256-wide embeddings on ogbl-ddi: graphpair, torch.sparse, the dense
    product; and pair_sum's two paths on the same members (the ``AUTO_RULES`` entry)."""
    from benchmarks._common import LOADERS, Graph
    from benchmarks.bench_common_neighbors import random_pairs, undirected_edges
    from benchmarks.bench_link import SparseCNSum

    graph = LOADERS["ogbl-ddi"](root)
    graph = Graph(graph.name, graph.edge_index.to(device), graph.num_nodes)
    h = torch.randn(graph.num_nodes, 256, generator=torch.Generator().manual_seed(2)).to(device)
    pairs = random_pairs(graph.num_nodes, sizes.cn_pairs, seed=0).to(device)
    adj = CSR.from_edge_index(graph.edge_index, graph.num_nodes)
    sparse = SparseCNSum(graph, h)
    src, dst = undirected_edges(graph)
    dense = torch.zeros(graph.num_nodes, graph.num_nodes, device=device)
    dense[src, dst] = 1.0
    chunk = max(1, 2**28 // (4 * graph.num_nodes))  # [B, N] float32 of at most 256 MiB

    def ours() -> Tensor:
        return pair_sum(h, common_neighbors(adj, pairs), pairs.size(1))

    def dense_product() -> Tensor:
        parts = [
            (dense[pairs[0, a : a + chunk]] * dense[pairs[1, a : a + chunk]]) @ h
            for a in range(0, pairs.size(1), chunk)
        ]
        return torch.cat(parts)

    reference = ours()
    rows, checks = [], []
    what = f"CN + sum, ogbl-ddi, {pairs.size(1):,} pairs, D = 256"
    times = {}
    for name, fn in (
        ("graphpair", ours),
        ("torch.sparse", lambda: sparse(pairs)),
        ("dense A[i]·A[j] @ h", dense_product),
    ):
        diff = float((fn() - reference).abs().max())
        seconds, peak = timed(fn, device, sizes.repeats)
        times[name] = seconds
        rows.append(_row(what, name, seconds, peak, f"max |diff| {diff:.1e}"))
        checks.append(
            (
                f"CN + sum {name} equals graphpair",
                diff <= 1e-3 * max(1.0, float(reference.abs().max())),
                f"{diff:.2e}",
            )
        )
    speedup = times["torch.sparse"] / times["graphpair"]
    checks.append(("CN + sum >= 5x faster than torch.sparse", speedup >= 5.0, f"{speedup:.1f}x"))

    members = common_neighbors(adj, pairs)
    num_pairs = pairs.size(1)
    ptr = _pair_ptr(members.pair_idx, num_pairs)
    paths = {
        "spmm": lambda: _pair_spmm(h, members.node_idx, None, ptr),
        "gather": lambda: _pair_segment_sum(h, members.node_idx, None, ptr, 2**26 // (4 * 256)),
    }
    path_times = {}
    for name, fn in paths.items():
        try:
            seconds, peak = timed(fn, device, sizes.repeats)
        except RuntimeError as error:  # a sparse product this build lacks
            rows.append([what, f"pair_sum {name}", "failed", "-", str(error)[:80]])
            continue
        path_times[name] = seconds
        rows.append(_row(what, f"pair_sum path {name}", seconds, peak, "members given"))
    if len(path_times) == 2:
        best = min(path_times, key=path_times.__getitem__)
        ratio = max(path_times.values()) / min(path_times.values())
        rows.append(
            [
                what,
                "AUTO_RULES entry",
                "-",
                "-",
                f"('pair_sum', '{device.type}'): '{best}' ({ratio:.2f}x)",
            ]
        )
    return rows, checks


# ---------------------------------------------------------------------- GRIT on ZINC


def bench_grit(root: Path, device: torch.device, sizes: Sizes) -> tuple[list[Row], list[Check]]:
    """Ten GRIT layers forward + backward on batches of ZINC graphs: graphpair (eager and
    with the fused kernels) against the reference-style layers of bench_grit.py."""
    from benchmarks import bench_grit as bg

    rows, checks = [], []
    for batch_size in sizes.grit_batches:
        config = bg.Config(batch_size, 10, 1, (1,), root, True)
        inputs = bg.build_inputs(config)
        moved = bg.Inputs(
            inputs.model.to(device),
            inputs.fused.to(device),
            inputs.reference.to(device),
            inputs.dense.to(device),
            inputs.full.to(device),
            inputs.sparse.to(device),
            [t.to(device) for t in inputs.dense_rrwp],
            inputs.other.to(device),
        )
        what = f"GRIT 10 layers fwd+bwd, ZINC batch {batch_size}"
        compile_s = bg.compile_fused(moved)
        try:  # fused kernels (inductor), reference-style and dense layers against graphpair
            worst = bg.check_outputs(moved)
            checks.append(
                (f"GRIT batch {batch_size}: fused and baselines equal", True, f"{worst:.1e}")
            )
        except AssertionError as error:
            checks.append(
                (f"GRIT batch {batch_size}: fused and baselines equal", False, str(error)[:200])
            )
        times = {}
        for method in (bg.GRAPHPAIR, bg.FUSED, bg.REFERENCE):
            seconds, peak = timed(bg.step_of(moved, method), device, sizes.repeats)
            times[method] = seconds
            note = f"compile {compile_s:.1f} s" if method == bg.FUSED else ""
            rows.append(_row(what, method, seconds, peak, note))
        best = min(times[bg.GRAPHPAIR], times[bg.FUSED])
        speedup = times[bg.REFERENCE] / best
        checks.append(
            (
                f"GRIT batch {batch_size} >= 2x faster than reference-style",
                speedup >= 2.0,
                f"{speedup:.2f}x",
            )
        )
    return rows, checks


# ---------------------------------------------------------------------- Cora NCN / NCNC


def bench_link_epoch(
    root: Path, device: torch.device, sizes: Sizes
) -> tuple[list[Row], list[Check]]:
    """One training epoch of the shipped Cora NCN and NCNC configs: graphpair's predictor
    against bench_link.py's reference-style predictor (same parameters), same epoch loop."""
    from benchmarks import bench_link as bl
    from graphpair.train._link import _train_epoch

    rows, checks = [], []
    smoke = sizes.repeats == 1
    for predictor_name in ("ncn", "ncnc"):
        case = bl.TrainCase("Cora", predictor_name, "epoch", 1, 1, batches=1 if smoke else None)
        config = bl.case_config(case, str(root))
        setup = bl.build_setup(case, config)
        x = None if setup.x is None else setup.x.to(device)
        train_pos, train_graph = setup.train_pos.to(device), setup.train_graph.to(device)
        what = f"Cora {predictor_name.upper()} epoch ({train_pos.size(1):,} positives)"
        times = {}
        for method in ("graphpair", "reference-style"):
            encoder = copy.deepcopy(setup.encoder).to(device)
            predictor: torch.nn.Module = copy.deepcopy(setup.predictor).to(device)
            if method == "reference-style":
                predictor = bl.ReferenceStylePredictor(cast(NCNPredictor, predictor))
            params = [*encoder.parameters(), *predictor.parameters()]
            optimizer = torch.optim.Adam(params, lr=1e-3)
            adj = CSR.from_edge_index(train_graph, setup.num_nodes)
            generator = torch.Generator().manual_seed(0)

            epoch = partial(
                _train_epoch,
                config,
                encoder,
                cast(NCNPredictor, predictor),  # the epoch only calls .train() and forward
                optimizer,
                x,
                adj,
                train_pos,
                train_graph,
                generator,
            )

            seconds, peak = timed(epoch, device, max(1, sizes.repeats // 2))
            times[method] = seconds
            rows.append(_row(what, method, seconds, peak))
        if predictor_name == "ncn":
            speedup = times["reference-style"] / times["graphpair"]
            checks.append(
                (
                    "Cora NCN epoch >= 2x faster than reference-style",
                    speedup >= 2.0,
                    f"{speedup:.2f}x",
                )
            )
    return rows, checks


# ---------------------------------------------------------------------- pair losses


def bench_losses(root: Path, device: torch.device, sizes: Sizes) -> tuple[list[Row], list[Check]]:
    """The pair losses forward + backward at N rows (128-wide, 64 classes): time and peak
    memory, against pytorch-metric-learning where it is installed and fits."""
    from graphpair import losses as L

    n = sizes.loss_rows
    g = torch.Generator().manual_seed(0)
    z = torch.randn(n, 128, generator=g).to(device).requires_grad_(True)
    labels = torch.randint(0, 64, (n,), generator=g).to(device)
    ours: dict[str, Callable[[], Tensor]] = {
        "info_nce": lambda: L.info_nce(z, labels),
        "sup_con": lambda: L.sup_con(z, labels),
        "multi_similarity": lambda: L.multi_similarity(z, labels),
        "grace": lambda: L.grace(z, z.flip(0)),
    }
    theirs: dict[str, Callable[[], Tensor]] = {}
    try:
        from pytorch_metric_learning import losses as pml

        theirs = {
            "info_nce": lambda: pml.NTXentLoss(0.07)(z, labels),
            "sup_con": lambda: pml.SupConLoss(0.1)(z, labels),
            "multi_similarity": lambda: pml.MultiSimilarityLoss()(z, labels),
        }
    except ImportError:
        pass
    rows: list[Row] = []
    what = f"pair losses fwd+bwd, N = {n:,}, D = 128"
    for name, fn in ours.items():
        for method, call in (("graphpair", fn), ("pytorch-metric-learning", theirs.get(name))):
            if call is None:
                continue
            step = (lambda c: lambda: c().backward())(call)
            try:
                seconds, peak = timed(step, device, sizes.repeats)
                rows.append(_row(what, f"{name} {method}", seconds, peak))
            except RuntimeError as error:  # torch.OutOfMemoryError, or the CPU allocator's
                if "memory" not in str(error) and "allocate" not in str(error):
                    raise
                rows.append([what, f"{name} {method}", "out of memory", "-", str(error)[:60]])
            z.grad = None
    return rows, []


# ---------------------------------------------------------------------- scatter backends


def bench_scatter(root: Path, device: torch.device, sizes: Sizes) -> tuple[list[Row], list[Check]]:
    """native against torch-scatter per op (bench_scatter.py's cases), and the
    ``AUTO_RULES`` entries the measurement calls for (>= 1.2x)."""
    from benchmarks import bench_scatter as bs
    from graphpair.ops import torch_scatter_available

    if not torch_scatter_available():
        return [["scatter backends", "-", "-", "-", "torch-scatter not installed"]], []
    groups = max(1, sizes.scatter_rows // 20)
    config = bs.Config(sizes.scatter_rows, 64, groups, 8, sizes.repeats, device)
    rows = []
    for label, (op, call) in bs.make_ops(config).items():
        times = {}
        for backend in ("native", "torch_scatter"):
            seconds, _ = timed(partial(call, backend), device, sizes.repeats)
            times[backend] = seconds
            rows.append(_row(label, backend, seconds, 0))
        ratio = times["native"] / times["torch_scatter"]
        rule = "torch_scatter" if ratio >= 1.2 else "native"
        entry = f"('{op}', '{device.type}'): '{rule}' (native / torch_scatter = {ratio:.2f})"
        rows.append([label, "AUTO_RULES entry", "-", "-", entry])
    return rows, []


BENCHMARKS: dict[str, Callable[[Path, torch.device, Sizes], tuple[list[Row], list[Check]]]] = {
    "CN + sum (ogbl-ddi)": bench_cn_sum,
    "GRIT (ZINC)": bench_grit,
    "Cora NCN / NCNC epoch": bench_link_epoch,
    "pair losses": bench_losses,
    "scatter backends": bench_scatter,
}


def bench_all(
    root: Path, device: torch.device, smoke: bool, only: set[str] | None = None
) -> tuple[dict[str, list[Row]], list[Check]]:
    """Every benchmark (or those named in ``only``); a benchmark that raises is a failed
    check with its error, and the others still run."""
    sizes = Sizes.for_device(device, smoke)
    tables: dict[str, list[Row]] = {}
    checks: list[Check] = []
    for name, fn in BENCHMARKS.items():
        if only is not None and name not in only:
            continue
        try:
            rows, found = fn(root, device, sizes)
        except Exception as error:  # reported in gpu.md, the run goes on
            rows, found = [], [(f"{name} ran", False, f"{type(error).__name__}: {error}"[:200])]
        if smoke:  # the speed targets are an H100's: at smoke sizes they are rows, not checks
            speed = [c for c in found if " faster than " in c[0]]
            rows += [[name, "target (not checked)", "-", "-", f"{c[0]}: {c[2]}"] for c in speed]
            found = [c for c in found if c not in speed]
        tables[name] = rows
        checks += found
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return tables, checks
