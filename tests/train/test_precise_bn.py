from __future__ import annotations

import torch
from torch_geometric.data import Batch, Data

from graphpair.train import precise_batch_norm


class _Net(torch.nn.Module):
    """Linear -> BatchNorm -> dropout -> BatchNorm: two layers whose statistics depend on the
    weights before them."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(3, 4)
        self.first = torch.nn.BatchNorm1d(4)
        self.drop = torch.nn.Dropout(0.5)
        self.second = torch.nn.BatchNorm1d(4)

    def forward(self, batch: Data) -> torch.Tensor:
        out: torch.Tensor = self.second(self.drop(self.first(self.lin(batch.x))))
        return out


def _batches() -> list[Batch]:
    gen = torch.Generator().manual_seed(0)
    sizes = (5, 3, 7)
    return [Batch.from_data_list([Data(x=torch.randn(n, 3, generator=gen))]) for n in sizes]


def test_statistics_are_the_average_of_the_batch_statistics() -> None:
    torch.manual_seed(0)
    net = _Net()
    batches = _batches()
    # Oracle: per batch, the first norm's input statistics; the second norm sees the first
    # norm's output in training mode (batch statistics), dropout off.
    means, variances, seconds = [], [], []
    for batch in batches:
        z = net.lin(batch.x).detach()
        means.append(z.mean(0))
        variances.append(z.var(0, unbiased=True))
        normalised = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + net.first.eps)
        seconds.append(normalised * net.first.weight.detach() + net.first.bias.detach())
    assert precise_batch_norm(net, batches) == 2
    torch.testing.assert_close(net.first.running_mean, torch.stack(means).mean(0))
    torch.testing.assert_close(net.first.running_var, torch.stack(variances).mean(0))
    torch.testing.assert_close(
        net.second.running_mean, torch.stack([s.mean(0) for s in seconds]).mean(0)
    )
    assert not net.training
    assert net.first.momentum == 0.1
    assert net.second.momentum == 0.1


def test_no_random_draws_and_no_change_without_batchnorm() -> None:
    torch.manual_seed(0)
    net = _Net()
    state = torch.get_rng_state()
    precise_batch_norm(net, _batches())
    assert torch.equal(state, torch.get_rng_state())  # dropout stayed off
    plain = torch.nn.Linear(3, 1)
    assert precise_batch_norm(plain, []) == 0
