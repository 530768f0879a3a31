"""Activation and normalisation layers by name, shared by the stacks and heads of
:mod:`graphpair.nn` (private)."""

from __future__ import annotations

import torch
from torch_geometric.nn.norm import GraphNorm

from graphpair._validation import check_choice

__all__ = ["ACTIVATIONS", "NORMS", "activation", "normalization"]

#: Activations by name; ``'leaky_relu'`` has slope 0.2 (the SINC-GCN authors' block).
ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "gelu", "tanh")
#: Normalisations by name: ``BatchNorm1d`` over nodes, ``LayerNorm``, PyG's ``GraphNorm``
#: (per graph, needs ``batch``), or ``'none'``.
NORMS: tuple[str, ...] = ("batch", "layer", "graph", "none")


def activation(name: str) -> torch.nn.Module:
    """A fresh activation module; ``name`` is one of :data:`ACTIVATIONS`."""
    name = check_choice("act", name, ACTIVATIONS)
    if name == "leaky_relu":
        return torch.nn.LeakyReLU(0.2)
    kinds: dict[str, type[torch.nn.Module]] = {
        "relu": torch.nn.ReLU,
        "gelu": torch.nn.GELU,
        "tanh": torch.nn.Tanh,
    }
    return kinds[name]()


def normalization(name: str | None, channels: int) -> torch.nn.Module:
    """A fresh normalisation over ``channels``; ``name`` is one of :data:`NORMS` (``None``
    and ``'none'`` give the identity)."""
    name = "none" if name is None else check_choice("norm", name, NORMS)
    if name == "batch":
        return torch.nn.BatchNorm1d(channels)
    if name == "layer":
        return torch.nn.LayerNorm(channels)
    if name == "graph":
        norm: torch.nn.Module = GraphNorm(channels)
        return norm
    return torch.nn.Identity()
