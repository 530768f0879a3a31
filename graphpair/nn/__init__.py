"""Layers and models: node encoders and pair (link) predictors.

- :mod:`graphpair.nn.encoders`: :class:`MPNNEncoder` (``'puregcn'``, ``'puresum'``, GCN, SAGE).
- :mod:`graphpair.nn.link`: :class:`GAEPredictor`, :class:`NCNPredictor`,
  :class:`NCNCPredictor`, :class:`NCNDiffPredictor`, all called as
  ``predictor(h, adj, pairs) -> logits [P]``.
- :mod:`graphpair.nn.conv`: :class:`SINCConv` (SINC-GCN) and :class:`SIRConv` (SIR-GCN).
- :mod:`graphpair.nn.models`: :class:`SINC`, the SINC-GCN network (node- or graph-level);
  the models of ``graphpair graph``: :class:`GraphModel` with :class:`FeatureEncoder` inputs,
  a :class:`ConvBackbone` (:class:`ConvStack` or :class:`SINC`) or :class:`GRITBackbone`, and
  an :class:`MLPReadout`.
- :class:`LinkModel`: an encoder and a link predictor as one module; :class:`NodeClassifier`:
  an encoder and a head (``graphpair node``).
- GRIT: :class:`GRITConv`, :class:`GRITBlock`, :class:`GRIT` (graph- or node-level), the RRWP
  encoders, :class:`GRITPairPredictor` (a link head on GRIT's pair states) and
  :class:`GRITLinkEncoder` (GRIT as a link encoder over a masked CSR, for that head).
"""

from graphpair.nn import conv, models
from graphpair.nn.conv import GRITConv, SINCConv, SIRConv
from graphpair.nn.encoders import (
    CONVS,
    FeatureEncoder,
    MPNNEncoder,
    RRWPNodeEncoder,
    RRWPPairEncoder,
    pure_propagate,
)
from graphpair.nn.link import (
    NCNC_CHECKPOINT_BYTES,
    NCNC_CHUNK,
    GAEPredictor,
    GRITLinkEncoder,
    GRITPairPredictor,
    LinkModel,
    NCNCPredictor,
    NCNDiffPredictor,
    NCNPredictor,
    cap_members,
    rrwp_pair_bound,
)
from graphpair.nn.models import (
    GRIT,
    SINC,
    ConvBackbone,
    ConvStack,
    GraphInputs,
    GraphModel,
    GRITBackbone,
    GRITBlock,
    GRITPairs,
    MLPReadout,
    NodeClassifier,
)

__all__ = [
    "CONVS",
    "GRIT",
    "NCNC_CHECKPOINT_BYTES",
    "NCNC_CHUNK",
    "SINC",
    "ConvBackbone",
    "ConvStack",
    "FeatureEncoder",
    "GAEPredictor",
    "GRITBackbone",
    "GRITBlock",
    "GRITConv",
    "GRITLinkEncoder",
    "GRITPairPredictor",
    "GRITPairs",
    "GraphInputs",
    "GraphModel",
    "LinkModel",
    "MLPReadout",
    "MPNNEncoder",
    "NCNCPredictor",
    "NCNDiffPredictor",
    "NCNPredictor",
    "NodeClassifier",
    "RRWPNodeEncoder",
    "RRWPPairEncoder",
    "SINCConv",
    "SIRConv",
    "cap_members",
    "conv",
    "models",
    "pure_propagate",
    "rrwp_pair_bound",
]
