"""GAE link predictor: Hadamard product of the endpoint embeddings, then an MLP or a sum."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphpair._validation import check_choice, check_int
from graphpair.nn._checks import check_probability
from graphpair.nn.link._common import (
    Stack,
    check_adjacency_type,
    check_link_inputs,
    endpoint_product,
    head_steps,
    ij_steps,
)
from graphpair.ops import CSR

__all__ = ["GAEPredictor"]

_MODES = ("mlp", "dot")


class GAEPredictor(torch.nn.Module):
    r"""Graph auto-encoder link predictor (the ``cn0`` ablation of Wang et al., ICLR 2024).

    With ``mode='mlp'`` (spec §2.4):

    .. math::
        e_{ij} = \mathrm{IJMLP}(h_i \odot h_j), \qquad
        \mathrm{logit}_{ij} = \mathrm{LIN}(e_{ij}),

    where IJMLP is Lin > [LN] > Dropout > ReLU [> Lin unless ``tailact``] and LIN is
    Lin > [LN] > Dropout > ReLU [> the same again if ``twolayerlin``] > Lin(hidden, 1).
    The defaults ``tailact=False, twolayerlin=False`` are what the reference runs use for
    GAE whatever the command line says (quirk Q2a). With ``mode='dot'`` there are no
    parameters: :math:`e_{ij} = h_i \odot h_j` and :math:`\mathrm{logit}_{ij} = \sum_d e_{ij,d}`,
    the inner product :math:`h_i^\top h_j`.

    ``adj`` is accepted for the common predictor interface, in any form
    :func:`~graphpair.ops.as_csr` takes (or ``None``), and ignored: it is not converted.

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile the predictor (the
    checks run in Python, its sub-layers take keyword-only options). ``torch.compile`` runs it
    as one graph, ``fullgraph=True`` (``docs/reliability.md``).

    Args:
        in_channels: Size ``D`` of the node embeddings.
        hidden_channels: Width of the MLPs (``mode='mlp'``; ignored for ``'dot'``).
        mode: ``'mlp'`` (default) or ``'dot'``.
        dropout: Dropout rate inside the MLPs (``predp``).
        ln: LayerNorm inside the MLPs (``--lnnn``).
        tailact: IJMLP ends with its ReLU instead of a final Linear.
        twolayerlin: Two hidden layers in the output head.

    Shapes:
        - h: ``[N, D]``; pairs: ``[2, P]``
        - output: logits ``[P]``; :meth:`pair_embedding`: ``[P, hidden_channels]``
          (``[P, D]`` for ``'dot'``)

    Example:
        >>> predictor = GAEPredictor(16, 32)
        >>> predictor(torch.randn(5, 16), None, torch.tensor([[0, 1], [2, 3]])).shape
        torch.Size([2])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        *,
        mode: str = "mlp",
        dropout: float = 0.0,
        ln: bool = False,
        tailact: bool = False,
        twolayerlin: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.hidden_channels = check_int("hidden_channels", hidden_channels, minimum=1)
        self.mode = check_choice("mode", mode, _MODES)
        self.dropout = check_probability("dropout", dropout)
        self.ln = bool(ln)
        self.tailact = bool(tailact)
        self.twolayerlin = bool(twolayerlin)
        self.ij_mlp: Stack | None = None
        self.head: Stack | None = None
        if self.mode == "mlp":
            self.ij_mlp = Stack(
                in_channels,
                ij_steps(hidden_channels, tailact=self.tailact),
                dropout=self.dropout,
                ln=self.ln,
            )
            self.head = Stack(
                hidden_channels,
                head_steps(hidden_channels, 1, twolayerlin=self.twolayerlin),
                dropout=self.dropout,
                ln=self.ln,
            )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        if self.ij_mlp is not None and self.head is not None:
            self.ij_mlp.reset_parameters()
            self.head.reset_parameters()

    def pair_embedding(self, h: Tensor, adj: CSR | Tensor | Any, pairs: Tensor) -> Tensor:
        """The pair representation fed to the output head ``[P, D']``."""
        check_adjacency_type(adj)
        pairs = check_link_inputs(h, adj if isinstance(adj, CSR) else None, pairs)
        product = endpoint_product(h, pairs)  # [P, D]
        if self.ij_mlp is None:
            return product
        return self.ij_mlp(product, dropout_active=self.training)

    def forward(self, h: Tensor, adj: CSR | Tensor | Any, pairs: Tensor) -> Tensor:
        """Logits of the pairs ``[P]``."""
        embedding = self.pair_embedding(h, adj, pairs)
        if self.head is None:
            return embedding.sum(dim=-1)
        return self.head(embedding, dropout_active=self.training).view(-1)

    def __repr__(self) -> str:
        if self.mode == "dot":
            return f"{self.__class__.__name__}({self.in_channels}, mode='dot')"
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
            f"mode='mlp', dropout={self.dropout}, ln={self.ln}, tailact={self.tailact}, "
            f"twolayerlin={self.twolayerlin})"
        )
