"""Node classification on one graph: a node encoder followed by a linear head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from graphpair.nn.encoders import MPNNEncoder

__all__ = ["NodeClassifier"]


class NodeClassifier(torch.nn.Module):
    r"""A node encoder followed by a head: the model of ``graphpair node``.

    .. math::
        \hat y_v = \mathrm{head}\big(\mathrm{encoder}(X, A)_v\big)

    Args:
        encoder: Called as ``encoder(x, edge_index)`` -> ``[N, D]``
            (:class:`~graphpair.nn.MPNNEncoder`, or a PyG model).
        head: Maps ``[N, D]`` to class logits ``[N, C]`` (the runner's is a ``Linear``).

    Shapes:
        - x: ``[N, F]``; edge_index: ``[2, E]``
        - output: ``[N, C]``

    Example:
        >>> from graphpair.nn import MPNNEncoder
        >>> model = NodeClassifier(MPNNEncoder(3, 8, conv="gcn"), torch.nn.Linear(8, 4))
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> model(torch.randn(3, 3), edge_index).shape
        torch.Size([3, 4])
    """

    def __init__(self, encoder: torch.nn.Module, head: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def reset_parameters(self) -> None:
        """Reset the encoder and the head."""
        for module in (self.encoder, self.head):
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()

    def forward(
        self,
        x: Tensor,
        edge_index: Any,
        edge_weight: Tensor | None = None,
        *,
        num_sampled_nodes_per_hop: Sequence[int] | None = None,
        num_sampled_edges_per_hop: Sequence[int] | None = None,
    ) -> Tensor:
        """Class logits ``[N, C]`` of every node. ``edge_weight`` ``[E]`` and the per-hop
        counts of a sampled subgraph, when given, go to the encoder (as keywords for the
        counts, PyG's names: :class:`~graphpair.nn.MPNNEncoder` then returns the seeds'
        rows only, so the logits are ``[num_sampled_nodes_per_hop[0], C]``)."""
        args = (x, edge_index) if edge_weight is None else (x, edge_index, edge_weight)
        counts = {}
        if num_sampled_nodes_per_hop is not None or num_sampled_edges_per_hop is not None:
            counts = {
                "num_sampled_nodes_per_hop": num_sampled_nodes_per_hop,
                "num_sampled_edges_per_hop": num_sampled_edges_per_hop,
            }
        out: Tensor = self.head(self.encoder(*args, **counts))
        return out

    @torch.no_grad()
    def inference(self, x: Tensor, adj: Any) -> Tensor:
        """Class logits ``[N, C]`` of every node in evaluation (eval mode, no gradient): an
        :class:`~graphpair.nn.MPNNEncoder` runs
        :meth:`~graphpair.nn.encoders.MPNNEncoder.inference` (layer by layer over node
        chunks: less memory, the same values), another encoder as in :meth:`forward` (a PyG
        model's own ``inference`` takes a loader instead)."""
        if isinstance(self.encoder, MPNNEncoder):
            h = self.encoder.inference(x, adj)
        else:
            h = self.encoder(x, adj)
        out: Tensor = self.head(h)
        return out

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        # The node runner's model was torch.nn.Sequential(encoder, head) ("0.", "1."); its
        # checkpoints still load.
        for index, name in ((0, "encoder"), (1, "head")):
            old = f"{prefix}{index}."
            for key in [k for k in state_dict if k.startswith(old)]:
                state_dict[f"{prefix}{name}.{key[len(old) :]}"] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args, **kwargs)
