"""The version of graphpair (one place; ``graphpair.__version__`` reads it)."""

__version__ = "0.1.0.dev0"
