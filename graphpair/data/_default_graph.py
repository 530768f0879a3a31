r"""The embedded default graph: a Cora-sized synthetic citation graph, deterministic by seed.

It lets the main link-prediction job (and every test and example) run with no files and no
network, on a graph whose statistics are close to Planetoid Cora's and on which the usual
link-prediction signals exist for the same reasons as on real citation graphs:

- **communities** (``y``, 7 like Cora's classes) with a homophilous edge set;
- **heavy-tailed degrees**, from a degree-corrected block model with Pareto node weights
  (a few highly cited hubs, most nodes of degree 1-4);
- **triadic closure**, so that a held-out edge has common neighbours far more often than a
  random non-edge (the signal NCN and the CN / Adamic-Adar heuristics use);
- **sparse binary bag-of-words features** ``x`` with community-specific vocabularies.

Generation (all draws from one local :class:`numpy.random.Generator` seeded with ``seed``; the
caller's global RNG state is never read or changed):

1. Community proportions :math:`\pi \sim \mathrm{Dirichlet}(4 \cdot \mathbf 1_K)`, labels
   :math:`y_i \sim \pi` (every community non-empty); node weights are the :math:`N` quantiles
   :math:`((k + 1/2) / N)^{-1/a}` of a Pareto law of shape :math:`a = 1.5`
   (:math:`P(\theta > t) = t^{-a}`) in random order. Quantiles rather than draws keep the
   largest hubs stable from seed to seed (a raw Pareto draw puts the top degree anywhere
   between 60 and 500).
2. *Citations.* Every node cites one node (so no node is isolated), and ``citation_share`` of
   the edges are citations in all. The citing node is uniform (the first round: every node);
   the cited node is drawn with probability :math:`\propto \theta`, from the citing node's own
   community with probability ``homophily`` and from the other communities otherwise.
3. *Triadic closure.* The remaining edges close wedges of the current graph: a random edge end
   :math:`(v, a)` (so the centre :math:`v` is drawn :math:`\propto` degree) and a second random
   neighbour :math:`b` of :math:`v` give the edge :math:`(a, b)`.
4. Self loops and repeats are dropped and rounds repeat until exactly ``num_edges`` distinct
   undirected edges exist (on tiny dense graphs whose wedges are all closed, uniform random
   pairs make up the rest).
5. *Features.* Each community owns a disjoint block of ``num_features // (2 K)`` topic words;
   a node draws :math:`1 + \mathrm{Poisson}(\text{words\_per\_node} - 1)` words, each from its
   community's block with probability 0.2 and otherwise from a Zipf-like (:math:`\propto 1 /
   \text{rank}`) background over the whole vocabulary; ``x`` marks the words present.

Statistics at the defaults (seeds 0, 1, 2), next to Planetoid Cora's (measured on the raw files
the same way):

================================  ====================  ===============
statistic                         default graph         Planetoid Cora
================================  ====================  ===============
nodes / undirected edges          2,708 / 5,278         2,708 / 5,278
classes / feature dims            7 / 1,433             7 / 1,433
edge homophily                    0.810-0.813           0.810
max degree (mean 3.9)             121-155               168
degree std / mean                 1.10-1.25             1.34
isolated nodes                    0                     0
average clustering coefficient    0.31-0.33             0.24
feature density                   1.1 %                 1.3 %
held-out edges with CN > 0        0.59-0.61             0.48-0.54
random non-edges with CN > 0      0.006-0.015           0.009-0.015
================================  ====================  ===============

(CN: 10 % of the edges held out, common neighbours counted on the rest with
:func:`graphpair.ops.common_neighbors`, as many uniform non-edges as held-out edges.)

Generation takes 15-50 ms (median of 9 warm calls at the defaults on a shared 2-core CPU,
depending on its load; 35-120 ms for the first call of a process), far inside the 2 s budget of
the embedded default.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch_geometric.data import Data

from graphpair._validation import check_int, describe

__all__ = ["default_graph"]

#: Pareto shape of the node weights (degree tail exponent about ``1 + _PARETO_SHAPE``).
_PARETO_SHAPE = 1.5
#: Dirichlet concentration of the community proportions (4: unequal but none tiny).
_COMMUNITY_CONCENTRATION = 4.0
#: Probability that a feature word comes from the node's community block.
_TOPIC_SHARE = 0.2
#: Rounds of sampling before giving up on reaching ``num_edges`` (never hit for valid input).
_MAX_ROUNDS = 100


def _check_fraction(name: str, value: object, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float; got {describe(value)}")
    out = float(value)
    if not (low <= out <= high):
        raise ValueError(f"{name} must be in [{low}, {high}]; got {value!r}")
    return out


def _pick_weighted(
    rng: np.random.Generator, cum: np.ndarray, start: np.ndarray, mass: np.ndarray
) -> np.ndarray:
    """One index per row, drawn with probability proportional to the weights whose cumulative
    sums are ``cum`` and restricted to the slice of total ``mass`` that begins at ``start``."""
    u = start + rng.random(start.shape[0]) * mass
    index: np.ndarray = np.minimum(np.searchsorted(cum, u, side="right"), cum.shape[0] - 1)
    return index


def _cite(
    rng: np.random.Generator,
    src: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    cum: np.ndarray,
    block_start: np.ndarray,
    block_mass: np.ndarray,
    homophily: float,
) -> np.ndarray:
    """The node each of ``src`` cites: within its community with probability ``homophily``,
    else in another community; proportional to the weights either way."""
    total = cum[-1]
    own = rng.random(src.shape[0]) < homophily
    c = y[src]
    # Same community: the block of c in the community-sorted weight order.
    inside = _pick_weighted(rng, cum, block_start[c], block_mass[c])
    # Other communities: the weight outside block c, read as one interval of length
    # total - mass[c] that skips over the block.
    u = rng.random(src.shape[0]) * (total - block_mass[c])
    u = np.where(u >= block_start[c], u + block_mass[c], u)
    outside = np.minimum(np.searchsorted(cum, u, side="right"), cum.shape[0] - 1)
    return order[np.where(own, inside, outside)]


def _new_keys(keys: np.ndarray, a: np.ndarray, b: np.ndarray, num_nodes: int) -> np.ndarray:
    """Undirected keys ``min * N + max`` of the pairs ``(a, b)`` that are neither self loops
    nor in the sorted ``keys``, deduplicated, in order of first appearance."""
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    cand: np.ndarray = lo * num_nodes + hi
    if keys.size:
        pos = np.minimum(np.searchsorted(keys, cand), keys.size - 1)
        cand = cand[keys[pos] != cand]
    _, first = np.unique(cand, return_index=True)
    return cand[np.sort(first)]


def default_graph(
    seed: int = 0,
    *,
    num_nodes: int = 2708,
    num_edges: int = 5278,
    num_classes: int = 7,
    num_features: int = 1433,
    homophily: float = 0.85,
    citation_share: float = 0.7,
    words_per_node: float = 18.0,
) -> Data:
    """A Cora-sized synthetic citation graph for link prediction (see the module docstring).

    Args:
        seed: Seed of the local generator; the same seed gives identical tensors.
        num_nodes: ``N``.
        num_edges: Exact number of distinct undirected edges (``edge_index`` holds twice as
            many columns). At least ``N`` and at most a quarter of all node pairs.
        num_classes: Communities ``K`` (labels ``y`` in ``[0, K)``); at most ``N``.
        num_features: Vocabulary size (columns of ``x``), at least ``2 K``.
        homophily: Probability that a citation stays in the citing node's community (the edge
            homophily comes out a little lower, 0.81 at the defaults).
        citation_share: Share of the edges made by citations; the rest close triangles.
        words_per_node: Mean number of words drawn per node (repeats merge, so ``x`` has
            slightly fewer ones per row).

    Returns:
        ``Data(x, edge_index, y)``: ``x`` ``[N, F]`` float32 in {0, 1}; ``edge_index``
        ``[2, 2 * num_edges]`` with both directions of every edge, sorted by row then column,
        no self loops or repeats; ``y`` ``[N]`` long.

    Example:
        >>> data = default_graph(seed=0)
        >>> data.num_nodes, data.edge_index.size(1) // 2, data.x.size(1)
        (2708, 5278, 1433)
    """
    seed = check_int("seed", seed, minimum=0)
    num_nodes = check_int("num_nodes", num_nodes, minimum=10)
    max_edges = num_nodes * (num_nodes - 1) // 8
    num_edges = check_int("num_edges", num_edges, minimum=num_nodes, maximum=max_edges)
    num_classes = check_int("num_classes", num_classes, minimum=1, maximum=num_nodes)
    num_features = check_int("num_features", num_features, minimum=2 * num_classes)
    homophily = _check_fraction("homophily", homophily, low=0.0, high=1.0)
    citation_share = _check_fraction("citation_share", citation_share, low=0.0, high=1.0)
    words_per_node = _check_fraction("words_per_node", words_per_node, low=1.0, high=1e6)
    if num_classes == 1 and homophily < 1.0:
        # With one community there is no "other community" to cite.
        homophily = 1.0

    rng = np.random.default_rng(seed)
    n = num_nodes

    # 1. Communities and weights. Every community gets at least one node.
    share = rng.dirichlet(np.full(num_classes, _COMMUNITY_CONCENTRATION))
    y = np.concatenate([np.arange(num_classes), rng.choice(num_classes, n - num_classes, p=share)])
    rng.shuffle(y)
    theta = rng.permutation(((np.arange(n) + 0.5) / n) ** (-1.0 / _PARETO_SHAPE))

    # Weights in community-sorted order, so each community is one contiguous CDF block.
    order = np.argsort(y, kind="stable")
    cum = np.cumsum(theta[order])
    block_mass = np.bincount(y, weights=theta, minlength=num_classes)
    block_start = np.concatenate([[0.0], np.cumsum(block_mass)[:-1]])

    def cite(src: np.ndarray) -> np.ndarray:
        return _cite(rng, src, y, order, cum, block_start, block_mass, homophily)

    # 2. Citations: one per node, then uniform citing nodes up to the citation budget.
    everyone = np.arange(n)
    cited = cite(everyone)
    for _ in range(_MAX_ROUNDS):
        again = np.flatnonzero(cited == everyone)
        if again.size == 0:
            break
        cited[again] = cite(again)
    # A node alone in its community with homophily 1 can only cite itself: any other node.
    again = np.flatnonzero(cited == everyone)
    cited[again] = (again + rng.integers(1, n, size=again.size)) % n
    keys = np.sort(_new_keys(np.empty(0, np.int64), everyone, cited, n))
    target = max(round(citation_share * num_edges), 0)
    for _ in range(_MAX_ROUNDS):
        if keys.size >= min(target, num_edges):
            break
        need = min(target, num_edges) - keys.size
        src = rng.integers(0, n, size=math.ceil(need * 1.1) + 8)
        fresh = _new_keys(keys, src, cite(src), n)[:need]
        keys = np.sort(np.concatenate([keys, fresh]))

    # 3. Triadic closure up to num_edges; uniform pairs fill in if the wedges run out (tiny,
    # dense graphs only: at most a quarter of all pairs are edges, so most pairs are free).
    for _ in range(_MAX_ROUNDS):
        need = num_edges - keys.size
        if need == 0:
            break
        row, col = np.divmod(keys, n)
        src = np.concatenate([row, col])  # both directions: [2 E]
        dst = np.concatenate([col, row])
        perm = np.argsort(src, kind="stable")
        src, dst = src[perm], dst[perm]
        deg = np.bincount(src, minlength=n)
        ptr = np.concatenate([[0], np.cumsum(deg)])
        draws = math.ceil(need * 1.5) + 8
        pick = rng.integers(0, src.size, size=draws)  # edge ends (v, a), v ~ degree
        v, a = src[pick], dst[pick]
        b = dst[ptr[v] + (rng.random(draws) * deg[v]).astype(np.int64)]
        fresh = _new_keys(keys, a, b, n)[:need]
        if fresh.size == 0:
            a, b = rng.integers(0, n, size=(2, need + 8))
            fresh = _new_keys(keys, a, b, n)[:need]
        keys = np.sort(np.concatenate([keys, fresh]))
    if keys.size != num_edges:  # pragma: no cover - the checks above make this unreachable
        raise RuntimeError(f"could not place {num_edges} edges on {n} nodes")

    # 4. Features: community topic blocks plus a Zipf-like background.
    lengths = 1 + rng.poisson(words_per_node - 1.0, size=n)
    owner = np.repeat(everyone, lengths)
    block = num_features // (2 * num_classes)
    topic = rng.random(owner.size) < _TOPIC_SHARE
    topic_word = y[owner] * block + rng.integers(0, block, size=owner.size)
    background = 1.0 / np.arange(1, num_features + 1)
    rank_to_word = rng.permutation(num_features)
    back_word = rank_to_word[
        np.minimum(
            np.searchsorted(np.cumsum(background), rng.random(owner.size) * background.sum()),
            num_features - 1,
        )
    ]
    word = np.where(topic, topic_word, back_word)
    x = torch.zeros(n, num_features)
    x[torch.from_numpy(owner), torch.from_numpy(word)] = 1.0

    row, col = np.divmod(keys, n)
    both = np.stack([np.concatenate([row, col]), np.concatenate([col, row])])
    both = both[:, np.lexsort((both[1], both[0]))]
    return Data(
        x=x,
        edge_index=torch.from_numpy(np.ascontiguousarray(both)).long(),
        y=torch.from_numpy(y).long(),
    )
