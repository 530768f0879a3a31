"""The GRIT attention layer: node and pair updates from the pair states (spec ``grit.md`` §2)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from graphpair._validation import (
    check_edge_index,
    check_int,
    check_tensor,
    compiling,
    describe,
)
from graphpair.nn._checks import check_probability
from graphpair.nn._dropout import dropout
from graphpair.nn.conv._grit_kernels import (
    EAGER,
    Kernels,
    detached,
    fused_kernels,
    signed_sqrt_grad,
)
from graphpair.ops import segment, softmax
from graphpair.ops._scatter import count_index
from graphpair.ops._segment import counts_to_ptr

__all__ = ["GRITConv", "PairLayout", "pair_layout", "signed_sqrt", "target_ptr"]


class _SignedSqrt(torch.autograd.Function):
    r""":math:`\operatorname{sign}(u)\sqrt{|u|}` with the relu form's gradient (0 at u = 0)."""

    @staticmethod
    def forward(ctx: Any, u: Tensor) -> Tensor:
        root = u.abs().sqrt_()
        out = torch.copysign(root, u)
        ctx.save_for_backward(root.mul_(2.0))  # d/du = 1 / (2 sqrt|u|) away from 0
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (root2,) = ctx.saved_tensors
        return signed_sqrt_grad(grad, root2)


def signed_sqrt(u: Tensor) -> Tensor:
    r"""The signed square root :math:`\rho(u) = \sqrt{\mathrm{relu}(u)} - \sqrt{\mathrm{relu}(-u)}`.

    Its gradient is :math:`1 / (2\sqrt{|u|})` away from 0 and exactly 0 at :math:`u = 0`, the
    value the relu form gets from relu's zero subgradient (``sign(u) * sqrt(|u|)`` written with
    autograd would give NaN there). One tensor is kept for the backward pass.

    Args:
        u: Input tensor.

    Shapes:
        - u: any shape; output: the same shape

    Example:
        >>> signed_sqrt(torch.tensor([-4.0, 0.0, 9.0]))
        tensor([-2.,  0.,  3.])
    """
    out: Tensor = _SignedSqrt.apply(u)  # type: ignore[no-untyped-call]
    return out


class PairLayout(NamedTuple):
    """Index structures of a pair set sorted by target, built once and shared by all layers
    (:func:`pair_layout`).

    Example:
        >>> layout = pair_layout(torch.tensor([[0, 2, 1, 0], [0, 0, 1, 2]]), num_nodes=3)
        >>> layout.ptr  # pairs 0-1 end at node 0, pair 2 at node 1, pair 3 at node 2
        tensor([0, 2, 3, 4])
        >>> layout.src_perm  # the pairs in order of their source
        tensor([0, 3, 2, 1])
    """

    src: Tensor
    """Source of every pair ``[S]``."""
    dst: Tensor
    """Target of every pair ``[S]`` (non-decreasing)."""
    ptr: Tensor
    """CSR pointer by target ``[N + 1]``."""
    src_perm: Tensor
    """The pairs in source order ``[S]`` (a stable sort of ``src``)."""
    src_ptr: Tensor
    """CSR pointer by source, over ``src_perm`` ``[N + 1]``."""
    dst_by_src: Tensor
    """``dst[src_perm]``: the targets in source order ``[S]``."""
    src_rank: Tensor
    """The inverse of ``src_perm``: the position of every pair in source order ``[S]``."""


def target_ptr(pair_index: Tensor, num_nodes: int) -> Tensor:
    """CSR pointer ``[N + 1]`` of pairs sorted by target (``pair_index[1]``).

    Raises:
        ValueError: the pairs are not sorted by target (not checked under ``torch.compile``,
            where reading the answer back would break the graph).
    """
    target = pair_index[1]
    if target.numel() > 1 and not compiling() and bool((target[1:] < target[:-1]).any()):
        raise ValueError(
            "pair_index must be sorted by target (pair_index[1]); AddRRWP writes it that way"
        )
    return counts_to_ptr(count_index(target, num_nodes))


