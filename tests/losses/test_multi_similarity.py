from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning import miners as pml_miners

from graphpair.losses import (
    MultiSimilarityLoss,
    NoPairsWarning,
    multi_similarity,
    multi_similarity_miner,
)
from tests.losses.oracle import assert_same_loss, batches, embeddings, labels_with_pairs

HYPER = st.sampled_from([(2.0, 50.0, 0.5), (2.0, 40.0, 1.0), (1.0, 10.0, 0.2)])


def paper_ms(x: torch.Tensor, y: torch.Tensor, a: float, b: float, lam: float, eps: float):
    """The paper's mining + weighting written anchor by anchor (spec §3)."""
    z = F.normalize(x, dim=1)
    s = z @ z.T
    total = x.new_zeros(())
    for i in range(len(y)):
        pos = [j for j in range(len(y)) if j != i and y[j] == y[i]]
        neg = [k for k in range(len(y)) if y[k] != y[i]]
        if not pos or not neg:
            continue
        kept_neg = [k for k in neg if s[i, k] + eps > min(s[i, j] for j in pos)]
        kept_pos = [j for j in pos if s[i, j] - eps < max(s[i, k] for k in neg)]
        if kept_pos:
            total = (
                total + torch.log(1 + sum(torch.exp(-a * (s[i, j] - lam)) for j in kept_pos)) / a
            )
        if kept_neg:
            total = total + torch.log(1 + sum(torch.exp(b * (s[i, k] - lam)) for k in kept_neg)) / b
    return total / len(y)


@settings(max_examples=25)
@given(batches(), HYPER)
def test_equals_pml_without_miner(
    batch: tuple[torch.Tensor, torch.Tensor], hyper: tuple[float, float, float]
) -> None:
    x, y = batch
    a, b, lam = hyper
    assert_same_loss(
        lambda: multi_similarity(x, y, alpha=a, beta=b, base=lam),
        lambda: pml.MultiSimilarityLoss(a, b, lam)(x, y),
        [x],
    )


@settings(max_examples=25)
@given(batches(), HYPER, st.sampled_from([0.1, 0.3]))
def test_miner_output_fed_to_loss_equals_pml(
    batch: tuple[torch.Tensor, torch.Tensor], hyper: tuple[float, float, float], eps: float
) -> None:
    x, y = batch
    a, b, lam = hyper
    ours = multi_similarity_miner(x, y, epsilon=eps)
    theirs = pml_miners.MultiSimilarityMiner(eps)(x, y)
    if all(len(t) <= 1 for t in theirs):
        return  # PML's GenericPairLoss returns 0 here (documented deviation)
    assert_same_loss(
        lambda: multi_similarity(x, y, ours, alpha=a, beta=b, base=lam),
        lambda: pml.MultiSimilarityLoss(a, b, lam)(x, y, theirs),
        [x],
    )


def test_miner_and_loss_equal_the_papers_loop() -> None:
    x, y = embeddings(16, 4, 8), labels_with_pairs(16, 4, 8)
    mined = multi_similarity_miner(x, y, epsilon=0.1)
    torch.testing.assert_close(
        multi_similarity(x, y, mined, alpha=2, beta=40, base=0.5),
        paper_ms(x, y, 2, 40, 0.5, 0.1),
    )


@settings(max_examples=15)
@given(batches(max_num=30), st.integers(1, 7))
def test_chunked_equals_dense(batch: tuple[torch.Tensor, torch.Tensor], chunk: int) -> None:
    x, y = batch
    for reduction in ("mean", "sum", "none"):
        assert_same_loss(
            lambda r=reduction: multi_similarity(x, y, reduction=r, chunk_size=chunk),
            lambda r=reduction: multi_similarity(x, y, reduction=r, chunk_size=len(y)),
            [x],
            rtol=1e-10,
            atol=1e-10,
        )


