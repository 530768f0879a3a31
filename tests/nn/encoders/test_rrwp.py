from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from graphpair.nn import RRWPNodeEncoder, RRWPPairEncoder
from graphpair.transforms import rrwp
from tests.graphs import random_edge_index


def reference_pairs(
    encoder: RRWPPairEncoder,
    pair_index: Tensor,
    pair_val: Tensor,
    edge_index: Tensor,
    edge_attr: Tensor,
) -> dict[tuple[int, int], Tensor]:
    """Spec §1.7 step by step: [edges + zero-feature self loops] and [W_rel * RRWP pairs]
    concatenated, coalesced by summation (a dict), then every pair of the given set present."""
    d = encoder.channels
    nodes = range(int(pair_index.max()) + 1)
    entries: list[tuple[tuple[int, int], Tensor]] = []
    entries += [((s, t), a) for (s, t), a in zip(edge_index.t().tolist(), edge_attr, strict=True)]
    entries += [((i, i), torch.zeros(d)) for i in nodes]
    projected = pair_val @ encoder.lin.weight.T
    entries += [(tuple(p), v) for p, v in zip(pair_index.t().tolist(), projected, strict=True)]
    table: dict[tuple[int, int], Tensor] = {}
    for key, value in entries:
        table[key] = table.get(key, torch.zeros(d)) + value
    return table


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_pair_encoder_matches_the_union_and_coalesce(full: bool, seed: int) -> None:
    n = 8
    edge_index = random_edge_index(n, 10, seed)  # duplicates and self loops included
    enc = rrwp(edge_index, 6, n, full_pairs=full)
    torch.manual_seed(seed)
    encoder = RRWPPairEncoder(6, 4)
    edge_attr = torch.randn(edge_index.size(1), 4)
    out = encoder(enc.pair_val, enc.pair_index, edge_index, edge_attr, n)
    table = reference_pairs(encoder, enc.pair_index, enc.pair_val, edge_index, edge_attr)
    assert set(table) == {tuple(p) for p in enc.pair_index.t().tolist()}
    for p, row in zip(enc.pair_index.t().tolist(), out, strict=True):
        torch.testing.assert_close(row, table[tuple(p)])


def test_pair_encoder_without_edges_is_the_linear_map() -> None:
    encoder = RRWPPairEncoder(3, 5)
    values = torch.rand(7, 3)
    torch.testing.assert_close(encoder(values), values @ encoder.lin.weight.T)
    assert encoder.lin.bias is None


def test_pair_encoder_rejects_an_edge_outside_the_pairs() -> None:
    encoder = RRWPPairEncoder(2, 3)
    pair_index = torch.tensor([[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="edge \\(source 0, target 1\\) of edge_index"):
        encoder(torch.rand(2, 2), pair_index, torch.tensor([[0], [1]]), torch.ones(1, 3), 2)
    with pytest.raises(ValueError, match="needs rrwp_index, edge_index and num_nodes"):
        encoder(torch.rand(2, 2), edge_attr=torch.ones(1, 3))
    with pytest.raises(ValueError, match="rrwp_val has 3 columns but walk_length=2"):
        encoder(torch.rand(2, 3))


def test_node_encoder() -> None:
    torch.manual_seed(0)
    encoder = RRWPNodeEncoder(4, 6)
    x, node = torch.randn(5, 6), torch.rand(5, 4)
    torch.testing.assert_close(encoder(x, node), x + node @ encoder.lin.weight.T)
    bound = math.sqrt(6.0 / (4 + 6))  # Xavier-uniform
    assert encoder.lin.weight.abs().max() <= bound
    with pytest.raises(ValueError, match="rrwp must have 5 rows"):
        encoder(x, node[:3])
    with pytest.raises(ValueError, match="x has 2 columns"):
        encoder(x[:, :2], node)


def test_bias_reset_and_repr() -> None:
    for cls in (RRWPNodeEncoder, RRWPPairEncoder):
        encoder = cls(3, 4, bias=True)
        assert encoder.lin.bias is not None
        with torch.no_grad():
            encoder.lin.bias.fill_(1.0)
        encoder.reset_parameters()
        encoder.reset_parameters()
        assert encoder.lin.bias.eq(0).all()
        assert repr(encoder) == f"{cls.__name__}(3, 4, bias=True)"
    params = sum(p.numel() for p in RRWPNodeEncoder(21, 64).parameters())
    assert params == 1_344  # W_abs of the ZINC model (spec §3.2)
