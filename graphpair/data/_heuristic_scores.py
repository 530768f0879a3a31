r"""The heuristics HeaRT ranks candidate negatives by, as dense score rows.

Common neighbours (``'cn'``), resource allocation (``'ra'``), personalised PageRank truncated
after ``T`` steps (``'ppr'``) and feature cosine similarity (``'cosine'``) of the pairs
``(u, k)``, for a block of row nodes ``u`` and every node ``k``, on the undirected,
deduplicated message-passing graph; the documentation of the module ``graphpair.data._heart``
defines them and says where they differ from the reference code. :func:`heuristic_scores`
is the public front; :func:`score_rows` is what the HeaRT sampler calls per block.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from graphpair._validation import (
    check_choice,
    check_edge_index,
    check_finite,
    check_index,
    check_int,
    check_tensor,
    describe,
)
from graphpair.ops import CSR
from graphpair.ops._spmm import csr_matrix

__all__ = [
    "HEART_HEURISTICS",
    "HEART_SCORE_BITS",
    "HeuristicGraph",
    "canonical_heuristics",
    "check_positive",
    "check_x",
    "heuristic_scores",
    "row_members",
    "score_rows",
]

#: The heuristics :func:`heart_negatives` can combine.
HEART_HEURISTICS = ("cn", "ra", "ppr", "cosine")
#: Significant bits kept of each score before ranking (float64 carries 53).
HEART_SCORE_BITS = 40

_ALIASES = {
    "common_neighbors": "cn",
    "common_neighbours": "cn",
    "resource_allocation": "ra",
    "personalized_pagerank": "ppr",
    "personalised_pagerank": "ppr",
    "feature": "cosine",
    "features": "cosine",
    "feat": "cosine",
}


class HeuristicGraph:
    """The message-passing graph as the sparse matrices the heuristics multiply with."""

    def __init__(
        self, edge_index: Tensor, num_nodes: int, x: Tensor | None, ppr_alpha: float
    ) -> None:
        self.num_nodes = num_nodes
        self.adj = CSR.from_edge_index(edge_index, num_nodes)  # symmetric, deduplicated
        self.ppr_alpha = ppr_alpha
        deg = self.adj.row_lengths().to(torch.float64)
        self.inv_deg = torch.where(deg > 0, 1.0 / deg.clamp(min=1), torch.zeros_like(deg))
        self.x_unit: Tensor | None = None
        if x is not None:
            x = x.to(device=self.adj.device, dtype=torch.float64)
            norm = x.norm(dim=1, keepdim=True)
            self.x_unit = torch.where(norm > 0, x / norm.clamp(min=1e-300), torch.zeros_like(x))
        self._matrices: dict[str, Tensor] = {}

    def matrix(self, name: str) -> Tensor:
        """Sparse CSR ``[N, N]``: ``'adj'`` = A, ``'ra'`` = A D^-1, ``'walk'`` = (1 - alpha) A D^-1.

        ``A D^-1`` is the transposed random-walk matrix ``P^T`` of the symmetric graph.
        """
        if name not in self._matrices:
            value = torch.ones(self.adj.num_edges, dtype=torch.float64, device=self.adj.device)
            if name != "adj":
                value = self.inv_deg[self.adj.col]
            if name == "walk":
                value = value * (1.0 - self.ppr_alpha)
            self._matrices[name] = csr_matrix(
                self.adj.rowptr, self.adj.col, value, (self.num_nodes, self.num_nodes)
            )
        return self._matrices[name]


def row_members(adj: CSR, nodes: Tensor) -> tuple[Tensor, Tensor]:
    """Entries of the rows ``nodes``: ``(position of the row in nodes, member node)``."""
    start = adj.rowptr[nodes]
    counts = adj.rowptr[nodes + 1] - start
    total = int(counts.sum())
    which = torch.repeat_interleave(torch.arange(nodes.numel(), device=nodes.device), counts)
    offset = torch.arange(total, device=nodes.device)
    offset += (start - (torch.cumsum(counts, 0) - counts))[which]
    return which, adj.col[offset]


def _round_bits(scores: Tensor, bits: int = HEART_SCORE_BITS) -> Tensor:
    """Round every value to ``bits`` significant bits (zero stays zero)."""
    mantissa, exponent = torch.frexp(scores)
    return torch.ldexp(torch.round(mantissa * float(2**bits)), exponent - bits)


def score_rows(
    graph: HeuristicGraph, nodes: Tensor, heuristics: Sequence[str], ppr_steps: int
) -> list[Tensor]:
    """Dense score rows ``[B, N]`` of the pairs ``(u, k)``, ``u`` in ``nodes``, per heuristic.

    Computed column-wise (``[N, B]``) as sparse-dense products with the symmetric adjacency.
    """
    num_nodes, count = graph.num_nodes, nodes.numel()
    device = nodes.device
    cols = torch.arange(count, device=device)
    neighbours: Tensor | None = None
    if "cn" in heuristics or "ra" in heuristics:
        which, member = row_members(graph.adj, nodes)
        neighbours = torch.zeros(num_nodes, count, dtype=torch.float64, device=device)
        neighbours[member, which] = 1.0  # column b: indicator of N(u_b)
    out = []
    for name in heuristics:
        if name in ("cn", "ra"):
            assert neighbours is not None
            scores = torch.sparse.mm(graph.matrix("adj" if name == "cn" else "ra"), neighbours)
        elif name == "ppr":
            # Horner's scheme: y <- e_u + (1 - alpha) P^T y, ppr_steps times, then alpha * y.
            start = torch.zeros(num_nodes, count, dtype=torch.float64, device=device)
            start[nodes, cols] = 1.0
            walk = graph.matrix("walk")
            scores = start
            for _ in range(ppr_steps):
                scores = torch.addmm(start, walk, scores)
            scores = scores * graph.ppr_alpha
        else:
            assert graph.x_unit is not None
            scores = (graph.x_unit @ graph.x_unit[nodes].t()).clamp_(min=0.0)
        out.append(_round_bits(scores.t().contiguous()))  # [B, N]
    return out


def canonical_heuristics(heuristics: Sequence[str] | str) -> list[str]:
    if isinstance(heuristics, str):
        heuristics = [heuristics]
    if not isinstance(heuristics, Sequence) or len(heuristics) == 0:
        raise ValueError(
            f"heuristics must be a non-empty sequence of names from {list(HEART_HEURISTICS)}; "
            f"got {describe(heuristics)}"
        )
    names = [check_choice("heuristics", h, HEART_HEURISTICS, _ALIASES) for h in heuristics]
    if len(set(names)) != len(names):
        raise ValueError(f"heuristics must not repeat a heuristic; got {list(heuristics)}")
    return names


def check_x(x: Tensor | None, num_nodes: int, heuristics: list[str]) -> Tensor | None:
    if "cosine" not in heuristics:
        return None
    if x is None:
        raise ValueError("heuristics includes 'cosine', which needs node features: pass x [N, F]")
    x = check_tensor("x", x, dim=2, floating=True)
    if x.size(0) != num_nodes:
        raise ValueError(f"x must have num_nodes={num_nodes} rows; got shape {tuple(x.shape)}")
    return check_finite("x", x)


def check_positive(name: str, value: float, high: float) -> float:
    """A real number in ``(0, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float; got {describe(value)}")
    value = float(value)
    if not 0.0 < value <= high:  # also rejects NaN
        raise ValueError(f"{name} must be in (0, {high}]; got {value}")
    return value


def heuristic_scores(
    edge_index: Tensor,
    num_nodes: int,
    nodes: Tensor,
    heuristic: str,
    *,
    x: Tensor | None = None,
    ppr_alpha: float = 0.15,
    ppr_steps: int = 20,
) -> Tensor:
    r"""Scores of the pairs ``(u, k)`` for every ``u`` in ``nodes`` and every node ``k``.

    The heuristics of :func:`heart_negatives` (see the documentation of the module
    ``graphpair.data._heart`` for their definitions) on the undirected, deduplicated graph
    ``edge_index`` without self loops, rounded to ``HEART_SCORE_BITS`` significant bits.

    Args:
        edge_index: Message-passing graph ``[2, E]``.
        num_nodes: ``N``.
        nodes: Row nodes ``[B]``.
        heuristic: ``'cn'``, ``'ra'``, ``'ppr'`` or ``'cosine'``.
        x: Node features ``[N, F]`` (``'cosine'`` only).
        ppr_alpha: Restart probability of PPR.
        ppr_steps: Walk steps of the truncated PPR series.

    Returns:
        Scores ``[B, N]`` (float64), dense rows: keep ``B * N`` moderate.

    Example:
        On the 4-cycle ``0-1-3-2-0``, node 0 shares both its neighbours with node 3 (and with
        itself):

        >>> edge_index = torch.tensor([[0, 0, 1, 2], [1, 2, 3, 3]])
        >>> heuristic_scores(edge_index, 4, torch.tensor([0]), "cn")
        tensor([[2., 0., 0., 2.]], dtype=torch.float64)
    """
    num_nodes = check_int("num_nodes", num_nodes, minimum=1)
    edge_index = check_edge_index("edge_index", edge_index, num_nodes=num_nodes)
    nodes = check_index("nodes", nodes, size=num_nodes).to(edge_index.device, torch.long)
    names = canonical_heuristics([heuristic])
    x = check_x(x, num_nodes, names)
    ppr_alpha = check_positive("ppr_alpha", ppr_alpha, 1.0)
    ppr_steps = check_int("ppr_steps", ppr_steps, minimum=1)
    graph = HeuristicGraph(edge_index.long(), num_nodes, x, ppr_alpha)
    return score_rows(graph, nodes, names, ppr_steps)[0]