def pair_layout(pair_index: Tensor, num_nodes: int) -> PairLayout:
    """The :class:`PairLayout` of pairs ``[2, S]`` sorted by target.

    One pass for the target pointer and one stable sort of the sources: the gradients that
    flow back to sources are then segment sums too (no atomics anywhere).

    Args:
        pair_index: Pairs ``[2, S]`` (row 0 the source, row 1 the target), sorted by target.
        num_nodes: ``N``.

    Shapes:
        - pair_index: ``[2, S]``
        - output: :class:`PairLayout` of ``[S]`` index tensors and two ``[N + 1]`` pointers

    Raises:
        ValueError: the pairs are not sorted by target.

    Example:
        >>> layout = pair_layout(torch.tensor([[0, 2, 1, 0], [0, 0, 1, 2]]), num_nodes=3)
        >>> layout.src_ptr, layout.dst_by_src
        (tensor([0, 2, 3, 4]), tensor([0, 2, 1, 0]))
    """
    pair_index = pair_index.long()
    ptr = target_ptr(pair_index, num_nodes)
    src = pair_index[0]
    src_perm = torch.argsort(src, stable=True)
    src_ptr = counts_to_ptr(count_index(src, num_nodes))
    dst = pair_index[1]
    src_rank = torch.empty_like(src_perm)
    src_rank[src_perm] = torch.arange(src_perm.numel(), device=src_perm.device)
    return PairLayout(src, dst, ptr, src_perm, src_ptr, dst[src_perm], src_rank)


class _AttentionOptions(NamedTuple):
    """Non-tensor arguments of :class:`_PairAttention`."""

    layout: PairLayout
    kernels: Kernels
    clamp: float | None
    attn_dropout: float
    training: bool
    edge_enhance: bool


class _PairAttention(torch.autograd.Function):
    """The pair side of one layer, from the node projections and the pair states to the
    per-target sums and ê, with a hand-written backward pass:

    ``W_E e`` (one GEMM; the bias is added inside the kernels) -> ê and the logits -> clamp ->
    softmax over each target's pairs -> attention dropout -> ``sum α ⊙ [V[src] | ê]`` per
    target. Keeps ``e``, ``W_E e`` and ê (four ``[S, D]``-sized tensors, ``e`` being the
    layer's input) plus ``[S, H]`` attention tensors; every reduction over pairs is a segment
    sum over targets or, for the gradients of gathered source rows, over sources."""

    @staticmethod
    def forward(
        ctx: Any,
        key: Tensor,
        query: Tensor,
        value: Tensor,
        pair_attr: Tensor,
        weight: Tensor,
        bias: Tensor,
        att: Tensor,
        options: _AttentionOptions,
    ) -> tuple[Tensor, Tensor]:
        layout, kernels = options.layout, options.kernels
        ctx.set_materialize_grads(False)
        edge = pair_attr.detach() @ weight.detach().t()  # [S, 2D]
        pair, logits = kernels.score_forward(
            *detached(key, query), edge, *detached(bias, att), layout.src, layout.dst
        )
        inside = None
        if options.clamp is not None:
            inside = (logits >= -options.clamp) & (logits <= options.clamp)
            logits = logits.clamp(-options.clamp, options.clamp)
        alpha = softmax(logits, ptr=layout.ptr)  # [S, H]
        keep = None
        if options.training and options.attn_dropout > 0:
            # 0 or 1 / (1 - p) per entry, the same draws dropout(alpha) would make.
            keep = dropout(torch.ones_like(alpha), options.attn_dropout)
        used = alpha if keep is None else alpha * keep
        message = kernels.message_forward(
            used, value.detach(), pair if options.edge_enhance else None, layout.src
        )
        sums = segment(message, layout.ptr)  # [N, 2D] (or [N, D])
        ctx.save_for_backward(key, query, value, pair_attr, weight, bias, att, edge, pair, alpha)
        ctx.keep, ctx.inside, ctx.options = keep, inside, options
        return sums, pair

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, grad_sums: Tensor | None, grad_pair: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        key, query, value, pair_attr, weight, bias, att, edge, pair, alpha = ctx.saved_tensors
        options: _AttentionOptions = ctx.options
        layout, kernels = options.layout, options.kernels
        keep: Tensor | None = ctx.keep
        inside: Tensor | None = ctx.inside
        key, query, value, pair_attr, weight, bias, att, pair = detached(
            key, query, value, pair_attr, weight, bias, att, pair
        )
        grad_value = grad_message = None
        grad_alpha = torch.zeros_like(alpha)
        if grad_sums is not None:
            used = alpha if keep is None else alpha * keep
            grad_used, by_source, grad_message = kernels.message_backward(
                grad_sums.contiguous(),
                used,
                value,
                pair if options.edge_enhance else None,
                layout.src,
                layout.dst,
                layout.src_perm,
                layout.dst_by_src,
            )
            grad_value = segment(by_source, layout.src_ptr)
            grad_alpha = grad_used if keep is None else grad_used * keep
        # Softmax over each target's pairs: dz = α (dα - sum_target α dα).
        weighted = segment(alpha * grad_alpha, layout.ptr)  # [N, H]
        grad_logits = alpha * (grad_alpha - weighted.index_select(0, layout.dst))
        if inside is not None:
            grad_logits = grad_logits.masked_fill_(~inside, 0.0)
        grad_edge, grad_score, by_source = kernels.score_backward(
            grad_pair,
            grad_message,
            grad_logits,
            key,
            query,
            edge,
            bias,
            att,
            pair,
            layout.src,
            layout.dst,
            layout.src_rank,
        )
        grad_query = segment(grad_score, layout.ptr)
        grad_key = segment(by_source, layout.src_ptr)
        # a_h: the diagonal blocks of one [H, S] x [S, D] product.
        heads, head_channels = att.shape
        blocks = (grad_logits.t() @ pair).view(heads, heads, head_channels)
        grad_att = blocks.diagonal(dim1=0, dim2=1).t()
        grad_bias = grad_edge.sum(0)
        grad_weight = grad_edge.t() @ pair_attr
        grad_pair_attr = grad_edge @ weight if ctx.needs_input_grad[3] else None
        return (
            grad_key,
            grad_query,
            grad_value,
            grad_pair_attr,
            grad_weight,
            grad_bias,
            grad_att,
            None,
        )


