from __future__ import annotations

import pytest
import torch

from graphpair.nn import MLPReadout


@pytest.mark.parametrize("pooling", ["sum", "mean", "max", None])
def test_readout_pools_then_applies_the_halving_head(pooling: str | None) -> None:
    torch.manual_seed(0)
    readout = MLPReadout(8, 3, pooling=pooling, head_layers=2, act="relu").double()
    h = torch.randn(5, 8, dtype=torch.float64)
    batch = torch.tensor([0, 0, 1, 1, 1])
    if pooling is None:
        pooled = h
    else:
        rows = [h[batch == g] for g in range(2)]
        reduce = {"sum": lambda r: r.sum(0), "mean": lambda r: r.mean(0)}.get(
            pooling, lambda r: r.max(0).values
        )
        pooled = torch.stack([reduce(r) for r in rows])
    first, second, last = (m for m in readout.head if isinstance(m, torch.nn.Linear))
    assert (first.out_features, second.out_features) == (4, 2)
    expected = last(torch.relu(second(torch.relu(first(pooled)))))
    torch.testing.assert_close(readout(h, batch, num_graphs=2), expected)


def test_repr_reset_and_bad_arguments() -> None:
    readout = MLPReadout(8, 1, pooling="mean", head_layers=0, head_bias=False)
    assert readout.head[0].bias is None
    assert repr(readout) == (
        "MLPReadout(8, 1, pooling='mean', head_layers=0, head_bias=False, act='relu')"
    )
    before = readout.head[0].weight.detach().clone()
    readout.reset_parameters()
    assert not torch.equal(before, readout.head[0].weight)
    with pytest.raises(ValueError, match="pooling must be one of"):
        MLPReadout(8, 1, pooling="attention", head_layers=1)
