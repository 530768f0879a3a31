"""Node encoders that produce ``h [N, D]`` for the link predictors.

:class:`MPNNEncoder` is the message-passing encoder of the NCN paper: parameter-free normalised
propagation (``'puregcn'``), plain sums (``'puresum'``), PyG ``GCNConv`` / ``SAGEConv``, with
residual or jumping-knowledge outputs and a learnable node embedding for featureless graphs.
Any PyG model that maps nodes to ``[N, D]`` works with the predictors as well.
:class:`GRACEEncoder` is GRACE's GCN encoder with its projection head, for contrastive
pre-training (:func:`graphpair.train.train_grace`).
:class:`RRWPNodeEncoder` and :class:`RRWPPairEncoder` map GRIT's RRWP to node and pair
features (the pair one also places the edge features on their pairs).
:class:`FeatureEncoder` maps categorical, float or absent node and edge inputs to a width
(the input encoders of :class:`~graphpair.nn.GraphModel`).
"""

from graphpair.nn.encoders._feature import FeatureEncoder
from graphpair.nn.encoders._grace import GRACEEncoder, drop_feature
from graphpair.nn.encoders._mpnn import CONVS, MPNNEncoder
from graphpair.nn.encoders._propagate import gcn_conv, pure_propagate, sage_conv
from graphpair.nn.encoders._rrwp import RRWPNodeEncoder, RRWPPairEncoder

__all__ = [
    "CONVS",
    "FeatureEncoder",
    "GRACEEncoder",
    "MPNNEncoder",
    "RRWPNodeEncoder",
    "RRWPPairEncoder",
    "drop_feature",
    "gcn_conv",
    "pure_propagate",
    "sage_conv",
]
