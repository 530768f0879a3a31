r"""UniqueSignature: the synthetic node-classification task of the NCMP / SINC-GCN paper.

Lim, 2025, "Enhancing Graph Representations with Neighborhood-Contextualized Message-Passing"
(repository ``briangodwinlim/SINC-GCN``, ``synthetic-datasets/unique-signature``); see
``specs/sinc.md`` §4. A node is positive when one of its neighbours carries exactly the sum of
the whole neighbourhood:

.. math::
    y_u = \mathbb 1\Big[\exists\, v \in \mathcal N(u):\ x_v = S_u\Big], \qquad
    S_u = \sum_{w \in \mathcal N(u)} x_w ,

and isolated nodes are negative. A message that sees :math:`x_v` alone (or :math:`x_u` and
:math:`x_v`) cannot decide this; one that also sees the neighbourhood sum can.

Graph ``i`` (``i = 0 .. num_graphs - 1``) is drawn from the seed ``seed + i`` alone:

1. ``n = RandomState(seed + i).randint(min_nodes, max_nodes + 1)``, uniform in
   ``[min_nodes, max_nodes]`` (numpy's legacy Mersenne-Twister stream);
2. :math:`G(n, p)`: the pairs :math:`u < v` in lexicographic order, each kept when the next
   draw of Python's ``random.Random(seed + i)`` is below ``p`` (the procedure of
   ``networkx.gnp_random_graph``); stored with both directions, no self loops;
3. ``x_u = randint(0, F) - F // 2`` from a ``torch.Generator`` seeded with ``seed + i``, so
   :math:`x_u \in \{-\lfloor F/2 \rfloor, \dots, F - 1 - \lfloor F/2 \rfloor\}`.

These are the streams the reference ``data.py`` draws from after seeding Python, numpy and
torch with ``i``, so with ``seed = 0`` the graphs are the reference dataset's, bit for bit (the
tests check the published positive rates to the fourth decimal). Every stream is a local
object: the caller's global RNG state is neither read nor changed.

Split: the first ``int(0.8 * num_graphs)`` graphs train, the rest test
(:func:`unique_signature_split`); the paper has no validation set.

Published positive rates (share of positive nodes over the 5,000 graphs, reference README):

=====  ======  ======  ======
p      F = 3   F = 5   F = 7
=====  ======  ======  ======
0.3    0.3710  0.3457  0.3190
0.5    0.2887  0.2810  0.2696
0.7    0.2461  0.2431  0.2349
=====  ======  ======  ======
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphpair._validation import check_int, describe
from graphpair.data._sbm import _pairs  # u < v in lexicographic order, cached per n

__all__ = ["PUBLISHED_POSITIVE_RATE", "unique_signature_graphs", "unique_signature_split"]

#: Share of positive nodes over the reference dataset's 5,000 graphs, keyed by ``(p, F)``.
PUBLISHED_POSITIVE_RATE: dict[tuple[float, int], float] = {
    (0.3, 3): 0.3710,
    (0.3, 5): 0.3457,
    (0.3, 7): 0.3190,
    (0.5, 3): 0.2887,
    (0.5, 5): 0.2810,
    (0.5, 7): 0.2696,
    (0.7, 3): 0.2461,
    (0.7, 5): 0.2431,
    (0.7, 7): 0.2349,
}


#: Largest allowed ``max_nodes`` (graphs are built as dense ``[n, n]`` boolean matrices).
_MAX_NODES = 10_000

#: Mersenne-Twister state words (Python's ``random`` and numpy's ``RandomState`` share it).
_MT_WORDS = 624


def _continue_python_random(stream: np.random.RandomState, seed: int) -> None:
    """Put ``stream`` in the state of ``random.Random(seed)``: its ``random_sample`` then
    continues ``random.Random(seed).random()``, vectorised.

    Both use MT19937 and build a double from two 32-bit words the same way (53 random bits),
    so Python's state moved into numpy's gives the same numbers.
    """
    _, internal, _ = random.Random(seed).getstate()
    words = np.fromiter(internal, dtype=np.uint32, count=_MT_WORDS + 1)
    stream.set_state(("MT19937", words[:_MT_WORDS], int(words[_MT_WORDS]), 0, 0.0))


def _signature_labels(adj: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``y_u = 1`` iff some neighbour ``v`` of ``u`` has ``x_v`` equal to the neighbourhood sum
    (``adj`` the dense boolean adjacency ``[n, n]``, ``x`` the integer features ``[n]``)."""
    total = adj @ x  # S_u: [n]
    labels: np.ndarray = (adj & (x[None, :] == total[:, None])).any(axis=1).astype(np.int64)
    return labels


