"""Pure tensor kernels: the only layer that chooses a backend.

Scatter / segment / softmax reductions, CSR adjacency with an edge mask, common-neighbour and
neighbour-difference sets for batches of pairs, sparse random-walk powers, and neighbour
sampling.
"""

from graphpair.ops._as_csr import (
    as_csr,
    csr_from_data,
    csr_from_sparse,
    csr_from_sparse_tensor,
    is_sparse_tensor,
)
from graphpair.ops._backend import (
    BACKENDS,
    get_backend,
    resolve_backend,
    set_backend,
    torch_scatter_available,
    use_backend,
)
from graphpair.ops._capped_overlap import CappedOverlap, cap_members, capped_neighbor_overlap
from graphpair.ops._common_neighbors import (
    CN_DENSE_BYTES_PER_EDGE,
    CN_DENSE_SMALL_BYTES,
    CN_LOOKUP_BITSET_BYTES,
    CN_LOOKUP_BYTES_PER_EDGE,
    NeighborOverlap,
    PairNodeSet,
    common_neighbors,
    common_neighbors_method,
    neighbor_difference,
    neighbor_overlap,
)
from graphpair.ops._csr import CSR, DENSE_BITSET_MAX_BYTES
from graphpair.ops._random_walk import (
    RANDOM_WALK_DENSE_MAX_BYTES,
    RANDOM_WALK_DENSE_MAX_NODES,
    RandomWalkPowers,
    random_walk_powers,
)
from graphpair.ops._sampling import (
    FLOYD_MAX_FANOUT,
    SampledSubgraph,
    check_fanout,
    neighbor_sample,
)
from graphpair.ops._scatter import REDUCTIONS, scatter
from graphpair.ops._segment import segment
from graphpair.ops._softmax import softmax
from graphpair.ops._subgraph import induced_subgraph, neighborhood

__all__ = [
    "BACKENDS",
    "CN_DENSE_BYTES_PER_EDGE",
    "CN_DENSE_SMALL_BYTES",
    "CN_LOOKUP_BITSET_BYTES",
    "CN_LOOKUP_BYTES_PER_EDGE",
    "CSR",
    "DENSE_BITSET_MAX_BYTES",
    "FLOYD_MAX_FANOUT",
    "RANDOM_WALK_DENSE_MAX_BYTES",
    "RANDOM_WALK_DENSE_MAX_NODES",
    "REDUCTIONS",
    "CappedOverlap",
    "NeighborOverlap",
    "PairNodeSet",
    "RandomWalkPowers",
    "SampledSubgraph",
    "as_csr",
    "cap_members",
    "capped_neighbor_overlap",
    "check_fanout",
    "common_neighbors",
    "common_neighbors_method",
    "csr_from_data",
    "csr_from_sparse",
    "csr_from_sparse_tensor",
    "get_backend",
    "induced_subgraph",
    "is_sparse_tensor",
    "neighbor_difference",
    "neighbor_overlap",
    "neighbor_sample",
    "neighborhood",
    "random_walk_powers",
    "resolve_backend",
    "scatter",
    "segment",
    "set_backend",
    "softmax",
    "torch_scatter_available",
    "use_backend",
]
