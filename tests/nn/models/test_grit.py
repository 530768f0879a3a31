from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch, Data

from graphpair.nn import GRIT, GRITBlock
from graphpair.transforms import AddRRWP
from tests.graphs import random_edge_index
from tests.nn.conv.test_grit_conv import (  # noqa: F401 - single_thread is an autouse fixture
    dense_conv,
    graph_pairs,
    random_inputs,
    single_thread,
)


def reference_norm(norm: torch.nn.Module, z: Tensor) -> Tensor:
    """BatchNorm (batch statistics in training, running ones in eval) or LayerNorm by hand."""
    if isinstance(norm, torch.nn.BatchNorm1d):
        if norm.training:
            mean, var = z.mean(0), z.var(0, unbiased=False)
        else:
            assert norm.running_mean is not None
            assert norm.running_var is not None
            mean, var = norm.running_mean, norm.running_var
        return (z - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias
    if isinstance(norm, torch.nn.LayerNorm):
        mean, var = z.mean(-1, keepdim=True), z.var(-1, unbiased=False, keepdim=True)
        return (z - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias
    return z


def reference_block(
    block: GRITBlock, x: Tensor, pair_index: Tensor, e: Tensor, log_deg: Tensor
) -> tuple[Tensor, Tensor]:
    """Spec §2.7: post-norm residuals, node FFN, no pair FFN."""
    h, pair_update = dense_conv(block.conv, x, pair_index, e, log_deg)
    h1 = reference_norm(block.norm_node, x + h)
    if block.norm_pair is not None:
        e = reference_norm(block.norm_pair, e + pair_update)
    ffn = block.ffn_out(torch.relu(block.ffn_in(h1)))
    return reference_norm(block.norm_ffn, h1 + ffn), e


@pytest.mark.parametrize("norm", ["batch", "layer", None])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("update_pairs", [True, False])
@pytest.mark.parametrize("num_nodes", [3, 6])
def test_block_matches_dense_reference(
    norm: str | None, training: bool, update_pairs: bool, num_nodes: int
) -> None:
    pair_index, log_deg = graph_pairs(num_nodes, num_nodes)
    torch.manual_seed(num_nodes)
    block = GRITBlock(8, heads=2, norm=norm, update_pairs=update_pairs).double()
    for module in block.modules():  # non-trivial running statistics for eval mode
        if isinstance(module, torch.nn.BatchNorm1d):
            assert module.running_mean is not None
            assert module.running_var is not None
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    block.train(training)
    x, e = random_inputs(num_nodes, pair_index.size(1), 8, num_nodes)
    with torch.no_grad():
        expected = reference_block(block, x, pair_index, e, log_deg)
    got = block(x, pair_index, e, log_deg=log_deg)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    if not update_pairs:
        assert got[1] is e


def molecules(count: int = 4, seed: int = 0) -> list[Data]:
    """Small ZINC-like graphs: atom ids, bond ids, undirected edges, a target."""
    gen = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(count):
        n = 3 + (i * 2) % 5
        edge_index = random_edge_index(n, n, seed + i, isolated=0, duplicates=0, self_loops=0)
        edge_index = torch.cat([edge_index, edge_index.flip(0)], 1)
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
        bonds = torch.randint(1, 4, (edge_index.size(1),), generator=gen)
        data = Data(
            x=torch.randint(0, 21, (n, 1), generator=gen),
            edge_index=edge_index,
            edge_attr=bonds,
            y=torch.randn(1, generator=gen),
            num_nodes=n,
        )
        graphs.append(AddRRWP(21)(data))
    return graphs


def small_model(**kwargs: object) -> GRIT:
    torch.manual_seed(0)
    options: dict[str, object] = {
        "heads": 4,
        "walk_length": 21,
        "num_embeddings": 21,
        "num_edge_embeddings": 4,
        **kwargs,
    }
    return GRIT(None, 16, 1, 2, **options)  # type: ignore[arg-type]


def run(model: GRIT, data: Data) -> Tensor:
    return model(data.x, data.edge_index, **GRIT.rrwp_inputs(data))  # type: ignore[no-any-return]


def test_zinc_model_has_the_reference_parameter_count() -> None:
    # Spec §3.2: 473,473 with the last layer's (unused) pair update; graphpair skips it.
    assert sum(p.numel() for p in GRIT.zinc(pair_output=True).parameters()) == 473_473
    assert sum(p.numel() for p in GRIT.zinc().parameters()) == 473_473 - 4_160 - 128
    head = GRIT.zinc().head
    widths = [m.out_features for m in head if isinstance(m, torch.nn.Linear)]
    assert widths == [32, 16, 1]


def test_model_matches_its_pieces() -> None:
    model = small_model(pool="sum").eval()
    batch = Batch.from_data_list(molecules())
    out = run(model, batch)
    h = model.node_rrwp(model.node_embedding(batch.x.view(-1)), batch.rrwp)  # type: ignore[misc]
    edges = model.edge_embedding(batch.edge_attr)  # type: ignore[misc]
    e = model.pair_rrwp(batch.rrwp_val, batch.rrwp_index, batch.edge_index, edges, h.size(0))
    for block in model.blocks:
        h, e = block(h, batch.rrwp_index, e, log_deg=batch.log_deg)
    pooled = torch.stack([h[batch.batch == g].sum(0) for g in range(batch.num_graphs)])
    torch.testing.assert_close(out, model.head(pooled))


def test_batch_equals_graphs_separately() -> None:
    model = small_model().eval()
    graphs = molecules()
    batched = run(model, Batch.from_data_list(graphs))
    alone = torch.cat([run(model, g) for g in graphs])
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)


def test_node_outputs_are_permutation_equivariant() -> None:
    model = small_model(pool=None).eval()
    data = molecules(5, seed=3)[4]  # the largest of the set
    out = run(model, data)
    n = data.num_nodes
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))  # new -> old
    new_id = torch.empty_like(perm)
    new_id[perm] = torch.arange(n)
    permuted = Data(
        x=data.x[perm],
        edge_index=new_id[data.edge_index],
        edge_attr=data.edge_attr,
        num_nodes=n,
    )
    torch.testing.assert_close(run(model, AddRRWP(21)(permuted)), out[perm], rtol=1e-5, atol=1e-5)


