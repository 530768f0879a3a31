from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from graphpair.data import link_split, load_dataset, symmetrize
from graphpair.metrics import roc_auc
from graphpair.nn import GRIT, GRITLinkEncoder, GRITPairPredictor, GRITPairs, rrwp_pair_bound
from graphpair.ops import CSR
from graphpair.transforms import rrwp
from tests.graphs import graphs, random_edge_index
from tests.nn.conv.test_grit_conv import single_thread  # noqa: F401 - autouse fixture

# A 3-node state: pairs (source, target) sorted by target, rows 10 * (s + 1) + (t + 1).
INDEX = torch.tensor([[0, 1, 1, 2, 0], [0, 0, 1, 1, 2]])
STATE = GRITPairs(
    INDEX, torch.tensor([[11.0], [21.0], [22.0], [32.0], [13.0]]).expand(5, 2).clone(), 3
)


def test_reads_the_states_of_both_orientations_and_the_absent_vector() -> None:
    predictor = GRITPairPredictor(2, 4, use_nodes=False)
    with torch.no_grad():
        predictor.missing.fill_(-1.0)
    pairs = torch.tensor([[0, 1, 2, 0], [1, 2, 0, 0]])
    got = torch.stack(
        [predictor._read(STATE, pairs)[:, 0], predictor._read(STATE, pairs.flip(0))[:, 0]]
    )
    # (0, 1), (1, 2) and (2, 0) are absent, their reverses present; (0, 0) present.
    assert got.tolist() == [[-1.0, -1.0, -1.0, 11.0], [21.0, 32.0, 13.0, 11.0]]


def test_symmetric_embedding_and_interface() -> None:
    torch.manual_seed(0)
    h = torch.randn(3, 2)
    predictor = GRITPairPredictor(2, 8).eval()
    pairs = torch.tensor([[0, 2], [1, 1]])
    logits = predictor(h, STATE, pairs)
    assert logits.shape == (2,)
    torch.testing.assert_close(predictor(h, STATE, pairs.flip(0)), logits)
    assert predictor.pair_embedding(h, STATE, pairs).shape == (2, 8)
    one_way = GRITPairPredictor(2, 8, symmetric=False).eval()
    one_way.load_state_dict(predictor.state_dict())
    assert not torch.allclose(one_way(h, STATE, pairs.flip(0)), one_way(h, STATE, pairs))


def test_missing_starts_at_the_encoded_zero_rrwp_and_reset_repr() -> None:
    predictor = GRITPairPredictor(2, 4)
    assert predictor.missing.eq(0).all()
    predictor.reset_parameters()
    predictor.reset_parameters()
    assert repr(predictor) == (
        "GRITPairPredictor(2, 4, dropout=0.0, ln=False, use_nodes=True, symmetric=True)"
    )


def test_errors_name_the_argument() -> None:
    predictor = GRITPairPredictor(2, 4)
    h = torch.randn(3, 2)
    with pytest.raises(TypeError, match="adj must be the GRITPairs"):
        predictor(h, None, INDEX)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="adj describes 3 nodes but h has 4 rows"):
        predictor(torch.randn(4, 2), STATE, INDEX)
    with pytest.raises(ValueError, match="in_channels=2"):
        predictor(torch.randn(3, 5), STATE, INDEX)
    with pytest.raises(ValueError, match="pairs entries must be < 3"):
        predictor(h, STATE, INDEX + 1)


class LinkModel(torch.nn.Module):
    """GRIT encoder and the pair head reading only the pair states (no node term), on the RRWP
    of a message graph. Every node has the same input, so all it knows is structure."""

    def __init__(self, walk_length: int) -> None:
        super().__init__()
        self.walk_length = walk_length
        self.encoder = GRIT(
            None,
            32,
            1,
            2,
            heads=4,
            walk_length=walk_length,
            num_embeddings=1,
            pool=None,
            pair_output=True,
        )
        self.predictor = GRITPairPredictor(32, 32, use_nodes=False)

    def forward(self, message_edges: Tensor, pairs: Tensor, num_nodes: int) -> Tensor:
        enc = rrwp(message_edges, self.walk_length, num_nodes)
        h, state = self.encoder.encode(
            torch.zeros(num_nodes, dtype=torch.long),
            message_edges,
            rrwp=enc.node,
            rrwp_index=enc.pair_index,
            rrwp_val=enc.pair_val,
            log_deg=enc.log_deg,
        )
        return self.predictor(h, state, pairs)  # type: ignore[no-any-return]


