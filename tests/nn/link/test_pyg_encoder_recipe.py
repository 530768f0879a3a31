"""Target link removal with a user's own PyG encoder (docs/link.md, "Your own PyG encoder").

The page's code block runs as written; one training step of that recipe (PyG ``GCNConv``
encoder on ``adj.to_edge_index()`` inside ``adj.masked(pos)``, graphpair's NCN predictor on the
masked CSR) equals the same step on a graph rebuilt without the batch's links by a plain loop
(the naive oracle): loss, every gradient and the weights after the optimizer step.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GCNConv

from graphpair.nn import NCNCPredictor, NCNPredictor
from graphpair.ops import CSR, as_csr

PAGE = Path(__file__).resolve().parents[3] / "docs" / "link.md"
SECTION = "## Your own PyG encoder with graphpair's predictors"


def recipe_block() -> str:
    text = PAGE.read_text(encoding="utf-8").split(SECTION, 1)[1]
    match = re.search(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert match is not None, "the recipe section has no python block"
    return match.group(1)


def test_the_documented_recipe_runs_and_restores_the_graph() -> None:
    out = io.StringIO()
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with contextlib.redirect_stdout(out):
        exec(compile(recipe_block(), "docs/link.md#recipe", "exec"), namespace)
    assert out.getvalue().splitlines() == ["0"]
    adj = namespace["adj"]
    assert isinstance(adj, CSR)
    assert adj.num_masked == 0


class Encoder(torch.nn.Module):
    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = GCNConv(in_channels, hidden), GCNConv(hidden, hidden)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        out: Tensor = self.conv2(self.conv1(x, edge_index).relu(), edge_index)
        return out


def graph_without(edges: list[tuple[int, int]], targets: Tensor) -> Tensor:
    """The naive oracle: both directions of every edge not among ``targets`` (either
    direction), deduplicated and sorted, built with Python sets."""
    removed = {(u, v) for u, v in targets.t().tolist()} | {(v, u) for u, v in targets.t().tolist()}
    kept = sorted({(u, v) for a, b in edges for u, v in ((a, b), (b, a)) if u != v} - removed)
    return torch.tensor(kept, dtype=torch.long).t().reshape(2, -1)


def step(
    encoder: torch.nn.Module,
    predictor: torch.nn.Module,
    x: Tensor,
    message_graph: Tensor,
    adj: object,
    pos: Tensor,
    neg: Tensor,
) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    params = [*encoder.parameters(), *predictor.parameters()]
    optimizer = torch.optim.Adam(params, lr=0.01)
    h = encoder(x, message_graph)
    loss = F.softplus(-predictor(h, adj, pos)).mean() + F.softplus(predictor(h, adj, neg)).mean()
    optimizer.zero_grad()
    loss.backward()
    grads = [p.grad.clone() for p in params]  # type: ignore[union-attr]
    optimizer.step()
    return loss.detach(), grads, [p.detach().clone() for p in params]


@pytest.mark.parametrize("predictor_class", [NCNPredictor, NCNCPredictor])
@pytest.mark.parametrize("seed", range(3))
def test_one_step_equals_the_graph_rebuilt_without_the_targets(
    predictor_class: type, seed: int
) -> None:
    gen = torch.Generator().manual_seed(seed)
    num_nodes = 14
    edge_index = torch.randint(0, num_nodes, (2, 40), generator=gen)
    edges = [(u, v) for u, v in edge_index.t().tolist() if u != v]
    pos = torch.tensor(edges[:6]).t()  # the batch: training links of the graph
    neg = torch.randint(0, num_nodes, (2, 6), generator=gen)
    x = torch.randn(num_nodes, 5, generator=gen, dtype=torch.float64)
    torch.manual_seed(seed)
    encoder = Encoder(5, 8).double()
    predictor = predictor_class(8, 8).double()
    initial = (copy.deepcopy(encoder), copy.deepcopy(predictor))

    adj = as_csr(edge_index, num_nodes)  # the recipe
    with adj.masked(pos):
        masked_graph = adj.to_edge_index()
        loss, grads, weights = step(encoder, predictor, x, masked_graph, adj, pos, neg)
    assert adj.num_masked == 0

    rebuilt = graph_without(edges, pos)  # the oracle: no mask, a new graph
    assert torch.equal(masked_graph, rebuilt)
    oracle_adj = CSR.from_edge_index(rebuilt, num_nodes)
    fresh = [copy.deepcopy(m) for m in initial]
    expected = step(fresh[0], fresh[1], x, rebuilt, oracle_adj, pos, neg)
    torch.testing.assert_close(loss, expected[0])
    for got, want in zip(grads, expected[1], strict=True):
        torch.testing.assert_close(got, want)
    for got, want in zip(weights, expected[2], strict=True):
        torch.testing.assert_close(got, want)
    # Without the removal the step differs: the check above can fail.
    fresh = [copy.deepcopy(m) for m in initial]
    leaky = step(fresh[0], fresh[1], x, adj.to_edge_index(), adj, pos, neg)
    assert not torch.allclose(leaky[0], expected[0])
