"""Node encoders that produce ``h [N, D]`` for the link predictors.

:class:`MPNNEncoder` is the message-passing encoder of the NCN paper: parameter-free normalised
propagation (``'puregcn'``), plain sums (``'puresum'``), PyG ``GCNConv`` / ``SAGEConv``, with
residual or jumping-knowledge outputs and a learnable node embedding for featureless graphs.
Any PyG model that maps nodes to ``[N, D]`` works with the predictors as well.
"""

from graphpair.nn.encoders._mpnn import CONVS, MPNNEncoder, pure_propagate

__all__ = ["CONVS", "MPNNEncoder", "pure_propagate"]
