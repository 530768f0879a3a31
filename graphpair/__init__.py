"""graphpair: pairwise and link tasks on graphs with PyTorch Geometric."""

from graphpair import data, losses, metrics, nn, ops, train, transforms

__version__ = "0.1.0.dev0"

__all__ = ["__version__", "data", "losses", "metrics", "nn", "ops", "train", "transforms"]
