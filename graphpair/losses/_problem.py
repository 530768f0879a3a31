"""The anchor x reference problem behind every embedding loss, single-process or distributed.

Every embedding loss compares *anchors* (rows of the loss matrix) with *references* (columns):

- one set of embeddings: anchors = references, and the self pair ``(i, i)`` is excluded;
- ``ref_emb`` given: anchors = embeddings, references = ``ref_emb``, no pair is excluded
  (pytorch-metric-learning's convention);
- ``distributed=True``: embeddings (and ``ref_emb``) are first all-gathered with gradients in
  rank order, so every rank sees the global batch. Anchors are all gathered rows, or with
  ``local_anchors=True`` only this rank's rows (their references are still all gathered rows).

Gradient convention in the distributed modes: on every rank the returned value equals the loss
of a single process on the concatenated batch, and the gradient of this rank's rows is
``world_size`` times that process's gradient for them. ``DistributedDataParallel`` averages
parameter gradients over ranks, which divides that factor out: parameter gradients equal
single-process training on the concatenated batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from graphpair.losses._blocks import SortedPairs, Source, sort_pairs, unsort
from graphpair.losses._common import (
    BlockFn,
    Pairs,
    check_embeddings,
    check_indices_tuple,
    check_labels,
    normalize,
    pairwise_distance,
    plan_rows,
    rowwise_distance,
    run_blocks,
    sort_keys,
)
from graphpair.losses._distributed import (
    all_reduce_sum,
    gather_rows,
    gather_sizes,
    require_distributed,
)

__all__ = [
    "IndexInputs",
    "Problem",
    "build_problem",
    "build_two_view_problem",
    "check_mode",
    "finish",
    "index_inputs",
    "label_source",
    "pair_presence",
    "pair_source",
    "pair_values",
    "positive_pair_count",
    "run_source",
]


@dataclass
class Problem:
    """Anchors against references, ready for the row-block engine."""

    anchors: Tensor
    """``[M, D]`` anchor rows (normalised for the similarity losses)."""
    anchor_labels: Tensor
    """``[M]``."""
    self_cols: Tensor | None
    """``[M]`` column of each anchor among the references (excluded), ``None`` for none."""
    refs: Tensor
    """``[R, D]`` reference rows."""
    ref_labels: Tensor
    """``[R]``."""
    all_anchor_labels: Tensor
    """Labels of every anchor of the global batch (all ranks): decides 'no positive pair'."""
    world_size: int = 1
    """Number of ranks, 1 when not distributed."""
    local: bool = False
    """Anchors are this rank's rows only: counts are summed over ranks in :func:`finish`."""
    distributed: bool = False


def _prepare(x: Tensor, normalized: bool) -> Tensor:
    return normalize(x) if normalized else x


