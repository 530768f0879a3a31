"""Link-runner speed of NCN and NCNC (issue 4): graphpair against a reference-style baseline.

Three tables, measured side by side in one run.

**Training time.** The runner's own training epoch (`graphpair.train._link._train_epoch`, wired
as `_run` wires it: `link_config(dataset, predictor)` with the shipped paper hyperparameters,
`load_dataset`, `link_split` with seed 0, `node_input`, `build_encoder`, `build_predictor`,
Adam with the encoder and predictor learning rates, a `graphpair.ops.CSR` of the training graph)
on Cora and CiteSeer: the median epoch after a warm-up epoch. On ogbl-ddi (batch 24,576, 1.07M
training positives, about 43 steps per epoch) a handful of steps only: `_train_epoch` runs on a
seeded random subset of warm-up + timed batches of training positives, and a step is timed from
one `optimizer.zero_grad()` to the next (the epoch's negative sampling is left out). Each
(dataset, predictor, method) runs in a fresh process, so one method's retained heap does not
shrink the other's peak and the NCNC ogbl-ddi step cannot exhaust the machine: the process's
address space is capped below the memory available at its start, and an allocation failure
is reported (with the NCNC completion chunk `chunk_size`, a memory-only setting, retried
smaller where the paper's does not fit). *Peak extra memory* is that process's
`VmHWM` over the method's epochs or steps minus `VmRSS` before them (default allocator).

The **reference-style baseline** is the same step with what the NCN reference does the
straightforward way, run through the same modules' layers and parameters: the input features
dense (`x.to_dense()`, so the first Linear multiplies the dense `[N, F]` bag of words), every
predictor dropout `torch.nn.functional.dropout`, and XLIN applied to all N node rows before the
common-neighbour sum. graphpair keeps bag-of-words features sparse through the first Linear,
computes XLIN only on the rows of common neighbours and uses `graphpair.nn._dropout.dropout`.
Everything else is shared (graphpair's CN op, the edge-mask target link removal, NCNC's scoring
of each distinct completion pair once, and the completion recursion of the shipped NCNC
configurations: the reference's, whose inner call takes ``h'``, applies XLIN, edge dropout and
dropout again), so the ratio isolates those three changes. Before
timing, both compute the logits of a masked training batch plus random pairs in eval mode from
the same parameters, and they must agree (allclose). Both methods start from the same
parameters, torch seed and generator (same negatives and batches); dropout draws differ.

**Where a step goes.** During the timed epochs or steps, wall time is charged exclusively (a
nested section pauses its parent) to: CN extraction (`graphpair.ops.common_neighbors`,
`neighbor_overlap`, `neighbor_difference`, wherever a module calls them), masking
(`CSR.mask_edges` and `CSR.unmask_edges`, i.e. `CSR.masked`), the encoder's forward, the
predictor's forward (less its CN extraction), `Tensor.backward`, and the optimizer
(`zero_grad` and `step`); *other* is the rest (negative sampling, permutation, loss, indexing).
The wrappers are installed by the benchmark in its own process; the package is unchanged.

**CN extraction plus the sum of CN embeddings** (hidden 256) for 65,536 uniformly random pairs
on ogbl-ddi and Cora (the pairs of `bench_common_neighbors.py`, seed 0):
`graphpair.ops.common_neighbors` + `graphpair.nn.link._common.pair_sum` against a torch.sparse
baseline (coalesced COO adjacency, rows of `i` and of `j` gathered with `index_select`,
intersected by elementwise product, then `torch.sparse.mm` with the `[N, 256]` embeddings).
The two sums are checked allclose before timing; *first call* includes graphpair's bitset
build, *warm* is the median of the calls after it, *peak extra memory* is a first call in a
fresh process (`_common.peak_memory`). Issue 4's memory targets read GB as 10⁹ bytes.
"""

from __future__ import annotations

import argparse
import copy
import gc
import itertools
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial, wraps
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import graphpair.ops
from benchmarks._common import (
    LOADERS,
    PEAK_FALLBACK_NOTE,
    Graph,
    _status_bytes,
    add_common_arguments,
    cap_memory,
    fmt_bytes,
    fmt_peak,
    fmt_time,
    markdown_table,
    median_time,
    peak_memory,
    publish,
    reset_peak,
    resolve_data_root,
    time_once,
)
from benchmarks.bench_common_neighbors import random_pairs, undirected_edges
from graphpair.data import link_split, load_dataset
from graphpair.nn import NCNCPredictor, NCNPredictor
from graphpair.nn.link._common import Stack, drop_edges, pair_sum
from graphpair.ops import CSR, PairNodeSet
from graphpair.train import LinkConfig, link_config
from graphpair.train._link import _train_epoch
from graphpair.train._link_builder import build_encoder, build_predictor, node_input

