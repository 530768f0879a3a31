"""Whole networks built from graphpair's layers.

- :class:`SINC`: the SINC-GCN / SIR-GCN network of the authors' benchmarks (conv, residual,
  BatchNorm, LeakyReLU(0.2), dropout per block; node- or graph-level readout).
- :class:`GRIT`: the GRIT graph transformer (Ma et al., ICML 2023) built from
  :class:`GRITBlock`; :meth:`GRIT.encode` hands its pair states over as :class:`GRITPairs`.
- The graph- and node-level models ``graphpair graph`` trains: :class:`GraphModel` (input
  encoders, a backbone, a readout) over a :class:`ConvBackbone` (a :class:`ConvStack` of PyG
  convolutions, or :class:`SINC`) or a :class:`GRITBackbone`, with an :class:`MLPReadout`;
  :class:`GraphInputs` describes a dataset's feature layout.
- :class:`NodeClassifier`: a node encoder and a head, the model of ``graphpair node``.
"""

from graphpair.nn.models._conv_stack import RESIDUALS, ConvStack
from graphpair.nn.models._graph_model import ConvBackbone, GraphInputs, GraphModel, GRITBackbone
from graphpair.nn.models._grit import GRIT, GRIT_NORMS, GRIT_POOLS, GRITBlock, GRITPairs
from graphpair.nn.models._node_classifier import NodeClassifier
from graphpair.nn.models._readout import READOUT_POOLS, MLPReadout
from graphpair.nn.models._sinc import SINC

__all__ = [
    "GRIT",
    "GRIT_NORMS",
    "GRIT_POOLS",
    "READOUT_POOLS",
    "RESIDUALS",
    "SINC",
    "ConvBackbone",
    "ConvStack",
    "GRITBackbone",
    "GRITBlock",
    "GRITPairs",
    "GraphInputs",
    "GraphModel",
    "MLPReadout",
    "NodeClassifier",
]