class GRITConv(torch.nn.Module):
    r"""GRIT's attention layer with pair updates (Ma et al., ICML 2023, "Graph Inductive Biases
    in Transformers without Message Passing"; spec ``grit.md`` §2).

    For every pair :math:`p = (s, t)` (source ``pair_index[0]``, target ``pair_index[1]``) and
    head :math:`h`, with :math:`[E_w \,|\, E_b] = W_E e_p + b_E` and
    :math:`\rho(z) = \sqrt{\mathrm{relu}(z)} - \sqrt{\mathrm{relu}(-z)}`:

    .. math::
        \hat e_p &= \mathrm{ReLU}\big(\rho\big((W_K x_s + W_Q x_t + b_Q) \odot E_w\big)
            + E_b\big) \\
        \alpha_{p,h} &= \operatorname{softmax}_{q:\, t(q) = t(p)}
            \big(\operatorname{clamp}(\langle \hat e_{p,h}, a_h \rangle, -c, c)\big) \\
        m_t &= \Big\Vert_h \Big(\sum_{p:\, t(p)=t} \alpha_{p,h} W_V x_{s(p),h}
            + W_{Ev,h}^{\top} \sum_{p:\, t(p)=t} \alpha_{p,h} \hat e_{p,h}\Big) \\
        x'_t &= O_h\big((\theta_1 + \theta_2 \log(1 + \deg_t)) \odot
            \mathrm{dropout}(m_t)\big), \qquad
        e'_p = O_e\big(\mathrm{dropout}(\hat e_p)\big)

    Query and key are *added* (not multiplied), there is no :math:`1/\sqrt{d}` scaling, the
    softmax groups the pairs sharing a target, attention dropout acts on :math:`\alpha` before
    both sums, and the degree :math:`\deg_t` is the original graph's (``log_deg`` from
    :class:`~graphpair.transforms.AddRRWP`), not the number of pairs. Residuals, norms and the
    node FFN belong to the block (:class:`~graphpair.nn.models.GRITBlock`).

    **Layout and cost.** The pairs should be sorted by target (``AddRRWP`` writes them so):
    the softmax and both sums are then segment reductions over a CSR pointer (no atomics,
    deterministic), and so are the gradients flowing back to gathered source rows (one stable
    sort of the sources per :func:`pair_layout`, shared by all layers). Unsorted pairs are
    sorted here and the pair output returned in the input order, at the cost of a sort per
    call. The pair side (from :math:`W_E e` to the two per-target sums, softmax, clamp and
    attention dropout included) is one autograd function with a hand-written backward pass that
    keeps :math:`e`, :math:`W_E e` and :math:`\hat e` and recomputes the rest;
    :math:`W_{Ev}` is applied after the sum, at node level (linearity). First-order gradients
    only. With ``fused=True`` its element-wise kernels (the same code) are compiled by
    :func:`torch.compile` into fused loops: about twice as fast per training step, at the price
    of a one-time compilation (10-70 s on a 2-core CPU; needs a C++ compiler, or Triton on
    CUDA).

    **No pair update.** With ``update_pairs=False`` (a last layer whose pairs nobody reads)
    the map :math:`O_e` does not exist and the second output is ``pair_attr`` itself,
    unchanged; :math:`\hat e` is still computed, as the attention needs it.

    Parameters and init follow the reference: :math:`W_Q, W_K, W_V, W_E` Xavier-normal weights,
    biases only on :math:`Q` and :math:`E` (PyTorch default init), :math:`a`, :math:`W_{Ev}`,
    :math:`\theta` normal with the standard deviation Xavier-normal gives the reference's
    ``[D_h, H, 1]``, ``[D_h, H, D_h]`` and ``[1, D, 2]`` tensors, :math:`O_h, O_e` PyTorch
    defaults. :math:`W_E`'s output is laid out ``[E_w (all heads) | E_b (all heads)]``; the
    reference interleaves them per head (a row permutation of :math:`W_E` maps one to the
    other). :math:`W_{Ev,h}` multiplies from the right: ``out[c] = sum_d agg[d] W[h, d, c]``.

    **TorchScript.** Not scriptable: ``torch.jit.script`` cannot compile it (keyword-only
    options, an autograd Function, Python-level checks); ``torch.compile`` runs it
    (``docs/reliability.md``).

    Args:
        channels: Width ``D`` of the node and pair states.
        heads: Number of heads ``H`` (must divide ``D``).
        dropout: Dropout on the node output (before the degree scaler) and on :math:`\hat e`
            (before :math:`O_e`).
        attn_dropout: Dropout on the attention weights.
        clamp: :math:`c`, the logits' clamp (``None``: no clamp).
        deg_scaler: Use the degree scaler (needs ``log_deg``).
        edge_enhance: Add the :math:`W_{Ev}` term.
        update_pairs: Compute the pair output :math:`e'` (see above).
        fused: Run the pair kernels compiled by :func:`torch.compile` (see above).

    Shapes:
        - x: ``[N, D]``; pair_index: ``[2, S]``; pair_attr: ``[S, D]``; log_deg: ``[N]``
        - output: ``(x' [N, D], e' [S, D])``

    Example:
        >>> conv = GRITConv(16, heads=4)
        >>> pair_index = torch.tensor([[0, 1, 0, 1], [0, 0, 1, 1]])
        >>> x, e = conv(torch.randn(2, 16), pair_index, torch.randn(4, 16),
        ...             log_deg=torch.log1p(torch.ones(2)))
        >>> x.shape, e.shape
        (torch.Size([2, 16]), torch.Size([4, 16]))
    """

    def __init__(
        self,
        channels: int,
        *,
        heads: int = 8,
        dropout: float = 0.0,
        attn_dropout: float = 0.0,
        clamp: float | None = 5.0,
        deg_scaler: bool = True,
        edge_enhance: bool = True,
        update_pairs: bool = True,
        fused: bool = False,
    ) -> None:
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.heads = check_int("heads", heads, minimum=1)
        if channels % heads:
            raise ValueError(f"heads must divide channels={channels}; got heads={heads}")
        self.head_channels = channels // heads
        self.dropout = check_probability("dropout", dropout)
        self.attn_dropout = check_probability("attn_dropout", attn_dropout)
        if clamp is not None:
            if isinstance(clamp, bool) or not isinstance(clamp, (int, float)) or clamp <= 0:
                raise ValueError(f"clamp must be a positive number or None; got {describe(clamp)}")
            clamp = float(clamp)
        self.clamp = clamp
        self.deg_scaler = bool(deg_scaler)
        self.edge_enhance = bool(edge_enhance)
        self.update_pairs = bool(update_pairs)
        self.fused = bool(fused)

        d, h, dh = channels, heads, self.head_channels
        self.lin_query = torch.nn.Linear(d, d, bias=True)
        self.lin_key = torch.nn.Linear(d, d, bias=False)
        self.lin_value = torch.nn.Linear(d, d, bias=False)
        self.lin_edge = torch.nn.Linear(d, 2 * d, bias=True)
        self.att = torch.nn.Parameter(torch.empty(h, dh))
        self.edge_value = torch.nn.Parameter(torch.empty(h, dh, dh)) if self.edge_enhance else None
        self.deg_coef = torch.nn.Parameter(torch.empty(2, d)) if self.deg_scaler else None
        self.lin_out = torch.nn.Linear(d, d)
        self.lin_pair_out = torch.nn.Linear(d, d) if self.update_pairs else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every parameter as the reference does (see the class docstring)."""
        for lin in (self.lin_query, self.lin_key, self.lin_value, self.lin_edge):
            lin.reset_parameters()
            torch.nn.init.xavier_normal_(lin.weight)
        h, dh = self.heads, self.head_channels
        # Xavier-normal std of the reference's shapes: fan_in = size(1) * prod(size[2:]),
        # fan_out = size(0) * prod(size[2:]).
        with torch.no_grad():
            self.att.normal_(0.0, math.sqrt(2.0 / (h + dh)))  # [D_h, H, 1]
            if self.edge_value is not None:
                self.edge_value.normal_(0.0, math.sqrt(2.0 / (h * dh + dh * dh)))  # [D_h, H, D_h]
            if self.deg_coef is not None:
                self.deg_coef.normal_(0.0, math.sqrt(2.0 / (2 * self.channels + 2)))  # [1, D, 2]
        self.lin_out.reset_parameters()
        if self.lin_pair_out is not None:
            self.lin_pair_out.reset_parameters()

    # ------------------------------------------------------------------ checks

    def _check(
        self, x: Tensor, pair_index: Tensor, pair_attr: Tensor, log_deg: Tensor | None
    ) -> Tensor:
        for name, value in (("x", x), ("pair_attr", pair_attr)):
            check_tensor(name, value, dim=2, floating=True)
            if value.size(1) != self.channels:
                raise ValueError(
                    f"{name} has {value.size(1)} columns but the layer has channels={self.channels}"
                )
        pair_index = check_edge_index("pair_index", pair_index, num_nodes=x.size(0)).long()
        if pair_index.size(1) != pair_attr.size(0):
            raise ValueError(
                f"pair_attr must have one row per pair ({pair_index.size(1)}); "
                f"got {pair_attr.size(0)}"
            )
        if self.deg_scaler:
            if log_deg is None:
                raise ValueError(
                    "the degree scaler needs log_deg = log(1 + out-degree) of the original graph "
                    "(AddRRWP writes it); pass it or build the layer with deg_scaler=False"
                )
            check_tensor("log_deg", log_deg, dim=1, floating=True)
            if log_deg.numel() != x.size(0):
                raise ValueError(
                    f"log_deg must have one entry per node ({x.size(0)}); got {log_deg.numel()}"
                )
        return pair_index

    # ------------------------------------------------------------------ forward

    def forward(
        self,
        x: Tensor,
        pair_index: Tensor,
        pair_attr: Tensor,
        *,
        log_deg: Tensor | None = None,
        layout: PairLayout | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Updated node and pair states ``(x' [N, D], e' [S, D])``.

        Args:
            x: Node states ``[N, D]``.
            pair_index: Pairs ``[2, S]`` (source, target), preferably sorted by target.
            pair_attr: Pair states ``[S, D]``.
            log_deg: :math:`\\log(1 + \\deg)` of the original graph ``[N]`` (degree scaler).
            layout: :func:`pair_layout` of ``pair_index`` (sorted by target), to share it
                between layers; built here when ``None``.
        """
        pair_index = self._check(x, pair_index, pair_attr, log_deg)
        num_nodes = x.size(0)
        if layout is not None:
            if not isinstance(layout, PairLayout):
                raise TypeError(f"layout must be a PairLayout; got {describe(layout)}")
            if layout.ptr.numel() != num_nodes + 1 or layout.src.numel() != pair_index.size(1):
                raise ValueError(
                    f"layout describes {layout.ptr.numel() - 1} nodes and {layout.src.numel()} "
                    f"pairs; x and pair_index have {num_nodes} and {pair_index.size(1)}"
                )
            return self._attend(x, pair_attr, log_deg, layout)
        target = pair_index[1]
        # Under torch.compile the pairs are always sorted (a stable sort of sorted pairs is the
        # identity), which keeps the graph free of a data-dependent branch.
        if target.numel() <= 1 or (not compiling() and not bool((target[1:] < target[:-1]).any())):
            return self._attend(x, pair_attr, log_deg, pair_layout(pair_index, num_nodes))
        order = torch.argsort(target, stable=True)
        sorted_layout = pair_layout(pair_index[:, order], num_nodes)
        out, pair_out = self._attend(x, pair_attr[order], log_deg, sorted_layout)
        if not self.update_pairs:
            return out, pair_attr
        restored = torch.empty_like(pair_out)
        restored[order] = pair_out
        return out, restored

    def _attend(
        self, x: Tensor, pair_attr: Tensor, log_deg: Tensor | None, layout: PairLayout
    ) -> tuple[Tensor, Tensor]:
        """The layer on pairs sorted by target (inputs checked)."""
        query = self.lin_query(x)  # [N, D]
        key = self.lin_key(x)  # [N, D]
        value = self.lin_value(x)  # [N, D]
        options = _AttentionOptions(
            layout,
            fused_kernels() if self.fused else EAGER,
            self.clamp,
            self.attn_dropout,
            self.training,
            self.edge_value is not None,
        )
        sums, pair_new = _PairAttention.apply(  # type: ignore[no-untyped-call]
            key,
            query,
            value,
            pair_attr,
            self.lin_edge.weight,
            self.lin_edge.bias,
            self.att,
            options,
        )  # [N, 2D] (or [N, D]) and ê [S, D]
        out = sums[:, : self.channels]
        if self.edge_value is not None:
            # W_Ev per head after the sum (linearity): one GEMM with the block-diagonal [D, D].
            agg_pair = sums[:, self.channels :]
            out = out + agg_pair @ torch.block_diag(*self.edge_value.unbind(0))  # type: ignore[no-untyped-call]
        out = dropout(out, self.dropout, training=self.training)
        if self.deg_coef is not None:
            assert log_deg is not None
            scale = self.deg_coef[0] + log_deg.to(out.dtype).unsqueeze(-1) * self.deg_coef[1]
            out = out * scale  # [N, D]
        out = self.lin_out(out)

        if self.lin_pair_out is None:
            return out, pair_attr
        pair_out = self.lin_pair_out(dropout(pair_new, self.dropout, training=self.training))
        return out, pair_out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.channels}, heads={self.heads}, "
            f"dropout={self.dropout}, attn_dropout={self.attn_dropout}, clamp={self.clamp}, "
            f"deg_scaler={self.deg_scaler}, edge_enhance={self.edge_enhance}, "
            f"update_pairs={self.update_pairs})"
        )