def test_trains_end_to_end_on_karate() -> None:
    # Target links are held out of the message graph each epoch (no target leakage): the
    # model must score them from the pair states of a graph that lacks them.
    data = load_dataset("karate").data
    split = link_split(data, seed=0)
    n = split.num_nodes
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = LinkModel(walk_length=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    train = split.train_pos
    for _ in range(60):
        model.train()
        order = torch.randperm(train.size(1), generator=gen)
        held = train[:, order[: train.size(1) // 4]]
        message = symmetrize(train[:, order[train.size(1) // 4 :]], n)
        negatives = torch.randint(0, n, (2, 2 * held.size(1)), generator=gen)
        logits = model(message, torch.cat([held, negatives], 1), n)
        labels = torch.cat([torch.ones(held.size(1)), torch.zeros(negatives.size(1))])
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) < 0.85 * sum(losses[:10])

    model.eval()
    with torch.no_grad():
        pos = torch.cat([split.valid_pos, split.test_pos], 1)
        neg = torch.cat([split.valid_neg, split.test_neg], 1)
        scores = model(symmetrize(train, n), torch.cat([pos, neg], 1), n)
    labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))])
    # Chance is 0.5; seeds 0-3 of this set-up gave 0.81-0.84.
    assert roc_auc(labels, scores) > 0.7


# ----------------------------------------------------------------- the link encoder


@settings(max_examples=60, deadline=None)
@given(graph=graphs(max_nodes=10, max_edges=25), walk_length=st.integers(1, 4))
def test_pair_bound_is_an_upper_bound_and_exact_for_short_walks(
    graph: tuple[Tensor, int], walk_length: int
) -> None:
    edge_index, n = graph
    adj = CSR.from_edge_index(edge_index, n)
    exact = rrwp(adj.to_edge_index(), walk_length, n, full_pairs=False).pair_index.size(1)
    bound = rrwp_pair_bound(adj, walk_length)
    assert exact <= bound <= n * n
    if walk_length <= 2:  # identity, one step and the uncovered edges: counted exactly
        assert bound == exact


def test_pair_bound_leaves_masked_entries_out() -> None:
    adj = CSR.from_edge_index(symmetrize(torch.tensor([[0, 1, 2], [1, 2, 3]]), 4), 4)
    assert rrwp_pair_bound(adj, 2) == 4 + 6
    with adj.masked(torch.tensor([[1], [2]])) as graph:
        assert rrwp_pair_bound(graph, 2) == 4 + 4
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR, an edge_index"):
        rrwp_pair_bound(adj.to_edge_index().tolist(), 2)


def test_link_encoder_on_a_masked_csr_equals_the_graph_without_the_links() -> None:
    # Target link removal: masking a link must be exactly the same as a graph built without
    # it (walks, attended pairs, degrees), and differ from the graph that has it.
    torch.manual_seed(0)
    n = 9
    edge_index = symmetrize(random_edge_index(n, 14, seed=3, duplicates=0, self_loops=0), n)
    adj = CSR.from_edge_index(edge_index, n)
    rest = adj.to_edge_index()
    held = rest[:, rest[0] < rest[1]][:, :2]  # two undirected links, one direction given
    drop = torch.zeros(rest.size(1), dtype=torch.bool)
    for u, v in held.t().tolist():
        drop |= ((rest[0] == u) & (rest[1] == v)) | ((rest[0] == v) & (rest[1] == u))
    assert int(drop.sum()) == 4
    without = CSR.from_edge_index(rest[:, ~drop], n)
    encoder = GRITLinkEncoder(5, 8, 2, heads=2, walk_length=4).eval()
    x = torch.randn(n, 5)
    with adj.masked(held) as graph:
        h_masked, state_masked = encoder(x, graph)
    h_without, state_without = encoder(x, without)
    h_full, _ = encoder(x, adj)
    torch.testing.assert_close(h_masked, h_without)
    assert torch.equal(state_masked.pair_index, state_without.pair_index)
    torch.testing.assert_close(state_masked.pair_attr, state_without.pair_attr)
    assert not torch.allclose(h_masked, h_full)
    assert adj.num_masked == 0


def test_link_encoder_pairs_are_the_sparse_rrwp_and_ids_work_without_x() -> None:
    n = 6
    adj = CSR.from_edge_index(symmetrize(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]), n), n)
    encoder = GRITLinkEncoder(None, 8, 1, heads=4, walk_length=3, num_embeddings=n).eval()
    h, state = encoder(None, adj)
    expected = rrwp(adj.to_edge_index(), 3, n, full_pairs=False).pair_index
    assert torch.equal(state.pair_index, expected)
    assert h.shape == (n, 8)
    assert state.pair_attr.shape == (expected.size(1), 8)
    assert state.num_nodes == n
    # The node-id embedding: permuting ids is not a no-op (each node has its own row).
    assert not torch.allclose(h, encoder(torch.arange(n).flip(0), adj)[0])


