"""Graph convolutions (PyG ``MessagePassing`` layers).

- :class:`SINCConv`: SINC-GCN's neighbourhood-contextualised messages (Lim, 2025), with
  :class:`SIRConv` (SIR-GCN, TMLR 2025) as its special case without context.
- :class:`GRITConv`: GRIT's attention with pair updates (Ma et al., ICML 2023), on pairs
  sorted by target (:func:`pair_layout`), with its :func:`signed_sqrt`.
"""

from graphpair.nn.conv._grit_conv import GRITConv, PairLayout, pair_layout, signed_sqrt
from graphpair.nn.conv._sinc_conv import SINCConv, SIRConv

__all__ = [
    "GRITConv",
    "PairLayout",
    "SINCConv",
    "SIRConv",
    "pair_layout",
    "signed_sqrt",
]
