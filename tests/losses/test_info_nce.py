from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning import miners as pml_miners
from pytorch_metric_learning.reducers import DoNothingReducer

from graphpair.losses import InfoNCELoss, NoPairsWarning, info_nce
from tests.losses.oracle import (
    assert_same_loss,
    batches,
    embeddings,
    labels_with_pairs,
    random_triplets,
)


def loop_ntxent(x: torch.Tensor, y: torch.Tensor, tau: float) -> torch.Tensor:
    """NT-Xent written pair by pair from the spec's formula."""
    z = F.normalize(x, dim=1)
    terms = []
    for i in range(len(y)):
        negs = [k for k in range(len(y)) if y[k] != y[i]]
        for p in range(len(y)):
            if p == i or y[p] != y[i]:
                continue
            num = torch.exp(z[i] @ z[p] / tau)
            den = num + sum(torch.exp(z[i] @ z[k] / tau) for k in negs)
            terms.append(-torch.log(num / den))
    return torch.stack(terms).mean()


@settings(max_examples=25)
@given(batches(), st.sampled_from([0.07, 0.5, 1.0]))
def test_equals_pml_ntxent(batch: tuple[torch.Tensor, torch.Tensor], tau: float) -> None:
    x, y = batch
    assert_same_loss(
        lambda: info_nce(x, y, temperature=tau), lambda: pml.NTXentLoss(tau)(x, y), [x]
    )


def test_equals_plain_loop() -> None:
    x, y = embeddings(9, 4, 0), labels_with_pairs(9, 3, 0)
    torch.testing.assert_close(info_nce(x, y, temperature=0.3), loop_ntxent(x, y, 0.3))


@settings(max_examples=15)
@given(batches(max_num=30), st.integers(1, 7))
def test_chunked_equals_dense(batch: tuple[torch.Tensor, torch.Tensor], chunk: int) -> None:
    x, y = batch
    for reduction in ("mean", "sum", "none"):
        assert_same_loss(
            lambda r=reduction: info_nce(x, y, reduction=r, chunk_size=chunk),
            lambda r=reduction: info_nce(x, y, reduction=r, chunk_size=len(y)),
            [x],
            rtol=1e-10,
            atol=1e-10,
        )


