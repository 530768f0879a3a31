"""graphpair: pairwise and link tasks on graphs with PyTorch Geometric."""

from graphpair import data, losses, metrics, nn, ops, train, transforms
from graphpair._version import __version__

__all__ = ["__version__", "data", "losses", "metrics", "nn", "ops", "train", "transforms"]
