"""Whole networks built from graphpair's layers.

- :class:`SINC`: the SINC-GCN / SIR-GCN network of the authors' benchmarks (conv, residual,
  BatchNorm, LeakyReLU(0.2), dropout per block; node- or graph-level readout).
- :class:`GRIT`: the GRIT graph transformer (Ma et al., ICML 2023) built from
  :class:`GRITBlock`; :meth:`GRIT.encode` hands its pair states over as :class:`GRITPairs`.
"""

from graphpair.nn.models._grit import GRIT, GRIT_NORMS, GRIT_POOLS, GRITBlock, GRITPairs
from graphpair.nn.models._sinc import SINC

__all__ = [
    "GRIT",
    "GRIT_NORMS",
    "GRIT_POOLS",
    "SINC",
    "GRITBlock",
    "GRITPairs",
]