def _one_graph(
    stream: np.random.RandomState,
    seed: int,
    p: float,
    num_features: int,
    min_nodes: int,
    max_nodes: int,
) -> Data:
    """Graph number ``seed``; ``stream`` is a scratch generator, reseeded here (re-seeding one
    object is much cheaper than building a ``RandomState`` per graph)."""
    stream.seed(seed)  # numpy's legacy seeding, as np.random.seed(seed)
    n = int(stream.randint(min_nodes, max_nodes + 1))
    row, col = _pairs(n)
    if p <= 0.0:
        keep = np.zeros(row.size, dtype=bool)
    elif p >= 1.0:
        keep = np.ones(row.size, dtype=bool)
    else:
        _continue_python_random(stream, seed)
        keep = stream.random_sample(row.size) < p
    # Graphs have at most a few hundred nodes: a dense adjacency is the simplest exact path.
    adj = np.zeros((n, n), dtype=bool)
    adj[row[keep], col[keep]] = True
    adj |= adj.T
    src, dst = np.nonzero(adj)  # both directions, sorted by row then column
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, num_features, (n,), generator=gen) - num_features // 2  # [n]
    y = _signature_labels(adj, x.numpy())
    return Data(
        x=x.float().unsqueeze(-1),
        edge_index=torch.from_numpy(np.stack([src, dst])).long(),
        y=torch.from_numpy(y),
    )


def unique_signature_graphs(
    p: float,
    num_features: int,
    num_graphs: int = 5000,
    *,
    seed: int = 0,
    min_nodes: int = 30,
    max_nodes: int = 70,
) -> list[Data]:
    """The UniqueSignature graphs of the NCMP paper (see the module docstring).

    Args:
        p: Edge probability of :math:`G(n, p)`, in ``[0, 1]`` (the paper: 0.3, 0.5, 0.7).
        num_features: ``F``, the number of distinct feature values (the paper: 3, 5, 7).
        num_graphs: Number of graphs (the paper: 5,000).
        seed: Graph ``i`` uses the seed ``seed + i``; 0 reproduces the paper's dataset.
        min_nodes: Smallest graph size (the paper: 30).
        max_nodes: Largest graph size, inclusive (the paper: 70; at most 10,000).

    Returns:
        ``num_graphs`` graphs ``Data(x, edge_index, y)``: ``x`` ``[n, 1]`` float holding the
        integer feature, ``edge_index`` ``[2, E]`` (both directions, sorted), ``y`` ``[n]``
        long in {0, 1}.

    Example:
        >>> graphs = unique_signature_graphs(0.5, 5, num_graphs=10)
        >>> len(graphs), graphs[0].x.size(1)
        (10, 1)
    """
    if isinstance(p, bool) or not isinstance(p, int | float):
        raise TypeError(f"p must be a float in [0, 1]; got {describe(p)}")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must be in [0, 1]; got {p!r}")
    num_features = check_int("num_features", num_features, minimum=1)
    num_graphs = check_int("num_graphs", num_graphs, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    min_nodes = check_int("min_nodes", min_nodes, minimum=1)
    # Each graph is built densely ([n, n] booleans), which caps its size.
    max_nodes = check_int("max_nodes", max_nodes, minimum=min_nodes, maximum=_MAX_NODES)
    # Python's random and numpy's RandomState take seeds below 2**32 the same way only.
    check_int("seed + num_graphs - 1", seed + num_graphs - 1, maximum=2**32 - 1)
    stream = np.random.RandomState(0)
    return [
        _one_graph(stream, seed + i, float(p), num_features, min_nodes, max_nodes)
        for i in range(num_graphs)
    ]


def unique_signature_split(num_graphs: int) -> dict[str, Tensor]:
    """The paper's split: the first ``int(0.8 * num_graphs)`` graphs train, the rest test.

    Example:
        >>> {k: v.numel() for k, v in unique_signature_split(5000).items()}
        {'train': 4000, 'test': 1000}
    """
    num_graphs = check_int("num_graphs", num_graphs, minimum=1)
    cut = int(0.8 * num_graphs)
    return {"train": torch.arange(cut), "test": torch.arange(cut, num_graphs)}
