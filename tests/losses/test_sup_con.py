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

from graphpair.losses import NoPairsWarning, SupConLoss, sup_con
from tests.losses.oracle import (
    assert_same_loss,
    batches,
    embeddings,
    labels_with_pairs,
    random_triplets,
)


def hobbitlong_supcon(views: torch.Tensor, y: torch.Tensor, tau: float) -> torch.Tensor:
    """The reference formula (Khosla et al. L_out, base_temperature = tau) as a plain loop over
    the stacked views; every anchor must have a positive."""
    feats = F.normalize(torch.cat(views.unbind(1)), dim=1)  # [V * B, D], view-major
    labels = y.repeat(views.size(1))
    out = []
    for i in range(len(labels)):
        others = [a for a in range(len(labels)) if a != i]
        log_den = torch.logsumexp(torch.stack([feats[i] @ feats[a] / tau for a in others]), 0)
        pos = [p for p in others if labels[p] == labels[i]]
        out.append(-torch.stack([feats[i] @ feats[p] / tau - log_den for p in pos]).mean())
    return torch.stack(out).mean()


@settings(max_examples=25)
@given(batches(), st.sampled_from([0.1, 0.07, 0.5]))
def test_equals_pml(batch: tuple[torch.Tensor, torch.Tensor], tau: float) -> None:
    x, y = batch
    assert_same_loss(lambda: sup_con(x, y, temperature=tau), lambda: pml.SupConLoss(tau)(x, y), [x])


def test_equals_reference_formula_on_views() -> None:
    views = embeddings(6, 2 * 4, 9).detach().view(6, 2, 4)
    y = torch.tensor([0, 1, 2, 0, 1, 3])
    flat = torch.cat(views.unbind(1))
    torch.testing.assert_close(
        sup_con(flat, y.repeat(2), temperature=0.2), hobbitlong_supcon(views, y, 0.2)
    )


@settings(max_examples=15)
@given(batches(max_num=30), st.integers(1, 7))
def test_chunked_equals_dense(batch: tuple[torch.Tensor, torch.Tensor], chunk: int) -> None:
    x, y = batch
    for reduction in ("mean", "sum", "none"):
        assert_same_loss(
            lambda r=reduction: sup_con(x, y, reduction=r, chunk_size=chunk),
            lambda r=reduction: sup_con(x, y, reduction=r, chunk_size=len(y)),
            [x],
            rtol=1e-10,
            atol=1e-10,
        )


def test_anchors_without_positive_are_left_out_of_the_mean() -> None:
    x, y = embeddings(6, 3, 4), torch.tensor([0, 0, 1, 2, 3, 4])
    per_anchor = sup_con(x, y, reduction="none")
    assert torch.equal(per_anchor[2:], torch.zeros(4, dtype=per_anchor.dtype))
    torch.testing.assert_close(sup_con(x, y), per_anchor[:2].mean())
    theirs = pml.SupConLoss(reducer=DoNothingReducer())(x, y)["loss"]["losses"]
    torch.testing.assert_close(per_anchor, theirs)


def test_ref_emb_and_indices_equal_pml() -> None:
    x, r = embeddings(14, 4, 5), embeddings(9, 4, 6)
    y, ry = labels_with_pairs(14, 3, 5), labels_with_pairs(9, 3, 6)
    assert_same_loss(
        lambda: sup_con(x, y, ref_emb=r, ref_labels=ry),
        lambda: pml.SupConLoss()(x, y, ref_emb=r, ref_labels=ry),
        [x, r],
    )
    pairs = pml_miners.MultiSimilarityMiner()(x, y)
    assert_same_loss(lambda: sup_con(x, y, pairs), lambda: pml.SupConLoss()(x, y, pairs), [x])
    triplets = random_triplets(y, 25, 1)
    doubled = tuple(torch.cat([t, t]) for t in triplets)  # a pair set: duplicates count once
    assert_same_loss(
        lambda: sup_con(x, None, doubled), lambda: pml.SupConLoss()(x, y, triplets), [x]
    )


def test_gradcheck() -> None:
    x, y = embeddings(7, 3, 2), labels_with_pairs(7, 3, 2)
    for chunk in (None, 3):
        assert torch.autograd.gradcheck(lambda t, c=chunk: sup_con(t, y, chunk_size=c), (x,))
    pairs = (torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([0, 1]), torch.tensor([2, 4]))
    assert torch.autograd.gradcheck(lambda t: sup_con(t, indices_tuple=pairs), (x,))


@pytest.mark.parametrize("labels", [torch.tensor([0, 1, 2]), torch.tensor([4, 4, 4, 4])])
def test_no_positive_or_negative_gives_attached_zero_and_warns_once(labels: torch.Tensor) -> None:
    x = embeddings(len(labels), 3, 0)
    with pytest.warns(NoPairsWarning, match="sup_con: the batch has no"):
        loss = sup_con(x, labels)
    loss.backward()
    assert loss.item() == 0.0
    assert x.grad is not None
    assert not x.grad.any()
    assert pml.SupConLoss()(x, labels).item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sup_con(x, labels, reduction="none").shape == (len(labels),)


def test_single_row_and_empty_indices() -> None:
    x = embeddings(1, 3, 0)
    with pytest.warns(NoPairsWarning):
        assert sup_con(x, torch.tensor([3])).item() == 0.0
    empty = torch.empty(0, dtype=torch.long)
    x = embeddings(4, 3, 0)
    # the warning was already given once in this process: no second one
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sup_con(x, indices_tuple=(empty, empty, empty, empty)).item() == 0.0


def test_pair_both_positive_and_negative_is_rejected() -> None:
    x = embeddings(4, 3, 0)
    bad = (torch.tensor([0, 0]), torch.tensor([1, 2]), torch.tensor([0, 0]), torch.tensor([3, 1]))
    with pytest.raises(ValueError, match=r"\(anchor 0, reference 1\) is both"):
        sup_con(x, indices_tuple=bad)


def test_module_and_defaults() -> None:
    x, y = embeddings(10, 3, 0), labels_with_pairs(10, 3, 0)
    module = SupConLoss(temperature=0.3, reduction="sum")
    torch.testing.assert_close(module(x, y), sup_con(x, y, temperature=0.3, reduction="sum"))
    assert SupConLoss().temperature == 0.1
    assert "reduction='sum'" in repr(module)
    with pytest.raises(ValueError, match="temperature must be finite and > 0; got -1"):
        SupConLoss(temperature=-1)
