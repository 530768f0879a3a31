"""A link model: a node encoder and a pair predictor as one module."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphpair.nn.encoders import MPNNEncoder
from graphpair.nn.link._common import to_csr
from graphpair.ops import CSR

__all__ = ["LinkModel"]


class LinkModel(torch.nn.Module):
    r"""A node encoder and a link predictor as one module, so that one training step is one
    forward call (what ``DistributedDataParallel`` synchronises), and one object scores pairs.

    .. math::
        s_{ij} = \mathrm{predictor}\big(\mathrm{encoder}(x, A),\, A,\, (i, j)\big)

    The encoder is called as ``encoder(x, adj)`` on a :class:`~graphpair.ops.CSR` (with its
    edge mask, the masked graph of target link removal); ``adj`` may be given in any form
    :func:`~graphpair.ops.as_csr` takes (``edge_index``, ``torch.sparse``, ``SparseTensor``,
    ``Data``), converted once per call, read as undirected. It returns ``h [N, D]``, which the
    predictor reads beside ``adj``; an encoder that returns ``(h, state)``
    (:class:`~graphpair.nn.GRITLinkEncoder`: the pair states of GRIT) hands the predictor
    ``state`` in place of ``adj``.

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile it (the adjacency is
    a Python object and the parts are any modules); ``torch.compile`` runs it, with the graph
    breaks of its parts (``docs/reliability.md``).

    Args:
        encoder: Node encoder (:class:`~graphpair.nn.MPNNEncoder`,
            :class:`~graphpair.nn.GRITLinkEncoder`, or any module called as above).
        predictor: Link predictor called as ``predictor(h, adj, pairs) -> [P]``
            (:class:`~graphpair.nn.NCNPredictor`, :class:`~graphpair.nn.NCNCPredictor`, ...).

    Shapes:
        - x: ``[N, F]`` or ``None`` (an encoder with its own node embedding); pos: ``[2, P]``;
          neg: ``[2, P']``
        - output: ``([P], [P'])`` logits

    Example:
        >>> from graphpair.nn import MPNNEncoder, NCNPredictor
        >>> edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
        >>> adj = CSR.from_edge_index(edge_index, num_nodes=4)
        >>> model = LinkModel(MPNNEncoder(3, 8, conv="gcn"), NCNPredictor(8, 8))
        >>> pos, neg = model(torch.randn(4, 3), adj, torch.tensor([[0], [2]]),
        ...                  torch.tensor([[0], [3]]))
        >>> pos.shape, neg.shape
        (torch.Size([1]), torch.Size([1]))
    """

    def __init__(self, encoder: torch.nn.Module, predictor: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor

    def reset_parameters(self) -> None:
        """Reset the encoder and the predictor."""
        for module in (self.encoder, self.predictor):
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()

    def encode(
        self, x: Tensor | None, adj: CSR | Tensor | Any, *, inference: bool = False
    ) -> tuple[Tensor, Any]:
        """``(h, what the predictor reads as adj)``: ``adj`` as a CSR for a message-passing
        encoder, the encoder's state for one that returns ``(h, state)``.

        ``adj`` is converted to a CSR here, once (:func:`~graphpair.ops.as_csr`, undirected;
        an ``edge_index`` gets ``x``'s row count as ``N``), so the encoder and both scoring
        calls share it. With ``inference`` (evaluation: eval mode, no gradient) an
        :class:`~graphpair.nn.MPNNEncoder` runs
        :meth:`~graphpair.nn.encoders.MPNNEncoder.inference` (layer by layer over node chunks:
        less memory, the same values)."""
        adj = to_csr(adj, None if x is None else x.size(0))
        encoder: Any = self.encoder
        layerwise = inference and isinstance(encoder, MPNNEncoder)
        out = encoder.inference(x, adj) if layerwise else encoder(x, adj)
        if isinstance(out, tuple):
            return out[0], out[1]
        return out, adj

    def score(self, h: Tensor, state: Any, pairs: Tensor) -> Tensor:
        """Logits ``[P]`` of ``pairs`` from an :meth:`encode` output."""
        out: Tensor = self.predictor(h, state, pairs)
        return out

    def forward(
        self, x: Tensor | None, adj: CSR | Tensor | Any, pos: Tensor, neg: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Logits of ``pos`` and of ``neg`` from one encoder pass over ``adj``."""
        h, state = self.encode(x, adj)
        pos_scores = self.score(h, state, pos)  # positives first, as the reference
        return pos_scores, self.score(h, state, neg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(encoder={self.encoder!r}, predictor={self.predictor!r})"