def test_link_encoder_refuses_an_oversized_pair_set_before_building_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 30
    adj = CSR.from_edge_index(symmetrize(random_edge_index(n, 120, seed=1), n), n)
    bound = rrwp_pair_bound(adj, 3)
    encoder = GRITLinkEncoder(
        None, 8, 1, heads=2, walk_length=3, num_embeddings=n, max_pairs=bound - 1
    )

    def no_rrwp(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pairs were built before the size check")

    monkeypatch.setattr("graphpair.nn.link._grit_pair.rrwp", no_rrwp)
    with pytest.raises(ValueError, match=f"up to {bound:,} attended pairs, over max_pairs="):
        encoder(None, adj)
    assert encoder.check_size(CSR.from_edge_index(torch.zeros(2, 0, dtype=torch.long), n)) == n


def test_link_encoder_errors_name_the_argument() -> None:
    adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 0]]), 3)
    with pytest.raises(ValueError, match="give in_channels"):
        GRITLinkEncoder(None, 8)
    with pytest.raises(ValueError, match="max_pairs"):
        GRITLinkEncoder(4, 8, max_pairs=0)
    with pytest.raises(ValueError, match="input_dropout"):
        GRITLinkEncoder(4, 8, input_dropout=1.5)
    encoder = GRITLinkEncoder(4, 8, 1, heads=2)
    with pytest.raises(TypeError, match="adj must be a graphpair.ops.CSR, an edge_index"):
        encoder(torch.randn(3, 4), adj.to_edge_index().tolist())
    with pytest.raises(ValueError, match="x has 2 rows but adj has 3 nodes"):
        encoder(torch.randn(2, 4), adj)
    with pytest.raises(ValueError, match="num_embeddings"):
        encoder(None, adj)
    assert repr(encoder) == (
        "GRITLinkEncoder(4, 8, num_layers=1, heads=2, walk_length=3, max_pairs=2000000)"
    )


def test_link_encoder_gradcheck_float64() -> None:
    torch.manual_seed(0)
    n = 5
    adj = CSR.from_edge_index(symmetrize(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]), n), n)
    encoder = GRITLinkEncoder(3, 4, 1, heads=2, walk_length=3, norm=None).double().eval()
    x = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)

    def run(x: Tensor) -> tuple[Tensor, Tensor]:
        h, state = encoder(x, adj)
        return h, state.pair_attr

    assert torch.autograd.gradcheck(run, (x,))