def test_reduction_none_matches_pml_per_pair_order() -> None:
    x, y = embeddings(20, 5, 3), labels_with_pairs(20, 4, 3)
    ours = info_nce(x, y, reduction="none")
    theirs = pml.NTXentLoss(reducer=DoNothingReducer())(x, y)["loss"]["losses"]
    torch.testing.assert_close(ours, theirs, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(info_nce(x, y, reduction="sum"), ours.sum())


def test_ref_emb_and_self_supervised_cross_view() -> None:
    x, r = embeddings(15, 4, 5), embeddings(11, 4, 6)
    y, ry = labels_with_pairs(15, 3, 5), labels_with_pairs(11, 3, 6)
    assert_same_loss(
        lambda: info_nce(x, y, ref_emb=r, ref_labels=ry),
        lambda: pml.NTXentLoss()(x, y, ref_emb=r, ref_labels=ry),
        [x, r],
    )
    z2 = embeddings(15, 4, 7)
    # one-directional cross-view InfoNCE == SelfSupervisedLoss(symmetric=False) == cross-entropy
    assert_same_loss(
        lambda: info_nce(x, ref_emb=z2, temperature=0.2),
        lambda: pml.SelfSupervisedLoss(pml.NTXentLoss(0.2), symmetric=False)(x, z2),
        [x, z2],
    )
    logits = F.normalize(x, dim=1) @ F.normalize(z2, dim=1).T / 0.2
    torch.testing.assert_close(
        info_nce(x, ref_emb=z2, temperature=0.2), F.cross_entropy(logits, torch.arange(15))
    )


@settings(max_examples=15)
@given(batches())
def test_miner_pairs_and_triplets_equal_pml(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = batch
    pairs = pml_miners.MultiSimilarityMiner()(x, y)
    if len(pairs[0]) > 1 or len(pairs[2]) > 1:  # PML returns 0 for <= 1 pair per list
        assert_same_loss(lambda: info_nce(x, y, pairs), lambda: pml.NTXentLoss()(x, y, pairs), [x])
    triplets = random_triplets(y, 40, len(y))
    if len(triplets[0]) > 1:
        assert_same_loss(
            lambda: info_nce(x, None, triplets), lambda: pml.NTXentLoss()(x, y, triplets), [x]
        )


def test_indices_duplicates_count_and_positive_without_negative() -> None:
    # spec §1: pairs (0,1), (2,3); negatives only for anchor 0 -> loss = l_01 / 2
    x = embeddings(5, 3, 11)
    a1, p = torch.tensor([0, 2]), torch.tensor([1, 3])
    a2, n = torch.tensor([0, 0]), torch.tensor([4, 4])  # (0, 4) listed twice: counted twice
    z = F.normalize(x, dim=1)
    s = z @ z.T / 0.07
    l01 = -torch.log(torch.exp(s[0, 1]) / (torch.exp(s[0, 1]) + 2 * torch.exp(s[0, 4])))
    torch.testing.assert_close(info_nce(x, indices_tuple=(a1, p, a2, n)), l01 / 2)


def test_gradcheck_dense_and_chunked() -> None:
    x, y = embeddings(7, 3, 2), labels_with_pairs(7, 3, 2)
    for chunk in (None, 2):
        assert torch.autograd.gradcheck(
            lambda t, c=chunk: info_nce(t, y, temperature=0.5, chunk_size=c), (x,)
        )
    r, ry = embeddings(5, 3, 4), labels_with_pairs(5, 2, 4)
    assert torch.autograd.gradcheck(
        lambda a, b: info_nce(a, y, ref_emb=b, ref_labels=ry, chunk_size=3), (x, r)
    )
    pairs = (
        torch.tensor([0, 1]),
        torch.tensor([1, 0]),
        torch.tensor([0, 0, 1]),
        torch.tensor([2, 3, 2]),
    )
    assert torch.autograd.gradcheck(lambda t: info_nce(t, indices_tuple=pairs), (x,))


def test_float32_close_to_float64() -> None:
    x, y = embeddings(50, 8, 1), labels_with_pairs(50, 5, 1)
    torch.testing.assert_close(
        info_nce(x.float(), y, chunk_size=7).double(), info_nce(x, y), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    ("labels", "missing"),
    [(torch.tensor([0, 1, 2, 3]), "positive"), (torch.tensor([5, 5, 5]), "negative")],
)
def test_no_positive_or_negative_gives_attached_zero_and_warns_once(
    labels: torch.Tensor, missing: str
) -> None:
    x = embeddings(len(labels), 3, 0)
    with pytest.warns(NoPairsWarning, match=f"info_nce: the batch has no {missing} pair"):
        loss = info_nce(x, labels)
    assert loss.item() == 0.0
    assert loss.requires_grad
    loss.backward()
    assert x.grad is not None
    assert torch.equal(x.grad, torch.zeros_like(x))
    assert pml.NTXentLoss()(x, labels).item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = info_nce(x, labels, reduction="none")  # no second warning
    expected = 0 if missing == "positive" else len(labels) * (len(labels) - 1)
    assert again.shape == (expected,)
    assert not again.any()


def test_single_row() -> None:
    x = embeddings(1, 4, 0)
    with pytest.warns(NoPairsWarning):
        loss = info_nce(x, torch.tensor([0]))
    loss.backward()
    assert loss.item() == 0.0


def test_pair_both_positive_and_negative_is_rejected() -> None:
    x = embeddings(4, 3, 0)
    bad = (torch.tensor([0, 1]), torch.tensor([1, 2]), torch.tensor([1]), torch.tensor([2]))
    with pytest.raises(
        ValueError, match=r"either positive or negative.*\(anchor 1, reference 2\) is both"
    ):
        info_nce(x, indices_tuple=bad)


def test_argument_errors_name_the_argument() -> None:
    x, y = embeddings(4, 3, 0), torch.tensor([0, 0, 1, 1])
    with pytest.raises(ValueError, match="temperature must be finite and > 0; got 0"):
        info_nce(x, y, temperature=0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        info_nce(x, y, reduction="avg")
    with pytest.raises(ValueError, match="chunk_size must be >= 1; got 0"):
        info_nce(x, y, chunk_size=0)
    with pytest.raises(ValueError, match=r"labels must have one entry per embedding row \(4\)"):
        info_nce(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="embeddings must have 2 dimension"):
        info_nce(x[0], y)
    with pytest.raises(ValueError, match="give labels"):
        info_nce(x)
    with pytest.raises(ValueError, match="ref_emb needs ref_labels"):
        info_nce(x, y, ref_emb=x)
    with pytest.raises(ValueError, match="local_anchors=True needs distributed=True"):
        info_nce(x, y, local_anchors=True)
    with pytest.raises(RuntimeError, match="init_process_group"):
        info_nce(x, y, distributed=True)
    with pytest.raises(ValueError, match="reduction='none' cannot be combined"):
        info_nce(x, y, reduction="none", distributed=True)
    with pytest.raises(ValueError, match="indices_tuple positive entries must be < 4"):
        info_nce(x, indices_tuple=(torch.tensor([0]), torch.tensor([9]), torch.tensor([0])))


def test_module_wraps_function() -> None:
    x, y = embeddings(10, 3, 0), labels_with_pairs(10, 3, 0)
    module = InfoNCELoss(temperature=0.2, chunk_size=3)
    torch.testing.assert_close(module(x, y), info_nce(x, y, temperature=0.2))
    assert "temperature=0.2" in repr(module)
    assert "chunk_size=3" in repr(module)
    assert InfoNCELoss().temperature == 0.07  # PML's NTXentLoss default


@pytest.mark.parametrize("tau", [0.002, 0.01])
def test_small_temperatures_shift_by_row_maxima(tau: float) -> None:
    # below tau = 2/700 (float64) or 2/80 (float32) the exponents are shifted by row maxima;
    # nearly parallel rows keep the losses moderate, where PML's exp(pos - max) is accurate
    x = (1.0 + 0.03 * embeddings(12, 3, 8).detach()).requires_grad_()
    y = labels_with_pairs(12, 3, 8)
    assert_same_loss(
        lambda: info_nce(x, y, temperature=tau), lambda: pml.NTXentLoss(tau)(x, y), [x]
    )
    torch.testing.assert_close(
        info_nce(x.float(), y, temperature=tau).double(),
        info_nce(x, y, temperature=tau),
        rtol=1e-4,
        atol=1e-4,
    )