SEED = 0
METHODS = ("graphpair", "baseline")
SECTIONS = ("cn", "masking", "encoder", "predictor", "backward", "optimizer")
SECTION_LABELS = {
    "cn": "CN extraction",
    "masking": "masking",
    "encoder": "encoder fwd",
    "predictor": "predictor fwd (less CN)",
    "backward": "backward",
    "optimizer": "optimizer",
    "other": "other",
}
#: Functions whose calls count as CN extraction, found by identity in every graphpair module.
CN_FUNCTIONS = ("common_neighbors", "neighbor_overlap", "neighbor_difference")
#: Issue 4's targets and the reference implementation's times on this machine (seconds).
TRAIN_TARGETS: dict[tuple[str, str], tuple[float, float]] = {
    ("Cora", "ncn"): (0.19, 0.38),
    ("Cora", "ncnc"): (0.24, 0.72),
    ("CiteSeer", "ncn"): (0.5, 2.33),
}
#: CN + sum targets: (seconds, bytes or None) and the reference's (seconds, bytes or None).
CN_SUM_TARGETS: dict[str, tuple[tuple[float, float | None], tuple[float, float | None]]] = {
    "ogbl-ddi": ((0.8, 1.4e9), (3.31, 2.4e9)),
    "Cora": ((0.014, None), (0.028, None)),
}
CN_SUM_HIDDEN = 256
#: NCNC completion chunk tried when the configured one runs out of memory (memory only).
FALLBACK_CHUNK = 16_384
_ALLOC_ERRORS = ("can't allocate memory", "cannot allocate memory", "out of memory")


