"""NCN-diff link predictor: NCN plus a branch over the one-sided neighbourhoods."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from graphpair.nn.link._common import Stack, cn_steps, link_inputs, pair_sum
from graphpair.nn.link._ncn import NCNPredictor
from graphpair.ops import CSR, neighbor_overlap

__all__ = ["NCNDiffPredictor"]


class NCNDiffPredictor(NCNPredictor):
    r"""NCN with a neighbour-difference branch ("NCN-diff", ``cn1res``; Wang et al., ICLR 2024).

    .. math::
        z^{cn}_{ij} = \sum_{k \in N(i) \cap N(j)} h'_k, \qquad
        z^{diff}_{ij} = \sum_{k \in N(i) \setminus N(j)} h'_k
                      + \sum_{k \in N(j) \setminus N(i)} h'_k \\
        \mathrm{logit}_{ij} = \mathrm{LIN}\big(\beta\,\mathrm{CNMLP}(z^{cn}_{ij})
            + \mathrm{RESMLP}(z^{diff}_{ij}) + \mathrm{IJMLP}(h_i \odot h_j)\big)

    RESMLP has the layout of CNMLP. All options are those of :class:`NCNPredictor` and are
    honoured (the reference's runs got LayerNorm iff ``preedp > 0``, ``tailact=True``, no edge
    dropout, no XLIN and a one-layer head through a positional-argument mismatch, quirk Q2b;
    pass those values to reproduce them).

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile the predictor (its
    adjacency is a Python object, the checks run in Python, the sub-layers take keyword-only
    options). ``torch.compile`` runs it, with graph breaks where the pair sets' sizes depend
    on the data (``docs/reliability.md``).

    Args:
        in_channels: Size ``D`` of the node embeddings ``h``.
        hidden_channels: Width of every MLP, RESMLP included.
        dropout: Dropout rate inside the MLPs (``predp``).
        edge_dropout: Rate of the predictor's edge dropout in training (``preedp``).
        ln: LayerNorm inside the MLPs (``--lnnn``).
        use_xlin: Add the residual XLIN to the embeddings summed over the neighbourhoods.
        tailact: The branch MLPs end with their ReLU instead of a final Linear.
        twolayerlin: Two hidden layers in the output head.
        beta: Initial value of the learnable weight :math:`\beta` of the CN branch.
        cn_method: Path of the neighbourhood op: ``'auto'``, ``'sparse'`` or ``'dense'``.

    Shapes:
        - h: ``[N, D]``; adj: :class:`~graphpair.ops.CSR` with ``N`` nodes, or any form
          :func:`~graphpair.ops.as_csr` takes (read as undirected); pairs: ``[2, P]``
        - output: logits ``[P]``; :meth:`pair_embedding`: ``[P, hidden_channels]``

    Example:
        >>> import torch
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 0, 1, 1], [2, 3, 2, 4]]))
        >>> predictor = NCNDiffPredictor(8, 16)
        >>> predictor(torch.randn(5, 8), adj, torch.tensor([[0], [1]])).shape
        torch.Size([1])
    """

    res_mlp: Stack

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        *,
        dropout: float = 0.0,
        edge_dropout: float = 0.0,
        ln: bool = False,
        use_xlin: bool = False,
        tailact: bool = False,
        twolayerlin: bool = False,
        beta: float = 1.0,
        cn_method: str = "auto",
    ) -> None:
        super().__init__(
            in_channels,
            hidden_channels,
            dropout=dropout,
            edge_dropout=edge_dropout,
            ln=ln,
            use_xlin=use_xlin,
            tailact=tailact,
            twolayerlin=twolayerlin,
            beta=beta,
            cn_method=cn_method,
        )
        self.res_mlp = Stack(
            in_channels,
            cn_steps(hidden_channels, tailact=self.tailact),
            dropout=self.dropout,
            ln=self.ln,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer and set :math:`\\beta` back to ``beta``."""
        super().reset_parameters()
        if "res_mlp" in self._modules:
            self.res_mlp.reset_parameters()

    def pair_embedding(self, h: Tensor, adj: CSR | Tensor | Any, pairs: Tensor) -> Tensor:
        """The pair representation fed to the output head LIN ``[P, hidden_channels]``."""
        csr, pairs = link_inputs(h, adj, pairs)
        active = self.training
        csr = self._adjacency(csr, active)
        hx = self._xlin(h, active)
        common, i_only, j_only = neighbor_overlap(csr, pairs, method=self.cn_method)
        num_pairs = pairs.size(1)
        z_cn = pair_sum(hx, common, num_pairs)  # [P, D]
        z_diff = pair_sum(hx, i_only, num_pairs) + pair_sum(hx, j_only, num_pairs)
        diff = self.res_mlp(z_diff, dropout_active=active)
        return self._combine(h, z_cn, pairs, active) + diff
