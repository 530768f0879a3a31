"""Layers and models: node encoders and pair (link) predictors.

- :mod:`graphpair.nn.encoders`: :class:`MPNNEncoder` (``'puregcn'``, ``'puresum'``, GCN, SAGE).
- :mod:`graphpair.nn.link`: :class:`GAEPredictor`, :class:`NCNPredictor`,
  :class:`NCNCPredictor`, :class:`NCNDiffPredictor`, all called as
  ``predictor(h, adj, pairs) -> logits [P]``.
"""

from graphpair.nn.encoders import CONVS, MPNNEncoder, pure_propagate
from graphpair.nn.link import GAEPredictor, NCNCPredictor, NCNDiffPredictor, NCNPredictor

__all__ = [
    "CONVS",
    "GAEPredictor",
    "MPNNEncoder",
    "NCNCPredictor",
    "NCNDiffPredictor",
    "NCNPredictor",
    "pure_propagate",
]
