from __future__ import annotations

import pytest
import torch

from graphpair.nn._dropout import dropout


@pytest.mark.parametrize("p", [0.05, 0.3, 0.75])
def test_drop_rate_and_scale(p: float) -> None:
    torch.manual_seed(0)
    x = torch.ones(400_000)
    out = dropout(x, p)
    dropped = float((out == 0).double().mean())
    # 400k Bernoulli draws: the standard error is below 0.001.
    assert abs(dropped - p) < 0.005
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / (1 - p)))


def test_entries_are_independent_across_positions() -> None:
    # Each 64-bit word feeds four neighbouring entries: their keep decisions must not agree
    # more often than independent coins would.
    torch.manual_seed(1)
    keep = dropout(torch.ones(4 * 100_000), 0.5) != 0
    pairs = keep.view(-1, 4)
    agree = float((pairs[:, 0] == pairs[:, 1]).double().mean())
    assert abs(agree - 0.5) < 0.01


def test_gradient_is_the_mask_times_the_scale() -> None:
    torch.manual_seed(2)
    x = torch.randn(64, 8, dtype=torch.float64, requires_grad=True)
    out = dropout(x, 0.4)
    out.sum().backward()
    assert x.grad is not None
    expected = (out != 0).double() / 0.6
    assert torch.equal(x.grad, expected)


def test_identity_when_not_training_or_p_zero_and_seeded() -> None:
    x = torch.randn(5, 3)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    torch.manual_seed(3)
    first = dropout(x, 0.5)
    torch.manual_seed(3)
    assert torch.equal(first, dropout(x, 0.5))
    assert dropout(torch.ones(()), 0.5).shape == ()
    assert dropout(torch.ones(0, 4), 0.5).shape == (0, 4)


def test_rates_at_the_ends_of_the_16_bit_grid() -> None:
    x = torch.randn(10_000, dtype=torch.float64)
    # Above 1 - 2^-17 every entry is dropped (the comparison used before kept every entry,
    # scaled by 1 / (1 - p), because the threshold overflowed int16).
    assert torch.equal(dropout(x, 1 - 1e-6), torch.zeros_like(x))
    # Below 2^-17 every entry is kept and scaled.
    torch.testing.assert_close(dropout(x, 1e-6), x / (1 - 1e-6))
    # One step of the grid above each end still draws.
    torch.manual_seed(4)
    kept = float((dropout(torch.ones(400_000), 1 - 2**-16 * 3) != 0).double().mean())
    assert 0 < kept < 2e-4


def test_nan_stays_nan_where_dropped_as_in_torch() -> None:
    torch.manual_seed(5)
    out = dropout(torch.full((1000,), float("nan")), 0.5)
    assert bool(out.isnan().all())