def test_ref_emb_equals_pml_and_single_class_batches_still_train() -> None:
    x, r = embeddings(12, 4, 5), embeddings(9, 4, 6)
    y, ry = labels_with_pairs(12, 3, 5), labels_with_pairs(9, 3, 6)
    assert_same_loss(
        lambda: multi_similarity(x, y, ref_emb=r, ref_labels=ry),
        lambda: pml.MultiSimilarityLoss()(x, y, ref_emb=r, ref_labels=ry),
        [x, r],
    )
    for labels in (torch.zeros(6, dtype=torch.long), torch.arange(6)):  # spec §3 edge cases
        z = embeddings(6, 4, 1)
        ours = multi_similarity(z, labels)
        assert ours.item() > 0
        torch.testing.assert_close(ours, pml.MultiSimilarityLoss()(z, labels))


def test_gradcheck() -> None:
    x, y = embeddings(7, 3, 2), labels_with_pairs(7, 3, 2)
    for chunk in (None, 2):
        assert torch.autograd.gradcheck(
            lambda t, c=chunk: multi_similarity(t, y, beta=5.0, chunk_size=c), (x,)
        )
    pairs = (torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([0, 1]), torch.tensor([2, 4]))
    assert torch.autograd.gradcheck(
        lambda t: multi_similarity(t, indices_tuple=pairs, beta=5.0), (x,)
    )


def test_one_positive_and_one_negative_pair_is_a_real_loss() -> None:
    # PML's GenericPairLoss returns 0 when every list has <= 1 pair; graphpair computes it.
    x = embeddings(3, 4, 0)
    pairs = (torch.tensor([0]), torch.tensor([1]), torch.tensor([0]), torch.tensor([2]))
    z = F.normalize(x, dim=1)
    s01, s02 = z[0] @ z[1], z[0] @ z[2]
    expected = (
        torch.log1p(torch.exp(-2 * (s01 - 0.5))) / 2 + torch.log1p(torch.exp(50 * (s02 - 0.5))) / 50
    ) / 3
    torch.testing.assert_close(multi_similarity(x, indices_tuple=pairs), expected)


def test_empty_mining_gives_attached_zero_and_warns_once() -> None:
    x = embeddings(4, 3, 0)
    labels = torch.arange(4)  # no positive pair: the miner keeps nothing
    mined = multi_similarity_miner(x, labels)
    assert all(t.numel() == 0 and t.dtype == torch.long for t in mined)
    with pytest.warns(NoPairsWarning, match="multi_similarity: indices_tuple has no pair"):
        loss = multi_similarity(x, labels, mined)
    loss.backward()
    assert loss.item() == 0.0
    assert x.grad is not None
    assert not x.grad.any()
    assert pml.MultiSimilarityLoss()(x, labels, mined).item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert multi_similarity(x, labels, mined, reduction="none").shape == (4,)


def test_single_row() -> None:
    x = embeddings(1, 3, 0)
    with pytest.warns(NoPairsWarning, match="the batch has no pair"):
        loss = multi_similarity(x, torch.tensor([0]))
    loss.backward()
    assert loss.item() == 0.0


def test_pair_both_positive_and_negative_is_rejected() -> None:
    x = embeddings(4, 3, 0)
    bad = (torch.tensor([2]), torch.tensor([3]), torch.tensor([2]), torch.tensor([3]))
    with pytest.raises(ValueError, match=r"\(anchor 2, reference 3\) is both"):
        multi_similarity(x, indices_tuple=bad)


def test_module_and_defaults() -> None:
    module = MultiSimilarityLoss()
    assert (module.alpha, module.beta, module.base) == (2.0, 50.0, 0.5)
    x, y = embeddings(10, 3, 0), labels_with_pairs(10, 3, 0)
    torch.testing.assert_close(module(x, y), multi_similarity(x, y))
    assert "beta=50.0" in repr(module)
    with pytest.raises(ValueError, match="alpha must be finite and > 0; got 0"):
        multi_similarity(x, y, alpha=0)
    with pytest.raises(ValueError, match="base must be finite; got nan"):
        MultiSimilarityLoss(base=float("nan"))