@dataclass(frozen=True)
class TrainCase:
    """One (dataset, predictor) training measurement, run in a fresh process."""

    dataset: str
    predictor: str
    unit: str
    """``'epoch'`` (Planetoid) or ``'step'`` (ogbl-ddi)."""
    warmup: int
    timed: int
    batches: int | None = None
    """Train on a seeded subset of this many batches of positives (``None``: all)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """``link_config`` overrides on top of the shipped configuration."""
    check_pairs: int = 256
    """Pairs of the graphpair-versus-baseline equality check."""

    def __post_init__(self) -> None:
        if self.unit not in ("epoch", "step") or self.timed < 1 or self.warmup < 0:
            raise ValueError(f"bad timing plan: {self}")
        if self.unit == "step" and self.batches != self.warmup + self.timed:
            raise ValueError(f"a step case trains on warmup + timed batches: {self}")


@dataclass(frozen=True)
class Config:
    """Sizes of one run."""

    train_cases: tuple[TrainCase, ...]
    cn_pairs: int
    cn_repeats: dict[str, int]
    data_root: Path
    quick: bool

    @classmethod
    def from_args(cls, quick: bool, data_root: str | None) -> Config:
        root = resolve_data_root(data_root)
        planetoid = [(d, p) for d in ("Cora", "CiteSeer") for p in ("ncn", "ncnc")]
        if quick:  # one-batch epochs, a narrow ogbl-ddi model: a smoke test of every path
            tiny = {"batch_size": 16, "hidden_channels": 32, "chunk_size": 1_024}
            return cls(
                (
                    *(TrainCase(d, p, "epoch", warmup=1, timed=1, batches=1) for d, p in planetoid),
                    *(
                        TrainCase("ogbl-ddi", p, "step", 1, 1, 2, overrides=tiny, check_pairs=8)
                        for p in ("ncn", "ncnc")
                    ),
                ),
                4_096,
                {"ogbl-ddi": 2, "Cora": 2},
                root,
                quick,
            )
        return cls(
            (
                *(TrainCase(d, p, "epoch", warmup=1, timed=10) for d, p in planetoid),
                # An ogbl-ddi NCN step takes tens of seconds on 2 cores, an NCNC step (about
                # 10M distinct completion pairs, each an inner NCN) minutes: a handful only.
                TrainCase("ogbl-ddi", "ncn", "step", warmup=1, timed=2, batches=3, check_pairs=64),
                TrainCase("ogbl-ddi", "ncnc", "step", warmup=0, timed=1, batches=1, check_pairs=16),
            ),
            65_536,
            {"ogbl-ddi": 5, "Cora": 20},
            root,
            quick,
        )


# ---------------------------------------------------------------------- the baseline


def _torch_stack(stack: Stack, x: Tensor, training: bool) -> Tensor:
    """A predictor MLP run through its own layers, with ``F.dropout`` for its dropout steps."""
    layers = iter(stack.layers)
    for kind in stack.layout:
        if kind == "do":
            x = F.dropout(x, stack.dropout, training=training)
        elif kind == "relu":
            x = F.relu(x)
        else:
            x = next(layers)(x)
    return x


class ReferenceStylePredictor(torch.nn.Module):
    """NCN / NCNC computed the reference's straightforward way from a graphpair predictor's
    layers: XLIN over all N rows, torch dropout. Same parameters (they are the wrapped
    module's), so in eval mode the logits equal the wrapped predictor's."""

    def __init__(self, predictor: NCNPredictor) -> None:
        super().__init__()
        if isinstance(predictor, NCNCPredictor) and (predictor.depth > 1 or predictor.learn_pt):
            raise ValueError(
                "the baseline implements NCNC with depth 1 and learn_pt=False (the shipped "
                f"configs); got {predictor!r}"
            )
        self.predictor = predictor

    def _logits(self, h: Tensor, z: Tensor, pairs: Tensor, training: bool) -> Tensor:
        p = self.predictor
        cn = _torch_stack(p.cn_mlp, z, training)
        ij = _torch_stack(p.ij_mlp, h[pairs[0]] * h[pairs[1]], training)
        return _torch_stack(p.head, p.beta * cn + ij, training).view(-1)

    def _xlin(self, h: Tensor, training: bool) -> Tensor:
        xlin = self.predictor.xlin
        return h if xlin is None else h + _torch_stack(xlin, h, training)  # all N rows

    def _completed_sum(
        self, h: Tensor, hx: Tensor, adj: CSR, pairs: Tensor, training: bool
    ) -> Tensor:
        """NCNC's z: CN sum plus both neighbour differences weighted by completion probability."""
        p = cast(NCNCPredictor, self.predictor)
        num_pairs, num_nodes = pairs.size(1), max(adj.num_nodes, 1)
        common, i_only, j_only = graphpair.ops.neighbor_overlap(adj, pairs, method=p.cn_method)
        anchor = torch.cat([pairs[1][i_only.pair_idx], pairs[0][j_only.pair_idx]])  # [R]
        candidate = torch.cat([i_only.node_idx, j_only.node_idx])  # [R]
        keys, inverse = torch.unique(anchor * num_nodes + candidate, return_inverse=True)
        inner_pairs = torch.stack([keys // num_nodes, keys % num_nodes])  # [2, U]
        with torch.no_grad():
            if p.official_recursion:  # the reference's: h' in, XLIN and edge dropout again
                inner_h, inner_training = hx, training
                inner_hx = self._xlin(hx, training)
                inner_adj = adj
                if training and p.edge_dropout > 0:
                    inner_adj = drop_edges(adj, p.edge_dropout)
            else:
                inner_h, inner_training, inner_adj = h, False, adj
                inner_hx = self._xlin(h, False) if training else hx
            chunk = inner_pairs.size(1) if p.chunk_size is None else p.chunk_size
            scores = [
                self._logits(
                    inner_h,
                    pair_sum(inner_hx, graphpair.ops.common_neighbors(inner_adj, c), c.size(1)),
                    c,
                    inner_training,
                )
                for c in torch.split(inner_pairs, max(chunk, 1), dim=1)
            ]
            score = torch.cat(scores) if scores else h.new_empty(0)
        prob = p.alpha * torch.sigmoid(p.scale * (score[inverse] - p.offset) + math.log(p.pt))
        split = i_only.pair_idx.numel()
        return (
            pair_sum(hx, common, num_pairs)
            + pair_sum(hx, i_only, num_pairs, prob[:split])
            + pair_sum(hx, j_only, num_pairs, prob[split:])
        )  # [P, D]

    def forward(self, h: Tensor, adj: CSR, pairs: Tensor) -> Tensor:
        p, training = self.predictor, self.training
        pairs = pairs.long()
        if training and p.edge_dropout > 0:
            adj = drop_edges(adj, p.edge_dropout)
        hx = self._xlin(h, training)
        if isinstance(p, NCNCPredictor) and p.depth > 0:
            z = self._completed_sum(h, hx, adj, pairs, training)
        else:
            members = graphpair.ops.common_neighbors(adj, pairs, method=p.cn_method)
            z = pair_sum(hx, members, pairs.size(1))
        return self._logits(h, z, pairs, training)


def dense_input(x: Tensor | None) -> Tensor | None:
    """The reference's input: sparse features made dense (ids and ``None`` unchanged)."""
    return x.to_dense() if x is not None and x.layout != torch.strided else x


# ---------------------------------------------------------------------- step profile


class SectionTimer:
    """Exclusive wall time per named section: entering a nested section pauses its parent."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = dict.fromkeys(SECTIONS, 0.0)
        self.marks: list[tuple[float, dict[str, float]]] = []
        """``(time, totals so far)`` at each step start (``optimizer.zero_grad``)."""
        self._stack: list[str] = []
        self._last = 0.0

    def reset(self) -> None:
        self.totals = dict.fromkeys(SECTIONS, 0.0)
        self.marks = []

    def _charge(self) -> float:
        now = time.perf_counter()
        if self._stack:
            self.totals[self._stack[-1]] += now - self._last
        self._last = now
        return now

    def mark(self) -> None:
        self.marks.append((self._charge(), dict(self.totals)))

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        self._charge()
        self._stack.append(name)
        try:
            yield
        finally:
            self._charge()
            self._stack.pop()

    def wrap(self, fn: Callable[..., Any], name: str, *, mark: bool = False) -> Callable[..., Any]:
        @wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if mark:
                self.mark()
            with self.section(name):
                return fn(*args, **kwargs)

        return timed


@contextmanager
def _patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    """Set ``owner.name = value`` for the block (deleted again if it was not set on ``owner``)."""
    had = name in vars(owner)
    old = vars(owner).get(name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if had:
            setattr(owner, name, old)
        else:
            delattr(owner, name)


@contextmanager
def instrumented(
    timer: SectionTimer,
    encoder: torch.nn.Module,
    predictor: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
) -> Iterator[None]:
    """Route the step's pieces through ``timer`` (see the module docstring) for the block."""
    with ExitStack() as stack:
        for fn_name in CN_FUNCTIONS:
            original = getattr(graphpair.ops, fn_name)
            timed = timer.wrap(original, "cn")
            for module_name, module in list(sys.modules.items()):
                if module_name.split(".")[0] != "graphpair":
                    continue
                if getattr(module, fn_name, None) is original:
                    stack.enter_context(_patched(module, fn_name, timed))
        for method in ("mask_edges", "unmask_edges"):
            stack.enter_context(_patched(CSR, method, timer.wrap(getattr(CSR, method), "masking")))
        stack.enter_context(_patched(encoder, "forward", timer.wrap(encoder.forward, "encoder")))
        stack.enter_context(
            _patched(predictor, "forward", timer.wrap(predictor.forward, "predictor"))
        )
        backward = timer.wrap(Tensor.backward, "backward")
        stack.enter_context(_patched(Tensor, "backward", backward))
        zero_grad = timer.wrap(optimizer.zero_grad, "optimizer", mark=True)
        stack.enter_context(_patched(optimizer, "zero_grad", zero_grad))
        stack.enter_context(_patched(optimizer, "step", timer.wrap(optimizer.step, "optimizer")))
        yield


# ---------------------------------------------------------------------- training child


def _is_alloc_error(err: BaseException) -> bool:
    return isinstance(err, MemoryError) or any(s in str(err).lower() for s in _ALLOC_ERRORS)


def _progress(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def case_config(case: TrainCase, data_root: str, **extra: Any) -> LinkConfig:
    """The shipped configuration of the case with its overrides; never downloads."""
    overrides = {**case.overrides, **extra}
    return link_config(
        case.dataset, case.predictor, data_root=data_root, download=False, **overrides
    )


@dataclass
class Setup:
    """Everything ``_run`` builds before its epoch loop, with pristine models."""

    config: LinkConfig
    x: Tensor | None
    encoder: torch.nn.Module
    predictor: NCNPredictor
    train_graph: Tensor
    num_nodes: int
    train_pos: Tensor
    num_train: int


def build_setup(case: TrainCase, config: LinkConfig) -> Setup:
    """Data, split, input and models as ``graphpair.train._link._run`` builds them (seed 0)."""
    dataset = load_dataset(config.dataset, config.data_root, cache=config.cache, download=False)
    split = link_split(dataset, SEED)
    x, in_channels, num_embeddings = node_input(config, dataset.data)
    torch.manual_seed(SEED)
    encoder = build_encoder(config, in_channels, num_embeddings)
    predictor = build_predictor(config)
    if not isinstance(predictor, NCNPredictor):
        raise TypeError(f"only NCN and NCNC are benchmarked; got {type(predictor).__name__}")
    train_pos = split.train_pos
    num_train = train_pos.size(1)
    if case.batches is not None:
        generator = torch.Generator().manual_seed(SEED)
        keep = torch.randperm(num_train, generator=generator)[: case.batches * config.batch_size]
        train_pos = train_pos[:, keep]
    return Setup(
        config,
        x,
        encoder,
        predictor,
        split.edge_index("train"),
        split.num_nodes,
        train_pos,
        num_train,
    )


def check_same(setup: Setup, count: int) -> str:
    """graphpair's and the baseline's eval-mode logits on a masked training batch plus random
    pairs, from the same parameters; raises if they differ. Returns a one-line summary."""
    adj = CSR.from_edge_index(setup.train_graph, setup.num_nodes)
    generator = torch.Generator().manual_seed(SEED + 1)
    pos = setup.train_pos[:, : count // 2]
    rand = torch.randint(0, setup.num_nodes, (2, count - pos.size(1)), generator=generator)
    pairs = torch.cat([pos, rand], 1)
    encoder, predictor = setup.encoder.eval(), setup.predictor.eval()
    baseline = ReferenceStylePredictor(predictor).eval()
    with torch.no_grad(), adj.masked(pos) as graph:
        ours = predictor(encoder(setup.x, graph), graph, pairs)
        theirs = baseline(encoder(dense_input(setup.x), graph), graph, pairs)
    diff = float((ours - theirs).abs().max()) if ours.numel() else 0.0
    if not torch.allclose(ours, theirs, rtol=1e-4, atol=1e-4):
        raise AssertionError(
            f"{setup.config.dataset} {setup.config.predictor}: graphpair and the baseline "
            f"disagree on {pairs.size(1)} pairs (max |difference| {diff:.3g})"
        )
    return f"{pairs.size(1)} pairs, max |logit difference| {diff:.1e}"


def measure_method(case: TrainCase, setup: Setup, method: str) -> dict[str, Any]:
    """Warm-up then timed epochs (or steps) of one method; times, section totals, peak."""
    config = setup.config
    encoder = copy.deepcopy(setup.encoder)
    predictor: torch.nn.Module = copy.deepcopy(setup.predictor)
    x = setup.x
    if isinstance(predictor, NCNCPredictor):
        predictor.chunk_size = config.chunk_size  # the fallback, when it is in use
    if method == "baseline":
        predictor, x = ReferenceStylePredictor(cast(NCNPredictor, predictor)), dense_input(x)
    optimizer = torch.optim.Adam(
        [
            {"params": list(encoder.parameters()), "lr": config.gnnlr},
            {"params": list(predictor.parameters()), "lr": config.prelr},
        ]
    )
    adj = CSR.from_edge_index(setup.train_graph, setup.num_nodes)  # fresh: no shared bitset
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    epoch = partial(
        _train_epoch,
        config,
        encoder,
        cast(NCNPredictor, predictor),  # the runner only calls .train() and forward
        optimizer,
        x,
        adj,
        setup.train_pos,
        setup.train_graph,
        generator,
    )
    timer = SectionTimer()
    rss = reset_peak()
    with instrumented(timer, encoder, predictor, optimizer):
        if case.unit == "epoch":
            for _ in range(case.warmup):
                epoch()
            timer.reset()
            _, times = median_time(epoch, case.timed, warmup=0)
            wall = sum(times)
            sections = dict(timer.totals)
        else:  # steps: one epoch over warm-up + timed batches, timed between zero_grads
            epoch()
            timer.mark()  # the end of the last step
            starts = [t for t, _ in timer.marks]
            times = [b - a for a, b in itertools.pairwise(starts)][case.warmup :]
            first, last = timer.marks[case.warmup], timer.marks[-1]
            wall = last[0] - first[0]
            sections = {k: last[1][k] - first[1][k] for k in SECTIONS}
    peak = None if rss is None else _status_bytes("VmHWM") - rss
    return {"times": times, "wall": wall, "sections": sections, "peak": peak}


def run_train_case(
    case: TrainCase, data_root: str, methods: tuple[str, ...] = METHODS
) -> dict[str, Any]:
    """Child side: set up once, check, then measure ``methods`` in turn."""
    allowed = cap_memory()
    config = case_config(case, data_root)
    _progress(f"{case.dataset} {case.predictor}: loading")
    setup = build_setup(case, config)
    check = check_same(setup, case.check_pairs)
    result: dict[str, Any] = {
        "check": check,
        "batch_size": config.batch_size,
        "num_train": setup.num_train,
        "steps_per_epoch": setup.train_pos.size(1) // config.batch_size,
        "memory_cap": allowed,
        "methods": {},
    }
    # NCNC's completion chunk is a memory-only setting: where the configured one does not fit
    # under the cap, the method runs with the smaller one (each method's process finds out).
    chunks = [config.chunk_size]
    if case.predictor == "ncnc" and (config.chunk_size or math.inf) > FALLBACK_CHUNK:
        chunks.append(FALLBACK_CHUNK)
    note = ""
    for method in methods:
        _progress(f"{case.dataset} {case.predictor}: {method}")
        while True:
            chunk = chunks[0]
            setup.config = case_config(case, data_root, chunk_size=chunk)
            try:
                entry = measure_method(case, setup, method)
            except (RuntimeError, MemoryError) as err:
                if not _is_alloc_error(err):
                    raise
                gc.collect()
                message = str(err).strip().splitlines()[-1][:200]
                entry = {"error": f"chunk_size={chunk}: out of memory ({message})"}
                _progress(entry["error"])
                if len(chunks) > 1:
                    note = (
                        f"chunk_size {chunk:,} ran out of memory under the cap; "
                        f"this method ran with chunk_size {chunks[1]:,} (memory only)"
                    )
                    chunks.pop(0)
                    continue
            break
        if note:
            entry["note"] = note
        result["methods"][method] = entry
        gc.collect()
    return result


def run_in_child(case: TrainCase, data_root: Path) -> dict[str, Any]:
    """Run :func:`run_train_case` for each method in its own fresh interpreter and merge the
    answers; failures come back as ``error``.

    One process per method, because the peak-memory figure (``VmHWM`` minus ``VmRSS`` before)
    of a method run second in a process starts from the first one's retained heap: on ogbl-ddi
    NCN, whichever method ran second showed about 1 GiB less.
    """
    merged: dict[str, Any] = {}
    for method in METHODS:
        payload = json.dumps(
            {"case": case.__dict__, "data_root": str(data_root), "methods": [method]}
        )
        result = subprocess.run(
            [sys.executable, __file__, "--child", payload],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            why = "killed by a signal (out of memory?)" if result.returncode < 0 else "failed"
            return {"error": f"child for {method} {why}, exit {result.returncode}; see the log"}
        answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        methods = {**merged.get("methods", {}), **answer["methods"]}
        merged = {**answer, "methods": methods}
    return merged


def _child_main(payload: str) -> None:
    data = json.loads(payload)
    case = TrainCase(**data["case"])
    methods = tuple(data.get("methods", METHODS))
    print(json.dumps(run_train_case(case, data["data_root"], methods)))


# ---------------------------------------------------------------------- CN + sum


class GraphpairCNSum:
    """``pair_sum(h, common_neighbors(adj, pairs))`` on a CSR built in the set-up."""

    def __init__(self, graph: Graph, h: Tensor) -> None:
        self.adj = CSR.from_edge_index(graph.edge_index, graph.num_nodes)
        self.h = h

    def __call__(self, pairs: Tensor) -> Tensor:
        members: PairNodeSet = graphpair.ops.common_neighbors(self.adj, pairs)
        return pair_sum(self.h, members, pairs.size(1))

    def note(self) -> str:
        return f"auto chose {graphpair.ops.common_neighbors_method(self.adj)}"


class SparseCNSum:
    """Baseline: COO rows of ``i`` and ``j`` gathered, multiplied (intersection), times ``h``."""

    def __init__(self, graph: Graph, h: Tensor) -> None:
        size = (graph.num_nodes, graph.num_nodes)
        edge_index = undirected_edges(graph)
        values = torch.ones(edge_index.size(1))
        merged = torch.sparse_coo_tensor(edge_index, values, size, check_invariants=True)
        indices = merged.coalesce().indices()  # sorted, duplicates merged
        self.adj = torch.sparse_coo_tensor(
            indices, torch.ones(indices.size(1)), size, is_coalesced=True, check_invariants=True
        )
        self.h = h

    def __call__(self, pairs: Tensor) -> Tensor:
        rows_i = self.adj.index_select(0, pairs[0]).coalesce()  # sparse [P, N]
        rows_j = self.adj.index_select(0, pairs[1]).coalesce()
        out: Tensor = torch.sparse.mm(rows_i * rows_j, self.h)  # [P, D]
        return out

    def note(self) -> str:
        return ""


CN_SUM_METHODS: dict[str, Callable[[Graph, Tensor], GraphpairCNSum | SparseCNSum]] = {
    "graphpair": GraphpairCNSum,
    "torch.sparse": SparseCNSum,
}


def embeddings(num_nodes: int) -> Tensor:
    """Seeded node embeddings ``[N, 256]``."""
    generator = torch.Generator().manual_seed(SEED + 2)
    return torch.randn(num_nodes, CN_SUM_HIDDEN, generator=generator)


def setup_case(case: dict[str, Any]) -> Callable[[], object]:
    """Peak-memory child: load the graph, build the method's structure, return one call."""
    cap_memory()
    config = Config.from_args(case["quick"], case["data_root"])
    graph = LOADERS[case["graph"]](config.data_root)
    method = CN_SUM_METHODS[case["method"]](graph, embeddings(graph.num_nodes))
    pairs = random_pairs(graph.num_nodes, config.cn_pairs, seed=SEED)
    return lambda: method(pairs)


def _verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "yes" if value <= target else "**no**"


def compare_cn_sum(graph: Graph, config: Config) -> tuple[list[list[str]], str]:
    """CN + sum table rows for one graph and a sentence about the pairs."""
    pairs = random_pairs(graph.num_nodes, config.cn_pairs, seed=SEED)
    h = embeddings(graph.num_nodes)
    repeats = config.cn_repeats[graph.name]
    (target_s, target_b), (ref_s, ref_b) = CN_SUM_TARGETS[graph.name]
    rows, exact = [], True
    reference: Tensor | None = None
    for label, build in CN_SUM_METHODS.items():
        print(f"  CN + sum, {graph.name}: {label}", flush=True)
        method = build(graph, h)
        first_s, out = time_once(partial(method, pairs))
        if reference is None:
            reference = out
        elif not torch.allclose(out, reference, rtol=1e-4, atol=1e-3):
            diff = float((out - reference).abs().max())
            raise AssertionError(f"{label} on {graph.name}: sums differ (max {diff:.3g})")
        warm, _ = median_time(partial(method, pairs), repeats, warmup=0)
        case = {
            "quick": config.quick,
            "data_root": str(config.data_root),
            "graph": graph.name,
            "method": label,
        }
        try:
            peak = peak_memory(__file__, case)
            peak_text = fmt_peak(peak)
            exact &= peak.exact
            peak_ok = _verdict(peak.bytes, target_b) if label == "graphpair" else ""
        except RuntimeError as err:
            peak_text, peak_ok = f"failed: {str(err).splitlines()[0][:80]}", ""
        is_ours = label == "graphpair"
        rows.append(
            [
                graph.name,
                label,
                fmt_time(first_s),
                fmt_time(warm),
                peak_text,
                f"<= {fmt_time(target_s)}" + (f", <= {target_b / 1e9:.1f} GB" if target_b else ""),
                fmt_time(ref_s) + (f", {ref_b / 1e9:.1f} GB" if ref_b else ""),
                " / ".join(v for v in (_verdict(warm, target_s), peak_ok) if v) if is_ours else "",
                method.note(),
            ]
        )
        del method, out
        gc.collect()
    assert reference is not None
    ours, theirs = rows[0], rows[1]
    summary = (
        f"**{graph.name}**: {config.cn_pairs:,} random pairs; the sums of graphpair and "
        f"torch.sparse agree (allclose); warm graphpair / torch.sparse: "
        f"{ours[3]} / {theirs[3]}."
    )
    if not exact:
        summary += "\n\n" + PEAK_FALLBACK_NOTE
    return rows, summary


# ---------------------------------------------------------------------- report


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _describe_case(case: TrainCase, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{case.dataset} {case.predictor}: {result['error']}"
    if case.unit == "epoch":
        steps = f"{result['steps_per_epoch']} steps of {result['batch_size']:,} per epoch"
        return f"{case.dataset} {case.predictor}: {steps}; check: {result['check']}"
    steps = f"{case.warmup} warm-up + {case.timed} timed steps of {result['batch_size']:,}"
    return (
        f"{case.dataset} {case.predictor}: {steps} (of {result['num_train']:,} positives); "
        f"check: {result['check']}"
    )


def train_rows(
    cases: list[tuple[TrainCase, dict[str, Any]]],
) -> tuple[list[list[str]], list[list[str]]]:
    """Rows of the training-time table and of the step-profile table."""
    time_rows, share_rows = [], []
    for case, result in cases:
        methods = result.get("methods", {})
        medians: dict[str, float] = {}
        cells: dict[str, str] = {}
        peaks: dict[str, str] = {}
        notes = []
        for method in METHODS:
            entry = methods.get(method, {"error": result.get("error", "not run")})
            if "error" in entry:
                cells[method] = "failed"
                notes.append(f"{method}: {entry['error']}")
                continue
            medians[method] = _median(entry["times"])
            cells[method] = fmt_time(medians[method])
            peaks[method] = "?" if entry["peak"] is None else fmt_bytes(entry["peak"])
            if entry.get("note"):
                notes.append(f"{method}: {entry['note']}")
            wall = max(entry["wall"], 1e-12)
            shares = dict(entry["sections"])
            shares["other"] = wall - sum(shares.values())
            share_rows.append(
                [
                    case.dataset,
                    case.predictor.upper(),
                    method,
                    f"{fmt_time(medians[method])} / {case.unit}",
                    *(f"{100 * shares[k] / wall:.0f} %" for k in SECTION_LABELS),
                ]
            )
        ratio = (
            f"{medians['graphpair'] / medians['baseline']:.2f}x"
            if len(medians) == len(METHODS)
            else ""
        )
        target, ref = TRAIN_TARGETS.get((case.dataset, case.predictor), (None, None))
        met = ""
        if target is not None and "graphpair" in medians:
            met = _verdict(medians["graphpair"], target)
        time_rows.append(
            [
                case.dataset,
                case.predictor.upper(),
                case.unit,
                cells["graphpair"],
                cells["baseline"],
                ratio,
                "" if target is None else f"<= {fmt_time(target)}",
                "" if ref is None else fmt_time(ref),
                met,
                " / ".join(peaks.get(m, "") for m in METHODS),
                "; ".join(notes),
            ]
        )
    return time_rows, share_rows


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark and write ``results/link_speed.md`` (``.quick.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    config = Config.from_args(args.quick, args.data_root)
    start = time.perf_counter()

    cases = []
    for case in config.train_cases:
        print(f"  training: {case.dataset} {case.predictor.upper()} ({case.unit}s)", flush=True)
        result = run_in_child(case, config.data_root)
        if "error" in result:
            print(f"  {case.dataset} {case.predictor}: {result['error']}", flush=True)
        cases.append((case, result))
    time_rows, share_rows = train_rows(cases)

    notes, cn_rows = [], []
    for name in CN_SUM_TARGETS:
        try:
            graph = LOADERS[name](config.data_root)
        except FileNotFoundError as err:
            line = f"**{name}: skipped.** {err}"
            print(line, flush=True)
            notes.append(line)
            continue
        rows, summary = compare_cn_sum(graph, config)
        cn_rows += rows
        notes.append(summary)

    sections = [
        __doc__.split("\n\n", 1)[1],
        f"Data root: `{config.data_root}`. Seed {SEED} everywhere (split, models, batches, "
        f"negatives, pairs). Whole run {time.perf_counter() - start:.0f} s.",
        "## Training time (median)",
        markdown_table(
            [
                "dataset",
                "predictor",
                "unit",
                "graphpair",
                "reference-style baseline",
                "graphpair / baseline",
                "issue 4 target",
                "reference impl. (issue 4)",
                "target met",
                "peak extra memory (graphpair / baseline)",
                "notes",
            ],
            time_rows,
        ),
        "\n".join(f"- {_describe_case(c, r)}" for c, r in cases),
        "## Where a step goes (share of the timed epochs' or steps' wall time)",
        markdown_table(
            ["dataset", "predictor", "method", "median", *SECTION_LABELS.values()], share_rows
        ),
        f"## CN extraction + sum of CN embeddings (hidden {CN_SUM_HIDDEN})",
        *notes,
        markdown_table(
            [
                "graph",
                "method",
                "first call",
                "warm call",
                "peak extra memory",
                "issue 4 target",
                "reference impl. (issue 4)",
                "target met (time / memory)",
                "notes",
            ],
            cn_rows,
        ),
    ]
    return publish("link_speed", "Link runner speed (NCN, NCNC)", sections, args.quick)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child_main(sys.argv[2])
    else:
        main()
