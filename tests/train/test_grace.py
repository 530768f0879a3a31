from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from graphpair.losses import grace
from graphpair.nn.encoders._grace import GRACEEncoder, drop_feature
from graphpair.train import ConfigError
from graphpair.train._grace import (
    GRACEConfig,
    grace_config,
    linear_probe,
    train_grace,
)


def _tiny(**changes: Any) -> GRACEConfig:
    values: dict[str, Any] = {"epochs": 3, "hidden_channels": 8, "proj_channels": 8}
    values.update(changes)
    return grace_config("default", **values)


def test_probe_equals_sklearn_logistic_regression() -> None:
    sklearn = pytest.importorskip("sklearn.linear_model")
    gen = torch.Generator().manual_seed(0)
    n, d, c = 300, 6, 3
    y = torch.randint(0, c, (n,), generator=gen)
    centres = torch.randn(c, d, generator=gen)
    z = centres[y] + 0.9 * torch.randn(n, d, generator=gen)
    train = torch.zeros(n, dtype=torch.bool)
    train[:150] = True
    valid = torch.zeros(n, dtype=torch.bool)
    valid[150:200] = True
    test = torch.zeros(n, dtype=torch.bool)
    test[200:] = True
    decay = 0.05
    _, ours = linear_probe(z, y, train, valid, test, weight_decays=(decay,))
    # sklearn's C is 1 / (n_train * lambda) for the mean cross-entropy + lambda / 2 |W|^2.
    x = torch.nn.functional.normalize(z.double(), dim=1).numpy()
    clf = sklearn.LogisticRegression(C=1 / (150 * decay), max_iter=5000, tol=1e-10)
    clf.fit(x[:150], y[:150].numpy())
    theirs = float(np.mean(clf.predict(x[200:]) == y[200:].numpy()))
    assert ours == pytest.approx(theirs, abs=1 / 100)  # at most one test row may differ


def test_probe_separates_separable_classes_and_checks_inputs() -> None:
    y = torch.arange(4).repeat(25)
    z = torch.nn.functional.one_hot(y, 4).double() + 0.01 * torch.randn(100, 4, dtype=torch.float64)
    mask = torch.arange(100) < 40
    valid, test = linear_probe(z, y, mask, ~mask, ~mask)
    assert valid == 1.0
    assert test == 1.0
    with pytest.raises(ValueError, match="train_mask"):
        linear_probe(z, y, torch.zeros(100, dtype=torch.bool), ~mask, ~mask)
    with pytest.raises(ValueError, match="y must have one label"):
        linear_probe(z, y[:5], mask, ~mask, ~mask)


def test_encoder_shapes_repr_and_reset() -> None:
    enc = GRACEEncoder(5, 4, 6, num_layers=3, activation="prelu")
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    z = enc(torch.randn(4, 5), edge_index)
    assert z.shape == (4, 4)
    assert enc.project(z).shape == (4, 4)
    assert [conv.out_channels for conv in enc.convs] == [8, 8, 4]
    assert "activation='prelu'" in repr(enc)
    before = [p.clone() for p in enc.parameters()]
    enc.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, enc.parameters(), strict=True))
    with pytest.raises(ValueError, match="activation"):
        GRACEEncoder(5, 4, 6, activation="tanh")


def test_drop_feature_masks_whole_columns() -> None:
    x = torch.ones(50, 1000)
    out = drop_feature(x, 0.3, generator=torch.Generator().manual_seed(0))
    columns = out[0] == 0
    assert torch.equal(out, x * (~columns).float())  # same columns for every node, no rescale
    assert abs(float(columns.float().mean()) - 0.3) < 0.06
    with pytest.raises(ValueError, match="p must be a probability"):
        drop_feature(x, 1.5)


def test_training_is_seeded_and_reduces_the_loss() -> None:
    first = train_grace(_tiny(epochs=8))
    second = train_grace(_tiny(epochs=8))
    assert first.test == second.test
    assert first.final_loss == second.final_loss
    assert 0.0 <= first.test[0] <= 1.0
    # The loss of the untrained model on the same views is higher than after training.
    untrained = train_grace(_tiny(epochs=1))
    assert first.final_loss[0] < untrained.final_loss[0]
    assert first.num_parameters > 0


def test_loss_is_the_grace_objective_of_the_two_projections() -> None:
    torch.manual_seed(0)
    enc = GRACEEncoder(3, 4, 4)
    x, edge_index = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    z1, z2 = enc.project(enc(x, edge_index)), enc.project(enc(x.flip(0), edge_index))
    value = grace(z1, z2, temperature=0.4)
    assert value.requires_grad
    assert torch.isfinite(value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"drop_edge_1": 1.0}, "drop_edge_1"),
        ({"temperature": 0}, "temperature"),
        ({"epochs": 0}, "epochs"),
        ({"activation": "gelu"}, "activation"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"dataset": "nope"}, "dataset"),
        ({"colour": 1}, "colour"),
    ],
)
def test_config_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        grace_config(**{"dataset": "cora", **changes})
    assert info.value.field == field


def test_shipped_citeseer_config_and_datasets_without_labels() -> None:
    assert grace_config("citeseer").temperature == 0.9
    assert grace_config("cora").temperature == 0.4
    with pytest.raises(ConfigError, match="node features and node labels"):
        train_grace(grace_config("karate", epochs=1))