def test_training_reduces_the_loss() -> None:
    model = small_model(attn_dropout=0.2)
    batch = Batch.from_data_list(molecules(6))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = F.l1_loss(run(model, batch).view(-1), batch.y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.6 * losses[0]


def test_float_inputs_mean_pool_and_encode() -> None:
    torch.manual_seed(0)
    data = molecules(1)[0]
    data.x = torch.randn(data.num_nodes, 3)
    data.edge_attr = torch.randn(data.edge_index.size(1), 2)
    model = GRIT(3, 16, 4, 2, heads=4, edge_dim=2, pool="mean", pair_output=True).eval()
    assert run(model, data).shape == (1, 4)
    h, state = model.encode(data.x, data.edge_index, data.edge_attr, **_rrwp_only(data))
    assert h.shape == (data.num_nodes, 16)
    assert state.pair_attr.shape == (data.rrwp_index.size(1), 16)
    assert state.num_nodes == data.num_nodes
    assert all(block.update_pairs for block in model.blocks)


def _rrwp_only(data: Data) -> dict[str, Tensor]:
    return {k: data[k] for k in ("rrwp", "rrwp_index", "rrwp_val", "log_deg")}


def test_preencoded_inputs_node_level() -> None:
    data = molecules(1)[0]
    model = GRIT(None, 8, 3, 1, heads=2, pool=None, head_layers=0).eval()
    x = torch.randn(data.num_nodes, 8)
    out = model(x, data.edge_index, **_rrwp_only(data))
    assert out.shape == (data.num_nodes, 3)
    # Without a head (a backbone): the node states themselves.
    backbone = GRIT(None, 8, None, 1, heads=2, pool=None).eval()
    h, _ = backbone.encode(x, data.edge_index, **_rrwp_only(data))
    torch.testing.assert_close(backbone(x, data.edge_index, **_rrwp_only(data)), h)


def test_reset_repr_and_errors() -> None:
    model = small_model()
    model.reset_parameters()
    model.reset_parameters()
    assert repr(model).startswith("GRIT(num_embeddings=21, 16, 1, num_layers=2, heads=4")
    assert repr(GRITBlock(8, heads=2)) == (
        "GRITBlock(8, heads=2, dropout=0.0, attn_dropout=0.0, norm='batch', update_pairs=True)"
    )
    with pytest.raises(ValueError, match="give at most one of in_channels"):
        GRIT(3, 8, 1, num_embeddings=4)
    with pytest.raises(ValueError, match="pool must be one of"):
        GRIT(3, 8, 1, pool="max")
    with pytest.raises(ValueError, match="heads must divide channels=8"):
        GRIT(3, 8, 1, heads=3)
    data = molecules(1)[0]
    with pytest.raises(ValueError, match="x type ids must be in \\[0, 21\\)"):
        model(data.x + 30, data.edge_index, **GRIT.rrwp_inputs(data))
    with pytest.raises(ValueError, match="edge_attr is required"):
        model(data.x, data.edge_index, **_rrwp_only(data))