def build_problem(
    name: str,
    embeddings: object,
    labels: object,
    ref_emb: object,
    ref_labels: object,
    *,
    normalized: bool,
    distributed: bool,
    local_anchors: bool,
) -> Problem:
    """Validate the embedding inputs of loss ``name`` and lay them out as a :class:`Problem`.

    ``labels=None`` with ``ref_emb`` given is the self-supervised case: row i of
    ``embeddings`` and row i of ``ref_emb`` are the only positive pair of anchor i.
    """
    emb = check_embeddings("embeddings", embeddings)
    ref = None if ref_emb is None else check_embeddings("ref_emb", ref_emb, dim_like=emb)
    n = emb.size(0)
    if labels is None:
        if ref is None:
            raise ValueError(
                f"{name}: give labels (one per embedding row), or ref_emb for the "
                "self-supervised case (row i of embeddings and of ref_emb are a positive pair)"
            )
        if ref_labels is not None:
            raise ValueError(f"{name}: ref_labels needs labels; got labels=None")
        if ref.size(0) != n:
            raise ValueError(
                f"{name}: without labels, ref_emb must have one row per embedding row ({n}); "
                f"got shape {tuple(ref.shape)}"
            )
        lab = None
        ref_lab = None
    else:
        lab = check_labels("labels", labels, n).to(emb.device)
        if ref is not None:
            if ref_labels is None:
                raise ValueError(f"{name}: ref_emb needs ref_labels (one per ref_emb row)")
            ref_lab = check_labels("ref_labels", ref_labels, ref.size(0)).to(emb.device)
        elif ref_labels is not None:
            raise ValueError(f"{name}: ref_labels needs ref_emb; got ref_emb=None")
        else:
            ref_lab = None
    if local_anchors and not distributed:
        raise ValueError(f"{name}: local_anchors=True needs distributed=True")

    x = _prepare(emb, normalized)
    r = None if ref is None else _prepare(ref, normalized)
    device = emb.device

    if not distributed:
        if lab is None:
            lab = torch.arange(n, device=device)
            ref_lab = lab
        if r is None:
            return Problem(x, lab, torch.arange(n, device=device), x, lab, lab)
        assert ref_lab is not None
        return Problem(x, lab, None, r, ref_lab, lab)

    world, rank = require_distributed(name)
    # One collective for embeddings and ref_emb together, so that the backward pass runs
    # exactly one all-reduce on every rank whatever the loss does with them.
    n_ref = 0 if r is None else r.size(0)
    sizes = gather_sizes(n + n_ref, device)
    local_rows = x if r is None else torch.cat([x, r])
    gathered = gather_rows(local_rows, sizes)  # [sum of sizes, D], rank order
    n_sizes = gather_sizes(n, device)
    offset = sum(n_sizes[:rank])
    own = [
        torch.arange(s, s + k, device=device) for s, k in zip(_starts(sizes), n_sizes, strict=True)
    ]
    emb_rows = torch.cat(own)  # rows of embeddings within gathered
    all_x = gathered.index_select(0, emb_rows)
    total = all_x.size(0)
    if r is not None:
        ref_rows = torch.cat(
            [
                torch.arange(s + k, s + size, device=device)
                for s, k, size in zip(_starts(sizes), n_sizes, sizes, strict=True)
            ]
        )
        all_r = gathered.index_select(0, ref_rows)
    if lab is None:
        all_lab = torch.arange(total, device=device)
        all_ref_lab = all_lab
    else:
        local_labels = lab if ref_lab is None else torch.cat([lab, ref_lab])
        gathered_labels = gather_rows(local_labels, sizes)
        all_lab = gathered_labels.index_select(0, emb_rows)
        all_ref_lab = all_lab if r is None else gathered_labels.index_select(0, ref_rows)

    if r is None:
        refs, ref_labels_all = all_x, all_lab
    else:
        refs, ref_labels_all = all_r, all_ref_lab
    if local_anchors:
        rows = torch.arange(offset, offset + n, device=device)
        anchors = all_x[offset : offset + n]
        self_cols = rows if r is None else None
        return Problem(
            anchors,
            all_lab[offset : offset + n],
            self_cols,
            refs,
            ref_labels_all,
            all_lab,
            world,
            local=True,
            distributed=True,
        )
    self_cols = torch.arange(total, device=device) if r is None else None
    return Problem(
        all_x, all_lab, self_cols, refs, ref_labels_all, all_lab, world, distributed=True
    )


def _starts(sizes: Sequence[int]) -> list[int]:
    starts, running = [], 0
    for size in sizes:
        starts.append(running)
        running += size
    return starts


