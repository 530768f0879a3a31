"""Link splits: one container for every protocol, the NCN Planetoid protocol, a random split.

A :class:`LinkSplit` holds positives and negatives of each split and knows which graph a model
may pass messages over at each stage (:meth:`LinkSplit.edge_index`). Every split the runner
uses goes through :func:`graphpair.data.audit_split` first.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from graphpair._validation import check_edge_index, check_int, describe
from graphpair.data._negative_sampling import negative_sampling

__all__ = [
    "SPLITS",
    "LinkSplit",
    "canonical_pairs",
    "ncn_planetoid_split",
    "random_link_split",
    "symmetrize",
]

#: The split names a :class:`LinkSplit` knows.
SPLITS = ("train", "valid", "test")


def canonical_pairs(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Unique undirected pairs ``(u, v)`` with ``u < v``, sorted; self loops dropped.

    Args:
        edge_index: Pairs ``[2, E]`` in either or both directions.
        num_nodes: ``N``; every node id must be below it.

    Shapes:
        - edge_index: ``[2, E]``
        - output: ``[2, U]``, ``U`` the number of distinct undirected non-loop pairs

    Example:
        >>> canonical_pairs(torch.tensor([[0, 1, 2, 2], [1, 0, 2, 3]]), num_nodes=4)
        tensor([[0, 2],
                [1, 3]])
    """
    row, col = edge_index
    lo, hi = torch.minimum(row, col), torch.maximum(row, col)
    keep = lo != hi
    keys = torch.unique(lo[keep] * num_nodes + hi[keep])
    return torch.stack([keys // num_nodes, keys % num_nodes])


def symmetrize(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Both directions of every pair, deduplicated, sorted by (row, col), no self loops.

    Args:
        edge_index: Pairs ``[2, E]`` in either or both directions.
        num_nodes: ``N``; every node id must be below it.

    Shapes:
        - edge_index: ``[2, E]``
        - output: ``[2, 2U]``, ``U`` the number of distinct undirected non-loop pairs

    Example:
        >>> symmetrize(torch.tensor([[0, 1, 2, 2], [1, 0, 2, 3]]), num_nodes=4)
        tensor([[0, 1, 2, 3],
                [1, 0, 3, 2]])
    """
    pairs = canonical_pairs(edge_index, num_nodes)
    both = torch.cat([pairs, pairs.flip(0)], dim=1)
    keys = torch.unique(both[0] * num_nodes + both[1])
    return torch.stack([keys // num_nodes, keys % num_nodes])


@dataclass(frozen=True)
class LinkSplit:
    """Positives and negatives of a link-prediction split, and the graphs messages may use.

    Attributes:
        num_nodes: number of nodes N.
        train_pos: training positives ``[2, P_train]``; one direction per undirected edge
            (OGB's training list as given: ogbl-collab repeats multi-year collaborations).
        valid_pos, test_pos: evaluation positives ``[2, P]``.
        valid_neg, test_neg: evaluation negatives, either a shared pool ``[2, Q]`` (Hits@K
            datasets) or ``K`` negatives per positive ``[2, P, K]`` (MRR datasets, HeaRT).
        protocol: how the split was made (``'ogb'``, ``'ncn-planetoid'``, ``'random'``).
        seed: the seed that reproduces it (``None`` for fixed official splits).
        directed: positives are ordered pairs (ogbl-citation2); the message-passing graph is
            still symmetrised, as every encoder here assumes an undirected graph.
        valid_as_input: the dataset's rule that validation edges join the input graph at test
            time (ogbl-collab), never during training or validation.
        train_weight: optional weights of ``train_pos`` (ogbl-collab), kept for users.

    Example:
        A hand-made split of the path ``0-1-2-3``:

        >>> split = LinkSplit(
        ...     num_nodes=4,
        ...     train_pos=torch.tensor([[0, 1], [1, 2]]),
        ...     valid_pos=torch.tensor([[2], [3]]),
        ...     valid_neg=torch.tensor([[0], [3]]),
        ...     test_pos=torch.tensor([[0], [2]]),
        ...     test_neg=torch.tensor([[1], [3]]),
        ...     protocol="random",
        ... )
        >>> split  # doctest: +NORMALIZE_WHITESPACE
        LinkSplit('random', num_nodes=4, train_pos=2, valid_pos=1, valid_neg=1, test_pos=1,
                  test_neg=1)
        >>> split.edge_index("test")  # the training edges, both directions
        tensor([[0, 1, 1, 2],
                [1, 0, 2, 1]])
    """

    num_nodes: int
    train_pos: Tensor
    valid_pos: Tensor
    valid_neg: Tensor
    test_pos: Tensor
    test_neg: Tensor
    protocol: str
    seed: int | None = None
    directed: bool = False
    valid_as_input: bool = False
    train_weight: Tensor | None = None

    def __post_init__(self) -> None:
        check_int("num_nodes", self.num_nodes, minimum=1)
        for name in ("train_pos", "valid_pos", "test_pos"):
            check_edge_index(name, getattr(self, name), num_nodes=self.num_nodes)
        for name, pos in (("valid_neg", self.valid_pos), ("test_neg", self.test_pos)):
            neg = getattr(self, name)
            if not isinstance(neg, Tensor) or neg.dim() not in (2, 3) or neg.size(0) != 2:
                raise ValueError(f"{name} must have shape [2, Q] or [2, P, K]; got {describe(neg)}")
            if neg.dim() == 3 and neg.size(1) != pos.size(1):
                raise ValueError(
                    f"{name} of shape [2, P, K] must have P = {pos.size(1)} rows (one per "
                    f"positive); got shape {tuple(neg.shape)}"
                )
            check_edge_index(name, neg.reshape(2, -1), num_nodes=self.num_nodes)

    def pos(self, split: str) -> Tensor:
        """Positives of ``split`` (``'train'``, ``'valid'`` or ``'test'``)."""
        return {"train": self.train_pos, "valid": self.valid_pos, "test": self.test_pos}[
            _split_name(split)
        ]

    def neg(self, split: str) -> Tensor:
        """Negatives of ``'valid'`` or ``'test'`` (training negatives are sampled per epoch)."""
        name = _split_name(split)
        if name == "train":
            raise ValueError(
                "split='train' has no fixed negatives; sample them per epoch with "
                "graphpair.data.negative_sampling"
            )
        return self.valid_neg if name == "valid" else self.test_neg

    def edge_index(self, split: str = "train") -> Tensor:
        """The message-passing graph for scoring ``split``: symmetric, deduplicated ``[2, E]``.

        Training and validation use the training positives only; testing adds the validation
        positives when :attr:`valid_as_input` is set (the dataset's rule, e.g. ogbl-collab).
        """
        name = _split_name(split)
        edges = self.train_pos
        if name == "test" and self.valid_as_input:
            edges = torch.cat([edges, self.valid_pos], dim=1)
        return symmetrize(edges, self.num_nodes)

    def sizes(self) -> dict[str, int]:
        """Number of positives and negatives per split."""
        out = {"train_pos": int(self.train_pos.size(1))}
        for name in ("valid", "test"):
            out[f"{name}_pos"] = int(self.pos(name).size(1))
            neg = self.neg(name)
            out[f"{name}_neg"] = int(neg[0].numel())
        return out

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes().items())
        seed = "" if self.seed is None else f", seed={self.seed}"
        return f"LinkSplit({self.protocol!r}{seed}, num_nodes={self.num_nodes}, {sizes})"


def _split_name(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}; got {split!r}")
    return split


def _generator(seed: int) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def ncn_planetoid_split(edge_index: Tensor, num_nodes: int, seed: int) -> LinkSplit:
    """The NCN paper's Planetoid split (Wang et al., ICLR 2024): the reference's very draws.

    Follows ``specs/ncn.md`` §4.1 step by step. The reference seeds torch's global generator
    with the run index and calls PyG's ``train_test_split_edges`` (validation and test ratios
    0.2); every draw here comes from a ``torch.Generator`` seeded with ``seed`` and is made in
    the same order, over the same candidates in the same order, so the split is the
    reference's split of seed ``seed`` (a test checks this against PyG's function), without
    its dense ``N x N`` mask and without touching the global generator:

    1. the ``U`` undirected edges ``(u < v)`` of the graph, in sorted order (the order of a
       coalesced PyG ``edge_index``);
    2. a random permutation; the first ``n_v = floor(0.2 U)`` are validation, the next
       ``n_t = floor(0.2 U)`` test, the rest training positives;
    3. ``n_v + n_t`` distinct negatives: the first entries of a random permutation of the
       non-edges ``(u < v)`` of the **full** graph in row-major order; the first ``n_v`` for
       validation, the rest for test;
    4. the validation positives are permuted again and only the last ``floor(n_v / 2)`` are
       kept; the others move to training.

    The result is about 70 / 10 / 20 % positives; validation keeps all ``n_v`` negatives
    (about twice its positives), test has one negative per positive. Cora: 3,696 training,
    527 / 1,055 validation and 1,055 / 1,055 test pairs.

    Step 3 permutes all ``C = N (N - 1) / 2 - U`` candidates, as the reference does: one
    32-bit integer per candidate: for a PubMed-sized graph (194 million) 0.8 GB and 7-10 s
    on the 2-core machine this was written on.
    From ``2**32 // 20`` = 214,748,364 candidates on (where torch's ``randperm`` itself
    changes its draws) the negatives are drawn by :func:`~graphpair.data.negative_sampling`
    instead: the same distribution, not the reference's draws.

    Args:
        edge_index: the full graph ``[2, E]`` (either or both directions; self loops and
            duplicates are ignored).
        num_nodes: N.
        seed: the run index (the reference uses seeds 0..9).

    Returns:
        A :class:`LinkSplit` with ``protocol='ncn-planetoid'``.

    Example:
        >>> ring = torch.stack([torch.arange(12), (torch.arange(12) + 1) % 12])
        >>> ncn_planetoid_split(ring, num_nodes=12, seed=0)  # doctest: +NORMALIZE_WHITESPACE
        LinkSplit('ncn-planetoid', seed=0, num_nodes=12, train_pos=9, valid_pos=1, valid_neg=2,
                  test_pos=2, test_neg=2)
    """
    check_int("num_nodes", num_nodes, minimum=2)
    check_edge_index("edge_index", edge_index, num_nodes=num_nodes)
    check_int("seed", seed, minimum=0)
    pairs = canonical_pairs(edge_index, num_nodes)
    num_edges = pairs.size(1)
    n_valid = n_test = int(0.2 * num_edges)
    if n_valid < 2:
        raise ValueError(
            f"edge_index has {num_edges} undirected edges; the NCN split needs at least 10 "
            "(floor(0.2 U) >= 2 validation edges)"
        )
    candidates = num_nodes * (num_nodes - 1) // 2 - num_edges
    if candidates < n_valid + n_test:
        raise ValueError(
            f"edge_index leaves {candidates} non-edges among num_nodes={num_nodes} nodes; the "
            f"NCN split draws {n_valid + n_test} distinct negatives (2 x floor(0.2 x "
            f"{num_edges} edges)), so the graph is too dense for it"
        )
    generator = _generator(seed)
    order = torch.randperm(num_edges, generator=generator)
    if candidates < _MAX_EXACT_CANDIDATES:
        neg = _ranked_non_edges(pairs, num_nodes, n_valid + n_test, generator)
    else:
        neg = negative_sampling(
            edge_index, num_nodes, n_valid + n_test, directed=False, generator=generator
        )
    valid_neg, test_neg = neg[:, :n_valid], neg[:, n_valid:]
    valid_all = order[:n_valid][torch.randperm(n_valid, generator=generator)]
    n_keep = int(n_valid * 0.5)
    train_pos, valid_pos, test_pos = _by_stage(
        pairs, valid_all[n_valid - n_keep :], order[n_valid : n_valid + n_test]
    )
    return LinkSplit(
        num_nodes=num_nodes,
        train_pos=train_pos,
        valid_pos=valid_pos,
        valid_neg=valid_neg,
        test_pos=test_pos,
        test_neg=test_neg,
        protocol="ncn-planetoid",
        seed=seed,
    )


# Most non-edge candidates ncn_planetoid_split permutes as the reference does. From
# 2**32 // 20 on, torch's CPU ``randperm`` draws 64-bit words instead of 32-bit ones, so a
# permutation of that size is no longer the one the reference's torch 1.13 drew.
_MAX_EXACT_CANDIDATES = (2**32 - 1) // 20


def _ranked_non_edges(
    pairs: Tensor, num_nodes: int, count: int, generator: torch.Generator
) -> Tensor:
    """The first ``count`` entries of a random permutation of the non-edges ``(u < v)``.

    The candidates are the non-edges in row-major order, as ``nonzero`` lists them in the
    reference's mask; the permutation is drawn over their number ``C`` and each drawn rank is
    mapped back to its pair arithmetically, so no ``N x N`` mask is built.

    Args:
        pairs: the sorted undirected edges ``(u < v)``, ``[2, U]`` (from :func:`canonical_pairs`).
        num_nodes: ``N``.
        count: how many negatives, at most ``C``.
        generator: the split's generator.

    Shapes:
        - output: ``[2, count]``, in the permutation's order
    """
    device, pairs = pairs.device, pairs.cpu()  # the generator, and so the draws, are on CPU
    n = num_nodes
    nodes = torch.arange(n)
    # Position of (u, u + 1) in the row-major list of all pairs u < v.
    row_start = nodes * n - nodes * (nodes + 1) // 2  # [N]
    position = row_start[pairs[0]] + (pairs[1] - pairs[0] - 1)  # [U], increasing
    candidates = n * (n - 1) // 2 - pairs.size(1)
    # int32 halves the memory; randperm draws the same numbers for either dtype.
    ranks = torch.randperm(candidates, generator=generator, dtype=torch.int32)[:count].long()
    # Edge e has position[e] - e non-edges before it, so the non-edge of rank r has as many
    # edges before it as there are edges with position[e] - e <= r.
    earlier = position - torch.arange(position.numel())  # [U], non-decreasing
    flat = ranks + torch.searchsorted(earlier, ranks, right=True)  # [count]
    row = torch.searchsorted(row_start, flat, right=True) - 1
    col = flat - row_start[row] + row + 1
    return torch.stack([row, col]).to(device)


def random_link_split(
    edge_index: Tensor,
    num_nodes: int,
    seed: int,
    *,
    valid_fraction: float = 0.1,
    test_fraction: float = 0.2,
    num_neg_per_pos: int = 1,
) -> LinkSplit:
    """A uniformly random edge split with ``num_neg_per_pos`` negatives per evaluation positive.

    Negatives are distinct non-edges of the full graph, drawn with a generator seeded by
    ``seed`` (the same seed gives the same split).

    Args:
        edge_index: The full graph ``[2, E]`` (either or both directions; self loops and
            duplicates are ignored).
        num_nodes: ``N``.
        seed: Seed of the permutation and of the negatives.
        valid_fraction: Share of the undirected edges held out for validation, in ``(0, 1)``.
        test_fraction: Share held out for testing, in ``(0, 1)``; the two shares sum to
            less than 1.
        num_neg_per_pos: Negatives per validation and test positive, in a shared pool.

    Returns:
        A :class:`LinkSplit` with ``protocol='random'``; positives are canonical pairs
        ``(u < v)``.

    Example:
        >>> ring = torch.stack([torch.arange(12), (torch.arange(12) + 1) % 12])
        >>> split = random_link_split(ring, num_nodes=12, seed=0)
        >>> split.sizes()
        {'train_pos': 9, 'valid_pos': 1, 'valid_neg': 1, 'test_pos': 2, 'test_neg': 2}
    """
    check_int("num_nodes", num_nodes, minimum=2)
    check_edge_index("edge_index", edge_index, num_nodes=num_nodes)
    check_int("seed", seed, minimum=0)
    check_int("num_neg_per_pos", num_neg_per_pos, minimum=1)
    for name, value in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < float(value) < 1.0:
            raise ValueError(f"{name} must be in (0, 1); got {value!r}")
    if valid_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"valid_fraction + test_fraction must be < 1; got {valid_fraction} + {test_fraction}"
        )
    pairs = canonical_pairs(edge_index, num_nodes)
    num_edges = pairs.size(1)
    n_valid, n_test = int(valid_fraction * num_edges), int(test_fraction * num_edges)
    if min(n_valid, n_test) < 1 or n_valid + n_test >= num_edges:
        raise ValueError(
            f"edge_index has {num_edges} undirected edges: too few for valid_fraction="
            f"{valid_fraction} and test_fraction={test_fraction}"
        )
    generator = _generator(seed)
    order = torch.randperm(num_edges, generator=generator)
    neg = negative_sampling(
        edge_index,
        num_nodes,
        (n_valid + n_test) * num_neg_per_pos,
        directed=False,
        generator=generator,
    )
    train_pos, valid_pos, test_pos = _by_stage(
        pairs, order[:n_valid], order[n_valid : n_valid + n_test]
    )
    return LinkSplit(
        num_nodes=num_nodes,
        train_pos=train_pos,
        valid_pos=valid_pos,
        valid_neg=neg[:, : n_valid * num_neg_per_pos],
        test_pos=test_pos,
        test_neg=neg[:, n_valid * num_neg_per_pos :],
        protocol="random",
        seed=seed,
    )


def _by_stage(pairs: Tensor, valid: Tensor, test: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Training, validation and test positives of sorted canonical ``pairs`` ``[2, U]``, given
    the positions of the validation and test ones (the rest train), each in sorted order
    (splits are sets; order carries no meaning): a boolean selection, not a sort per stage."""
    stage = torch.zeros(pairs.size(1), dtype=torch.uint8, device=pairs.device)
    stage[valid] = 1
    stage[test] = 2
    return pairs[:, stage == 0], pairs[:, stage == 1], pairs[:, stage == 2]
