from __future__ import annotations

import pytest
import torch

from graphpair.nn import FeatureEncoder


def test_feature_encoder_sums_one_embedding_per_column() -> None:
    torch.manual_seed(0)
    encoder = FeatureEncoder(4, vocab=(3, 5), in_channels=0)
    x = torch.tensor([[0, 4], [2, 1]])
    expected = encoder.tables[0].weight[x[:, 0]] + encoder.tables[1].weight[x[:, 1]]
    assert torch.equal(encoder(x, 2), expected)
    constant = FeatureEncoder(4, vocab=None, in_channels=0)
    out = constant(None, 3)
    assert out.shape == (3, 4)
    assert torch.equal(out[0], out[2])
    linear = FeatureEncoder(4, vocab=None, in_channels=2)
    value = torch.randn(3, 2)
    torch.testing.assert_close(linear(value, 3), value @ linear.lin.weight.t() + linear.lin.bias)
    assert repr(encoder) == "FeatureEncoder(4, vocab=(3, 5), in_channels=0)"


def test_reset_parameters_redraws_and_missing_values_are_named() -> None:
    encoder = FeatureEncoder(4, vocab=(3,), in_channels=0)
    before = encoder.tables[0].weight.detach().clone()
    encoder.reset_parameters()
    encoder.reset_parameters()
    assert not torch.equal(before, encoder.tables[0].weight)
    with pytest.raises(ValueError, match="value is None"):
        encoder(None, 2)
    with pytest.raises(ValueError, match="out_channels must be >= 1"):
        FeatureEncoder(0, vocab=None, in_channels=0)
