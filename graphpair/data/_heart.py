r"""HeaRT hard negatives for link-prediction evaluation (Li et al., NeurIPS 2023).

"Evaluating Graph Neural Networks for Link Prediction: Current Pitfalls and New Benchmarking"
replaces the shared pool of random negatives by ``K`` negatives per positive that a heuristic
finds hard: the Heuristic Related Sampling Technique (HeaRT). For a positive ``(i, j)``:

1. **Candidates.** Corrupt one endpoint: ``(i, k)`` for every node ``k`` (the *source side*)
   and ``(k, j)`` for every ``k`` (the *target side*).
2. **Filter.** Drop self pairs (``k = i`` resp. ``k = j``), the positive itself and every
   known positive: pairs of ``edge_index``, ``pos`` and ``known``, in either direction.
3. **Score.** Score each candidate with every heuristic, as a pair with the kept endpoint
   ``u`` (``u = i`` on the source side, ``u = j`` on the target side), on the undirected,
   deduplicated message-passing graph ``edge_index`` (:math:`A`, degrees :math:`d`):

   - ``'cn'``: common neighbours :math:`(A^2)_{uk}`;
   - ``'ra'``: resource allocation :math:`\sum_{z \in N(u) \cap N(k)} 1 / d_z`;
   - ``'ppr'``: personalised PageRank of ``k`` for a walk restarting at ``u`` with
     probability :math:`\alpha`, truncated after ``T = ppr_steps`` steps:
     :math:`\pi_u(k) = \alpha \sum_{t=0}^{T} (1 - \alpha)^t (P^t)_{uk}` with
     :math:`P = D^{-1} A` (a node without edges ends the walk);
   - ``'cosine'``: cosine similarity of the node features ``x`` (negative values count as 0).

4. **Rank and combine.** Per heuristic, the valid candidates with a positive score are
   ranked from the highest score down exactly as HeaRT's ``rank_score_matrix`` does (SciPy
   ``rankdata(method='min')`` on ascending scores, then reversed), which gives

   .. math::
       r_h(k) = \bigl|\{v : s_h(v) \ge s_h(k)\}\bigr| - c_h + 1,

   over valid candidates ``v``, where :math:`c_h` is how many valid candidates share the
   highest score; candidates scoring 0 all get the rank after the worst positive score,
   :math:`\max_{s_h(v) > 0} r_h(v) + 1` (1 when none scores above 0). The ranks are combined
   into :math:`\operatorname{mean}_h r_h(k)^p` (``aggregate='mean'``, HeaRT's default) or
   :math:`\min_h r_h(k)^p` (``'min'``), ``p = rank_power`` (HeaRT's ``pnorm``, default 1).
5. **Select.** On each side keep the candidates with the smallest combined rank: the first
   ``K - K // 2`` on the source side, ``K // 2`` on the target side. Candidates that score 0 on
   every heuristic come last. Ties are broken by a random order of the candidates drawn from a
   generator seeded with ``(seed, u)``, so the result depends on ``seed`` and the inputs only.

Where this differs from the reference code (``Juanhui28/HeaRT``, ``create_hard_negatives.py``):

- *Filtering.* HeaRT removes only the message-passing graph's edges (train, plus validation
  at test time) and the positive itself, so a HeaRT test negative can be another test
  positive. Here every pair of ``edge_index``, ``pos`` and ``known`` is removed in both
  directions; pass all train, validation and test positives as ``known``.
- *PPR.* HeaRT approximates PPR with Andersen's push algorithm (:math:`\alpha = 0.15`,
  :math:`\epsilon = 5 \cdot 10^{-5}`: a node's residual is pushed on only while it is at least
  :math:`\alpha \epsilon d`, so small scores are dropped and up to :math:`2 \alpha \epsilon |E|`
  of a row's mass can be missing, 0.08 on Cora); here it is the power series truncated after
  ``ppr_steps`` :math:`= T` steps, whose missing mass per row is at most
  :math:`(1 - \alpha)^{T + 1}` (0.033 for the defaults) and which is zero only for nodes more
  than ``T`` hops away. Both approximate the same PPR, so their rankings differ only among
  candidates whose scores differ by less than these errors.
- *Scores are rounded* to ``HEART_SCORE_BITS`` significant bits before ranking, so that
  sums computed in another order (another block size, device or BLAS) rank identically;
  HeaRT ranks float32 scores as computed.
- *Too few hard candidates.* HeaRT fills up with candidates of zero score drawn *with*
  replacement (so a row can repeat a negative); here they are drawn without replacement, and
  with ``aggregate='min'`` all-zero candidates also come after every other candidate (HeaRT
  ranks them by combined rank when it has enough non-zero ones).
- *Sides.* HeaRT takes ``K // 2`` per side (``K - 1`` negatives for an odd ``K``); here the
  source side takes the odd one. When one side has fewer valid candidates than its share, the
  other side supplies the rest (HeaRT assumes both sides have enough). All ``K`` negatives of a
  positive are distinct, even as unordered pairs.
- *Features.* HeaRT adds cosine feature similarity on Planetoid (``heuristics=('ra', 'ppr',
  'cosine')`` here, with ``x``) and ranks negative similarities below zero ones; here they
  count as zero. HeaRT's ``'ra'`` on ogbl-collab uses edge-weighted degrees; here the graph is
  unweighted.

Cost: scores are dense rows ``[B, N]`` for blocks of ``B`` distinct endpoints, with ``B N`` at
most :data:`HEART_BLOCK_ENTRIES`; a block holds about 15 such float64/int64 arrays (about
250 MiB, on top of a few sparse copies of the graph), and nothing of size :math:`N \times N` is
built. CN and RA cost one sparse-dense product with :math:`A` per block, PPR ``ppr_steps``
of them; ranking sorts each row. The total is :math:`O(U (T |E| + N \log N))` for ``U``
distinct endpoints. Measured on 2 CPU cores: Cora's 1,055 test positives with ``K = 500`` take
about a second; 2,000 positives on a graph of 20,000 nodes and 50,000 edges (PubMed-sized)
about half a minute; the full ogbl-ddi test set (4,267 dense rows) about three minutes.
Graphs of :math:`10^5` nodes and more (ogbl-collab, -ppa, -citation2) need a sparse top-k per
row instead of dense rows, which is not implemented.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from graphpair._validation import check_choice, check_edge_index, check_int, describe
from graphpair.data._heuristic_scores import (
    HEART_SCORE_BITS,
    HeuristicGraph,
    canonical_heuristics,
    check_positive,
    check_x,
    row_members,
    score_rows,
)
from graphpair.data._io import cached, fingerprint, save_cache
from graphpair.ops import CSR

__all__ = [
    "HEART_AGGREGATES",
    "HEART_BLOCK_ENTRIES",
    "HEART_VERSION",
    "heart_negatives",
    "heart_ranks",
]

log = logging.getLogger(__name__)

#: Format version of the computation; part of every cache key (bump it when results change).
HEART_VERSION = 1
#: How per-heuristic ranks are combined.
HEART_AGGREGATES = ("mean", "min")
#: Bound on the entries ``B * N`` of one block of dense score rows (16 MiB per float64 array).
HEART_BLOCK_ENTRIES = 1 << 21

_MASK64 = (1 << 64) - 1


def heart_ranks(scores: Tensor, valid: Tensor) -> Tensor:
    r"""HeaRT's per-heuristic rank of every candidate in each row (1 = hardest).

    A valid candidate with a positive score gets
    :math:`|\{v \text{ valid} : s(v) \ge s(k)\}| - c + 1` (``c`` = number of valid candidates at
    the row's highest score), one scoring 0 gets the largest of those ranks plus 1 (1 if none
    scores above 0), an invalid one ``inf``. This equals reversing SciPy's
    ``rankdata(method='min')`` of the positive scores, which the reference code does.

    Args:
        scores: Non-negative scores ``[B, N]``.
        valid: Which candidates may be chosen ``[B, N]`` (bool).

    Returns:
        Ranks ``[B, N]`` (float64).
    """
    num = scores.size(1)
    masked = torch.where(valid, scores.to(torch.float64), -1.0)  # invalid sort below 0
    ascending = torch.sort(masked, dim=1).values
    at_least = num - torch.searchsorted(ascending, masked)  # valid entries >= s(k), if s(k) > 0
    top = ascending[:, -1:].contiguous()
    at_top = num - torch.searchsorted(ascending, top)  # c
    positive = num - torch.searchsorted(ascending, torch.zeros_like(top), right=True)
    rank = (at_least - at_top + 1).to(torch.float64)
    zero_rank = torch.where(positive > 0, positive - at_top + 2, torch.ones_like(positive))
    rank = torch.where(masked > 0, rank, zero_rank.to(torch.float64))
    return rank.masked_fill_(~valid, float("inf"))


def _node_seed(seed: int, node: int) -> int:
    """A 64-bit seed for the tie-breaking order of row ``node`` (SplitMix64 finaliser)."""
    z = (seed * 0x9E3779B97F4A7C15 + node + 1) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _tie_order(nodes: Tensor, num_nodes: int, seed: int) -> Tensor:
    """A random permutation of the candidates per row ``[B, N]``, fixed by ``(seed, node)``.

    One generator per row node keeps each row's order independent of the block it falls in.
    """
    generator = torch.Generator()
    rows = []
    for node in nodes.tolist():
        generator.manual_seed(_node_seed(seed, node))
        rows.append(torch.randperm(num_nodes, generator=generator))
    return torch.stack(rows).to(nodes.device)


def _select(
    scores: list[Tensor],
    valid: Tensor,
    nodes: Tensor,
    num_negatives: int,
    seed: int,
    aggregate: str,
    rank_power: float,
) -> Tensor:
    """The ``num_negatives`` hardest candidates of each row ``[B, K]``, -1 past the valid ones."""
    ranks = torch.stack([heart_ranks(s, valid).pow_(rank_power) for s in scores])
    combined = ranks.mean(0) if aggregate == "mean" else ranks.amin(0)
    # Class 0: some positive score; 1: zero on every heuristic; 2: filtered out.
    nonzero = torch.stack([s > 0 for s in scores]).any(0)
    group = torch.where(nonzero, 0, 1).masked_fill_(~valid, 2)
    order = _tie_order(nodes, valid.size(1), seed)
    by_rank = torch.sort(combined.gather(1, order), dim=1, stable=True).indices
    order = order.gather(1, by_rank)
    by_group = torch.sort(group.gather(1, order), dim=1, stable=True).indices
    picks = order.gather(1, by_group)[:, :num_negatives]
    picks = torch.nn.functional.pad(picks, (0, max(0, num_negatives - picks.size(1))), value=-1)
    slots = torch.arange(num_negatives, device=picks.device)
    return picks.masked_fill_(slots >= valid.sum(1, keepdim=True), -1)


def _quotas(pos: Tensor, available: Tensor, num_negatives: int) -> tuple[Tensor, Tensor | None]:
    """Source-side candidates taken per positive (the target side gives the rest), and the
    positives that lack candidates.

    The source side gets ``K - K // 2`` and the target side ``K // 2``; a side with fewer valid
    candidates gives its shortfall to the other side.
    """
    have_src, have_tgt = available[pos[0]], available[pos[1]]
    take_src = torch.full_like(have_src, num_negatives - num_negatives // 2)
    take_src = torch.minimum(take_src, have_src)
    take_tgt = torch.minimum(num_negatives - take_src, have_tgt)
    take_src = num_negatives - take_tgt
    short = (take_src > have_src).nonzero().view(-1)
    return take_src, short if short.numel() else None


def _build(
    edge_index: Tensor,
    pos: Tensor,
    known: Tensor | None,
    x: Tensor | None,
    num_nodes: int,
    num_negatives: int,
    heuristics: list[str],
    seed: int,
    ppr_alpha: float,
    ppr_steps: int,
    aggregate: str,
    rank_power: float,
) -> dict[str, Tensor]:
    device = edge_index.device
    parts = [edge_index, pos] + ([] if known is None else [known])
    blocked = CSR.from_edge_index(torch.cat(parts, dim=1), num_nodes)  # symmetric filter
    # Valid candidates of row u: every node but u and its filtered partners.
    available = num_nodes - 1 - blocked.row_lengths()
    take_src, short = _quotas(pos, available, num_negatives)
    if short is not None:
        p = int(short[0])
        i, j = int(pos[0, p]), int(pos[1, p])
        raise ValueError(
            f"num_negatives={num_negatives} is more than the {int(available[i] + available[j])} "
            f"valid candidates of positive {p} ({i}, {j}) ({int(available[i])} of the form "
            f"({i}, k), {int(available[j])} of the form (k, {j})) left after removing self "
            f"pairs and known positives; {short.numel()} of {pos.size(1)} positives are short "
            "of candidates: lower num_negatives"
        )

    graph = HeuristicGraph(edge_index, num_nodes, x, ppr_alpha)
    nodes, row_of = torch.unique(pos.reshape(-1), return_inverse=True)
    row_of = row_of.view(2, -1)
    picks = torch.empty(nodes.numel(), num_negatives, dtype=torch.long, device=device)
    per_block = max(1, HEART_BLOCK_ENTRIES // num_nodes)
    for lo in range(0, nodes.numel(), per_block):
        block = nodes[lo : lo + per_block]
        scores = score_rows(graph, block, heuristics, ppr_steps)
        valid = torch.ones(block.numel(), num_nodes, dtype=torch.bool, device=device)
        which, member = row_members(blocked, block)
        valid[which, member] = False
        valid[torch.arange(block.numel(), device=device), block] = False
        picks[lo : lo + block.numel()] = _select(
            scores, valid, block, num_negatives, seed, aggregate, rank_power
        )

    # Slot s of positive p: the s-th source-side pick while s < take_src, else a target one.
    slots = torch.arange(num_negatives, device=device).expand(pos.size(1), -1)
    from_src = slots < take_src[:, None]
    src_pick = picks[row_of[0]].gather(1, slots)
    tgt_pick = picks[row_of[1]].gather(1, (slots - take_src[:, None]).clamp(min=0))
    cand = torch.where(from_src, src_pick, tgt_pick)
    first = torch.where(from_src, pos[0][:, None], cand)
    second = torch.where(from_src, cand, pos[1][:, None])
    return {"neg": torch.stack([first, second])}  # [2, P, K]


def _well_formed(neg: Tensor | None, num_pos: int, num_negatives: int, num_nodes: int) -> bool:
    return (
        isinstance(neg, Tensor)
        and neg.dtype == torch.long
        and tuple(neg.shape) == (2, num_pos, num_negatives)
        and (neg.numel() == 0 or (int(neg.min()) >= 0 and int(neg.max()) < num_nodes))
    )


def heart_negatives(
    edge_index: Tensor,
    pos: Tensor,
    num_nodes: int,
    num_negatives: int,
    *,
    known: Tensor | None = None,
    x: Tensor | None = None,
    heuristics: Sequence[str] = ("ra", "ppr"),
    seed: int = 0,
    cache: str | os.PathLike[str] | None = None,
    ppr_alpha: float = 0.15,
    ppr_steps: int = 20,
    aggregate: str = "mean",
    rank_power: float = 1.0,
) -> Tensor:
    r"""HeaRT hard negatives: ``K`` negatives per positive that heuristics rank as likely links.

    Li et al., NeurIPS 2023, "Evaluating Graph Neural Networks for Link Prediction: Current
    Pitfalls and New Benchmarking". Each positive ``(i, j)`` gets ``K - K // 2`` negatives
    ``(i, k)`` and ``K // 2`` negatives ``(k, j)``, the candidates whose heuristic scores with the
    kept endpoint rank highest after self pairs and known positives are removed. The module
    documentation gives the exact rules and where they differ from the reference code.

    The result is deterministic for ``seed`` and the inputs. With ``cache`` it is stored in that
    file (written atomically, with a checksum) under a key made of every input and parameter
    and ``HEART_VERSION``; a later call with the same key reads it back, and a file that is
    corrupted, truncated or was written for other inputs is rebuilt, never trusted.

    Args:
        edge_index: Message-passing graph ``[2, E]`` the heuristics are computed on (used as
            undirected; duplicates and self loops are ignored).
        pos: Positives to draw negatives for ``[2, P]`` (no self pairs).
        num_nodes: ``N``.
        num_negatives: ``K`` negatives per positive.
        known: Every known positive ``[2, X]`` (train, validation and test); never returned as
            a negative, in either direction. ``edge_index`` and ``pos`` are always excluded.
        x: Node features ``[N, F]``, needed by the ``'cosine'`` heuristic only.
        heuristics: Names from ``HEART_HEURISTICS`` (``'cn'``, ``'ra'``, ``'ppr'``,
            ``'cosine'``). HeaRT uses ``('ra', 'ppr')`` on OGB and adds ``'cosine'`` on
            Planetoid.
        seed: Seed of the tie-breaking order.
        cache: File to cache the result in (an existing folder: a file named after the key
            inside it); ``None`` computes without caching.
        ppr_alpha: Restart probability of PPR (HeaRT: 0.15).
        ppr_steps: Walk steps of the truncated PPR series.
        aggregate: ``'mean'`` (HeaRT's default) or ``'min'`` of the per-heuristic ranks.
        rank_power: Power applied to each rank before aggregating (HeaRT's ``pnorm``).

    Returns:
        Negatives ``[2, P, K]`` (long): ``neg[:, p, :]`` are the pairs of positive ``p``, first
        its source-side negatives then its target-side ones, each hardest first.

    Raises:
        ValueError: A positive has fewer than ``K`` valid candidates (the message names
            ``num_negatives`` and the positive), a positive is a self pair, or an invalid
            argument.

    Example:
        A path ``0-1-2-3-4-5`` with a chord ``0-2``; each positive ``(i, j)`` gets one
        negative ``(i, k)`` and one ``(k, j)``:

        >>> edge_index = torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 5, 2]])
        >>> pos = torch.tensor([[0, 2], [3, 5]])
        >>> neg = heart_negatives(edge_index, pos, num_nodes=6, num_negatives=2)
        >>> neg.shape
        torch.Size([2, 2, 2])
        >>> neg[:, 0].t()  # the negatives of positive (0, 3)
        tensor([[0, 4],
                [5, 3]])
    """
    num_nodes = check_int("num_nodes", num_nodes, minimum=1)
    num_negatives = check_int("num_negatives", num_negatives, minimum=1)
    edge_index = check_edge_index("edge_index", edge_index, num_nodes=num_nodes).long()
    device = edge_index.device
    pos = check_edge_index("pos", pos, num_nodes=num_nodes).to(device, torch.long)
    if known is not None:
        known = check_edge_index("known", known, num_nodes=num_nodes).to(device, torch.long)
    names = canonical_heuristics(heuristics)
    x = check_x(x, num_nodes, names)
    seed = check_int("seed", seed, minimum=0)
    ppr_alpha = check_positive("ppr_alpha", ppr_alpha, 1.0)
    ppr_steps = check_int("ppr_steps", ppr_steps, minimum=1)
    aggregate = check_choice("aggregate", aggregate, HEART_AGGREGATES)
    rank_power = check_positive("rank_power", rank_power, 16.0)
    if cache is not None and not isinstance(cache, (str, os.PathLike)):
        raise TypeError(f"cache must be a path or None; got {describe(cache)}")
    loops = (pos[0] == pos[1]).nonzero().view(-1)
    if loops.numel():
        p = int(loops[0])
        raise ValueError(
            f"pos must not contain self pairs; positive {p} is ({int(pos[0, p])}, {int(pos[1, p])})"
        )
    if pos.size(1) == 0:
        return torch.empty(2, 0, num_negatives, dtype=torch.long, device=device)

    key = fingerprint(
        "graphpair.heart_negatives",
        HEART_VERSION,
        HEART_SCORE_BITS,
        edge_index,
        pos,
        known,
        x,
        num_nodes,
        num_negatives,
        names,
        seed,
        ppr_alpha,
        ppr_steps,
        aggregate,
        rank_power,
    )
    meta = {"kind": "heart_negatives", "version": HEART_VERSION, "key": key}

    def build() -> dict[str, Tensor]:
        return _build(
            edge_index,
            pos,
            known,
            x,
            num_nodes,
            num_negatives,
            names,
            seed,
            ppr_alpha,
            ppr_steps,
            aggregate,
            rank_power,
        )

    path: Path | None = None
    if cache is not None:
        path = Path(cache).expanduser()
        if path.is_dir():
            path = path / f"heart-negatives-{key}.pt"
    neg = cached(path, build, meta).get("neg")
    if not _well_formed(neg, pos.size(1), num_negatives, num_nodes):
        # A checksum-valid file under the right key but with unusable content: rebuild it.
        log.warning("rebuilding HeaRT cache %s: unexpected content", path)
        result = build()
        if path is not None:
            save_cache(path, result, meta)
        neg = result["neg"]
    assert neg is not None
    return neg.to(device)
