from __future__ import annotations

import torch

from graphpair.nn import MPNNEncoder, NodeClassifier

EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])


def test_logits_are_the_head_of_the_encoder() -> None:
    torch.manual_seed(0)
    encoder, head = MPNNEncoder(3, 8, conv="gcn"), torch.nn.Linear(8, 4)
    model = NodeClassifier(encoder, head).eval()
    x = torch.randn(4, 3)
    torch.testing.assert_close(model(x, EDGE_INDEX), head(encoder(x, EDGE_INDEX)))
    model(x, EDGE_INDEX).sum().backward()
    assert all(p.grad is not None for p in head.parameters())


def test_reset_and_the_sequential_layout_of_earlier_checkpoints() -> None:
    torch.manual_seed(0)
    model = NodeClassifier(MPNNEncoder(3, 8, conv="gcn"), torch.nn.Linear(8, 4))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    # The node runner's model was Sequential(encoder, head) until it became NodeClassifier.
    legacy = {
        k: v.clone() for k, v in torch.nn.Sequential(model.encoder, model.head).state_dict().items()
    }
    assert all(key[0] in "01" for key in legacy)
    model.reset_parameters()
    assert not torch.equal(model.head.weight, state["head.weight"])
    model.load_state_dict(legacy)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
