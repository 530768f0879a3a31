from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import losses as pml

from graphpair.losses import GRACELoss, NoPairsWarning, grace, info_nce
from tests.losses.oracle import assert_same_loss, embeddings


def official_grace(h1: torch.Tensor, h2: torch.Tensor, tau: float) -> torch.Tensor:
    """GRACE's semi_loss / loss written from the paper's equation (spec §5)."""

    def semi(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = F.normalize(a), F.normalize(b)
        refl = torch.exp(a @ a.T / tau)
        between = torch.exp(a @ b.T / tau)
        return -torch.log(between.diag() / (refl.sum(1) + between.sum(1) - refl.diag()))

    return ((semi(h1, h2) + semi(h2, h1)) * 0.5).mean()


@settings(max_examples=25)
@given(
    st.integers(2, 30), st.integers(1, 6), st.integers(0, 2**16), st.sampled_from([0.4, 0.5, 0.9])
)
def test_equals_pml_self_supervised_ntxent(num: int, dim: int, seed: int, tau: float) -> None:
    z1, z2 = embeddings(num, dim, seed), embeddings(num, dim, seed + 1)
    oracle = pml.SelfSupervisedLoss(pml.NTXentLoss(tau))
    assert_same_loss(lambda: grace(z1, z2, temperature=tau), lambda: oracle(z1, z2), [z1, z2])


def test_equals_official_formula_and_info_nce_on_stacked_views() -> None:
    z1, z2 = embeddings(12, 5, 1), embeddings(12, 5, 2)
    torch.testing.assert_close(grace(z1, z2, temperature=0.4), official_grace(z1, z2, 0.4))
    stacked = info_nce(torch.cat([z1, z2]), torch.arange(12).repeat(2), temperature=0.4)
    torch.testing.assert_close(grace(z1, z2, temperature=0.4), stacked)
    none = grace(z1, z2, temperature=0.4, reduction="none")
    assert none.shape == (24,)
    torch.testing.assert_close(grace(z1, z2, temperature=0.4, reduction="sum"), none.sum())


def test_duplicate_rows_are_still_negatives() -> None:
    z1 = embeddings(4, 3, 0).detach()
    z1 = torch.cat([z1, z1[:1]])
    z2 = embeddings(5, 3, 1).detach()
    torch.testing.assert_close(grace(z1, z2), official_grace(z1, z2, 0.5))


@settings(max_examples=10)
@given(st.integers(2, 25), st.integers(1, 9))
def test_chunked_equals_dense(num: int, chunk: int) -> None:
    z1, z2 = embeddings(num, 4, num), embeddings(num, 4, num + 1)
    for reduction in ("mean", "sum", "none"):
        assert_same_loss(
            lambda r=reduction: grace(z1, z2, reduction=r, chunk_size=chunk),
            lambda r=reduction: grace(z1, z2, reduction=r, chunk_size=2 * num),
            [z1, z2],
            rtol=1e-10,
            atol=1e-10,
        )


def test_gradcheck() -> None:
    z1, z2 = embeddings(5, 3, 0), embeddings(5, 3, 1)
    for chunk in (None, 3):
        assert torch.autograd.gradcheck(
            lambda a, b, c=chunk: grace(a, b, temperature=0.4, chunk_size=c), (z1, z2)
        )


def test_single_node_gives_attached_zero() -> None:
    z1, z2 = embeddings(1, 3, 0), embeddings(1, 3, 1)
    with pytest.warns(NoPairsWarning, match="grace: the batch has no negative pair"):
        loss = grace(z1, z2)
    loss.backward()
    assert loss.item() == 0.0
    assert z1.grad is not None
    assert not z1.grad.any()


def test_errors_and_module() -> None:
    z1 = embeddings(4, 3, 0)
    with pytest.raises(ValueError, match="z1 and z2 must have the same number of rows"):
        grace(z1, embeddings(5, 3, 0))
    with pytest.raises(ValueError, match="z2 must have 3 columns"):
        grace(z1, embeddings(4, 2, 0))
    with pytest.raises(ValueError, match="z2 must have the embeddings' dtype"):
        grace(z1, embeddings(4, 3, 0, torch.float32))
    module = GRACELoss(temperature=0.4)
    assert GRACELoss().temperature == 0.5
    z2 = embeddings(4, 3, 1)
    torch.testing.assert_close(module(z1, z2), grace(z1, z2, temperature=0.4))
    assert "temperature=0.4" in repr(module)
