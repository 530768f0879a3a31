"""graphpair: pairwise and link tasks on graphs with PyTorch Geometric.

:func:`load_model` reads back a model a runner saved (``--save-model``).
"""

from graphpair import data, losses, metrics, nn, ops, train, transforms
from graphpair._version import __version__
from graphpair.train import load_model

__all__ = [
    "__version__",
    "data",
    "load_model",
    "losses",
    "metrics",
    "nn",
    "ops",
    "train",
    "transforms",
]