def build_two_view_problem(
    name: str,
    z1: object,
    z2: object,
    *,
    normalized: bool,
    distributed: bool,
    local_anchors: bool,
) -> Problem:
    """Two views ``z1 [N, D]``, ``z2 [N, D]`` stacked into ``[2N, D]`` with the labels
    ``[0..N-1, 0..N-1]``: row i of each view is the only positive of row i of the other."""
    a = check_embeddings("z1", z1)
    b = check_embeddings("z2", z2, dim_like=a)
    if a.size(0) != b.size(0):
        raise ValueError(
            f"{name}: z1 and z2 must have the same number of rows; got {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )
    if local_anchors and not distributed:
        raise ValueError(f"{name}: local_anchors=True needs distributed=True")
    x1, x2 = _prepare(a, normalized), _prepare(b, normalized)
    n, device = a.size(0), a.device
    if not distributed:
        x = torch.cat([x1, x2])  # [2N, D]
        lab = torch.arange(n, device=device).repeat(2)
        return Problem(x, lab, torch.arange(2 * n, device=device), x, lab, lab)

    world, rank = require_distributed(name)
    n_sizes = gather_sizes(n, device)
    sizes = [2 * k for k in n_sizes]
    gathered = gather_rows(torch.cat([x1, x2]), sizes)  # rank r: its z1 rows then its z2 rows
    starts = _starts(sizes)
    first = torch.cat(
        [torch.arange(s, s + k, device=device) for s, k in zip(starts, n_sizes, strict=True)]
    )
    x = gathered.index_select(0, torch.cat([first, first + _view_shift(n_sizes, device)]))
    total = sum(n_sizes)
    lab = torch.arange(total, device=device).repeat(2)
    cols = torch.arange(2 * total, device=device)
    if local_anchors:
        offset = sum(n_sizes[:rank])
        rows = torch.cat(
            [
                torch.arange(offset, offset + n, device=device),
                torch.arange(total + offset, total + offset + n, device=device),
            ]
        )
        return Problem(
            x.index_select(0, rows),
            lab.index_select(0, rows),
            rows,
            x,
            lab,
            lab,
            world,
            local=True,
            distributed=True,
        )
    return Problem(x, lab, cols, x, lab, lab, world, distributed=True)


def _view_shift(n_sizes: Sequence[int], device: torch.device) -> Tensor:
    """Per gathered z1 row, the distance to the same node's z2 row (its rank's ``N_r``)."""
    return torch.cat([torch.full((k,), k, device=device) for k in n_sizes])


def pair_presence(problem: Problem) -> tuple[bool, bool]:
    """Whether the global batch has at least one positive and one negative pair."""
    labels = problem.all_anchor_labels
    if labels.numel() == 0:
        return False, False
    if problem.self_cols is not None:
        counts = torch.unique(labels, return_counts=True)[1]
        return bool((counts > 1).any()), counts.numel() > 1
    refs = problem.ref_labels
    if refs.numel() == 0:
        return False, False
    any_pos = bool(torch.isin(labels, refs).any())
    any_neg = torch.unique(torch.cat([labels, refs])).numel() > 1
    return any_pos, any_neg


def finish(problem: Problem, terms: Sequence[tuple[Tensor, Tensor]], reduction: str) -> Tensor:
    """Combine per-term ``(sum, count)`` over this rank's anchors into the loss.

    ``'mean'`` divides each term's sum by its count (the global count when anchors are local;
    an empty term gives 0) and adds the terms; ``'sum'`` adds the sums. In the local-anchor mode
    the value is scaled by the world size for the gradient convention of the module docstring,
    then shifted (without gradient) to the global loss, identical on every rank.
    """
    counts = torch.stack([count for _, count in terms])
    if problem.local:
        counts = all_reduce_sum(counts)
    value = problem.anchors.new_zeros(())
    for k, (total, _) in enumerate(terms):
        value = value + (total / counts[k].clamp_min(1) if reduction == "mean" else total)
    if problem.distributed:
        if problem.local:
            value = value * problem.world_size
            global_value = all_reduce_sum(value) / problem.world_size
            value = value + (global_value - value).detach()
        # Keep the gathered references in the graph on every rank, so every rank's backward
        # runs the all-gather's all-reduce even when its own blocks are empty.
        value = value + problem.refs.sum() * 0
    return value


def check_mode(name: str, reduction: str, distributed: bool, has_indices: bool) -> None:
    """Reject the combinations the distributed path does not define."""
    if distributed and reduction == "none":
        raise ValueError(
            f"{name}: reduction='none' cannot be combined with distributed=True (the per-pair "
            "losses of the global batch are not this rank's); use 'mean' or 'sum'"
        )
    if distributed and has_indices:
        raise ValueError(
            f"{name}: indices_tuple cannot be combined with distributed=True (its indices "
            "refer to this rank's rows); pass labels, or gather and mine yourself"
        )


@dataclass
class IndexInputs:
    """Explicit pairs with the rows they index."""

    anchors: Tensor
    """``[M, D]`` rows indexed by the anchor entries."""
    refs: Tensor
    """``[R, D]`` rows indexed by the positive / negative entries."""
    pairs: Pairs
    """The pairs in input order (triplets as ``(a, p, a, n)``)."""
    sorted: SortedPairs
    """The same pairs sorted by (anchor, reference), checked disjoint."""


def index_inputs(
    embeddings: object,
    labels: object,
    indices_tuple: object,
    ref_emb: object,
    ref_labels: object,
    *,
    normalized: bool,
) -> IndexInputs:
    """Validate an explicit ``indices_tuple`` against ``embeddings`` (and ``ref_emb``).

    Labels are not needed (the tuple says which pairs are positive); when given they are
    checked for length and otherwise unused.
    """
    emb = check_embeddings("embeddings", embeddings)
    ref = None if ref_emb is None else check_embeddings("ref_emb", ref_emb, dim_like=emb)
    if labels is not None:
        check_labels("labels", labels, emb.size(0))
    if ref_labels is not None:
        if ref is None:
            raise ValueError("ref_labels needs ref_emb; got ref_emb=None")
        check_labels("ref_labels", ref_labels, ref.size(0))
    x = _prepare(emb, normalized)
    r = x if ref is None else _prepare(ref, normalized)
    pairs = check_indices_tuple(indices_tuple, x.size(0), r.size(0))
    pairs = Pairs(*(t.to(x.device) for t in (pairs.a1, pairs.p, pairs.a2, pairs.n)))
    return IndexInputs(x, r, pairs, sort_pairs(pairs, r.size(0)))


def pair_values(
    anchors: Tensor, refs: Tensor, a: Tensor, b: Tensor, distance: str | None
) -> Tensor:
    """Per-pair cosine similarity (``distance=None``) or distance between ``anchors[a]`` and
    ``refs[b]``, ``[P]``, memory-bounded.

    Few pairs (``P * D <= M * R``): gather both rows of each pair, in checkpointed blocks of
    pairs. Many pairs: compute the ``[M, R]`` matrix in checkpointed row blocks and read each
    block's pairs out of it (one matrix product instead of P gathered rows).
    """
    num = a.numel()
    if num == 0:
        return anchors.new_zeros(0) + anchors.sum() * 0 + refs.sum() * 0
    if num * anchors.size(1) <= anchors.size(0) * refs.size(0):
        per_pair = anchors.size(1) * anchors.element_size() * 3
        rows = plan_rows(num, 1, per_pair, None)

        def gathered(ai: Tensor, bi: Tensor, x: Tensor, r: Tensor) -> tuple[Tensor]:
            left, right = x.index_select(0, ai), r.index_select(0, bi)
            if distance is None:
                return ((left * right).sum(1),)
            return (rowwise_distance(left, right, distance),)

        outputs = run_blocks(gathered, num, rows, (a, b), (anchors, refs))
        return torch.cat([out[0] for out in outputs])

    keys, order = sort_keys(a * refs.size(0) + b)
    sorted_a, sorted_b = keys // refs.size(0), keys % refs.size(0)

    def from_matrix(ids: Tensor, block: Tensor, r: Tensor, sa: Tensor, sb: Tensor) -> tuple[Tensor]:
        start = int(ids[0])
        lo = int(torch.searchsorted(sa, start))
        hi = int(torch.searchsorted(sa, start + ids.numel()))
        # [B, R]
        matrix = block @ r.T if distance is None else pairwise_distance(block, r, distance)
        return (matrix[sa[lo:hi] - start, sb[lo:hi]],)

    rows = plan_rows(anchors.size(0), refs.size(0), anchors.element_size(), None)
    ids = torch.arange(anchors.size(0), device=anchors.device)
    outputs = run_blocks(
        from_matrix, anchors.size(0), rows, (ids, anchors), (refs, sorted_a, sorted_b)
    )
    return unsort(torch.cat([out[0] for out in outputs]), order)


def label_source(problem: Problem) -> Source:
    """The label-mode :class:`Source` of a problem."""
    return Source(
        problem.anchors,
        problem.refs,
        problem.anchor_labels,
        problem.ref_labels,
        problem.self_cols,
    )


def pair_source(inputs: IndexInputs) -> Source:
    """The pair-mode :class:`Source` of explicit pairs."""
    return Source(inputs.anchors, inputs.refs, pairs=inputs.sorted)


def run_source(
    fn: BlockFn, source: Source, chunk_size: int | None, cell_bytes: int | None = None
) -> list[tuple[Tensor, ...]]:
    """Run ``fn(rows, anchors, labels, self_cols, refs, ref_labels, pa, pb, na, nb)`` over the
    anchor blocks of ``source`` (dense or chunked, see :func:`plan_rows`)."""
    num = source.anchors.size(0)
    itemsize = source.anchors.element_size() if cell_bytes is None else cell_bytes
    rows = plan_rows(num, source.refs.size(0), itemsize, chunk_size)
    return run_blocks(fn, num, rows, source.row_args(), source.shared_args())


def positive_pair_count(problem: Problem) -> int:
    """Number of ordered positive pairs among this rank's anchors and the references."""
    ref_values, ref_counts = torch.unique(problem.ref_labels, return_counts=True)
    if ref_values.numel() == 0 or problem.anchor_labels.numel() == 0:
        return 0
    at = torch.searchsorted(ref_values, problem.anchor_labels).clamp_max(ref_values.numel() - 1)
    hits = ref_values[at] == problem.anchor_labels
    per_anchor = torch.where(hits, ref_counts[at], 0)
    if problem.self_cols is not None:
        per_anchor = per_anchor - 1  # the anchor itself is among the references
    return int(per_anchor.sum())
