from __future__ import annotations

import torch

from graphpair.nn import GAEPredictor, GRITLinkEncoder, GRITPairPredictor, LinkModel, MPNNEncoder
from graphpair.ops import CSR

EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 0, 2], [1, 0, 2, 1, 3, 2, 4, 3, 2, 0]])


def test_link_model_scores_with_one_encoder_pass() -> None:
    torch.manual_seed(0)
    adj = CSR.from_edge_index(EDGE_INDEX, num_nodes=5)
    encoder, predictor = MPNNEncoder(3, 8, conv="gcn"), GAEPredictor(8, 8)
    model = LinkModel(encoder, predictor).eval()
    x = torch.randn(5, 3)
    pos, neg = torch.tensor([[0, 1], [2, 3]]), torch.tensor([[0, 4], [4, 1]])
    pos_scores, neg_scores = model(x, adj, pos, neg)
    h = encoder(x, adj)
    torch.testing.assert_close(pos_scores, predictor(h, adj, pos))
    torch.testing.assert_close(neg_scores, predictor(h, adj, neg))
    h2, state = model.encode(x, adj)
    assert state is adj
    torch.testing.assert_close(model.score(h2, state, pos), pos_scores)
    assert repr(model).startswith("LinkModel(encoder=MPNNEncoder")


def test_an_encoder_with_state_hands_it_to_the_predictor() -> None:
    torch.manual_seed(0)
    adj = CSR.from_edge_index(EDGE_INDEX, num_nodes=5)
    encoder = GRITLinkEncoder(None, 8, num_layers=1, heads=2, walk_length=3, num_embeddings=5)
    model = LinkModel(encoder, GRITPairPredictor(8, 8)).eval()
    h, state = model.encode(None, adj)
    assert state is not adj
    assert model.score(h, state, torch.tensor([[0], [2]])).shape == (1,)
    before = [p.detach().clone() for p in model.parameters()]
    model.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
