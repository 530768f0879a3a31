from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import distances as pml_distances
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning import miners as pml_miners
from pytorch_metric_learning.reducers import DoNothingReducer

from graphpair.losses import ContrastiveLoss, NoPairsWarning, contrastive_margin
from tests.losses.oracle import assert_same_loss, batches, embeddings, labels_with_pairs

PML_DISTANCE = {
    "euclidean": pml_distances.LpDistance,
    "squared_euclidean": lambda: pml_distances.LpDistance(power=2),
    "cosine": pml_distances.CosineSimilarity,
}


@settings(max_examples=30)
@given(
    batches(),
    st.sampled_from(["euclidean", "squared_euclidean", "cosine"]),
    st.sampled_from([(0.0, 1.0), (0.2, 0.9), (0.9, 0.1)]),
)
def test_equals_pml(
    batch: tuple[torch.Tensor, torch.Tensor], distance: str, margins: tuple[float, float]
) -> None:
    x, y = batch
    oracle = pml.ContrastiveLoss(*margins, distance=PML_DISTANCE[distance]())
    assert_same_loss(
        lambda: contrastive_margin(
            x, y, pos_margin=margins[0], neg_margin=margins[1], distance=distance
        ),
        lambda: oracle(x, y),
        [x],
    )


def test_unnormalised_and_ref_emb_and_indices_equal_pml() -> None:
    x, r = embeddings(14, 4, 5), embeddings(9, 4, 6)
    y, ry = labels_with_pairs(14, 3, 5), labels_with_pairs(9, 3, 6)
    raw = pml.ContrastiveLoss(
        0.5, 2.0, distance=pml_distances.LpDistance(normalize_embeddings=False)
    )
    assert_same_loss(
        lambda: contrastive_margin(
            x, y, pos_margin=0.5, neg_margin=2.0, normalize_embeddings=False
        ),
        lambda: raw(x, y),
        [x],
    )
    assert_same_loss(
        lambda: contrastive_margin(x, y, ref_emb=r, ref_labels=ry),
        lambda: pml.ContrastiveLoss()(x, y, ref_emb=r, ref_labels=ry),
        [x, r],
    )
    pairs = pml_miners.MultiSimilarityMiner()(x, y)
    assert_same_loss(
        lambda: contrastive_margin(x, y, pairs), lambda: pml.ContrastiveLoss()(x, y, pairs), [x]
    )


def test_reduction_none_is_positive_then_negative_pairs() -> None:
    x, y = embeddings(10, 3, 2), labels_with_pairs(10, 3, 2)
    ours = contrastive_margin(x, y, reduction="none")
    out = pml.ContrastiveLoss(reducer=DoNothingReducer())(x, y)
    theirs = torch.cat([out["pos_loss"]["losses"], out["neg_loss"]["losses"]])
    torch.testing.assert_close(ours, theirs)
    z = F.normalize(x, dim=1)
    d = torch.cdist(z, z)
    same = y.unsqueeze(1) == y.unsqueeze(0)
    same.fill_diagonal_(False)
    pos = d[same]
    torch.testing.assert_close(ours[: pos.numel()], pos)


@settings(max_examples=15)
@given(batches(max_num=30), st.integers(1, 7))
def test_chunked_equals_dense(batch: tuple[torch.Tensor, torch.Tensor], chunk: int) -> None:
    x, y = batch
    for reduction in ("mean", "sum", "none"):
        assert_same_loss(
            lambda r=reduction: contrastive_margin(x, y, reduction=r, chunk_size=chunk),
            lambda r=reduction: contrastive_margin(x, y, reduction=r, chunk_size=len(y)),
            [x],
            rtol=1e-10,
            atol=1e-10,
        )


def test_gradcheck() -> None:
    x, y = embeddings(7, 3, 2), labels_with_pairs(7, 3, 2)
    for chunk, distance in ((None, "euclidean"), (2, "cosine"), (3, "squared_euclidean")):
        assert torch.autograd.gradcheck(
            lambda t, c=chunk, d=distance: contrastive_margin(
                t, y, pos_margin=0.1, neg_margin=1.5, distance=d, chunk_size=c
            ),
            (x,),
        )


def test_only_one_kind_of_pair_trains_on_that_term() -> None:
    x = embeddings(5, 3, 1)
    for labels in (torch.zeros(5, dtype=torch.long), torch.arange(5)):
        ours = contrastive_margin(x, labels, pos_margin=0.1)
        torch.testing.assert_close(ours, pml.ContrastiveLoss(0.1)(x, labels))
        assert ours.item() > 0


def test_identical_rows_have_finite_gradients() -> None:
    x = embeddings(3, 3, 0).detach()
    x = torch.cat([x, x[:1]]).requires_grad_()  # rows 0 and 3 coincide: distance 0
    loss = contrastive_margin(x, torch.tensor([0, 1, 1, 0]), pos_margin=-1.0)
    loss.backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()


def test_no_pair_gives_attached_zero_and_warns_once() -> None:
    x = embeddings(1, 3, 0)
    with pytest.warns(NoPairsWarning, match="contrastive_margin: the batch has no pair"):
        loss = contrastive_margin(x, torch.tensor([2]))
    loss.backward()
    assert loss.item() == 0.0
    assert x.grad is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert contrastive_margin(x, torch.tensor([2]), reduction="none").shape == (0,)


def test_errors_and_module() -> None:
    x, y = embeddings(6, 3, 0), labels_with_pairs(6, 2, 0)
    with pytest.raises(ValueError, match="distance must be one of"):
        contrastive_margin(x, y, distance="manhattan")
    with pytest.raises(ValueError, match="normalize_embeddings=False cannot be combined"):
        contrastive_margin(x, y, distance="cosine", normalize_embeddings=False)
    bad = (torch.tensor([0]), torch.tensor([1]), torch.tensor([0]), torch.tensor([1]))
    with pytest.raises(ValueError, match="is both"):
        contrastive_margin(x, y, bad)
    module = ContrastiveLoss(neg_margin=0.7, distance="Squared-Euclidean")
    assert module.distance == "squared_euclidean"
    assert (module.pos_margin, module.neg_margin) == (
        0.0,
        0.7,
    )
    torch.testing.assert_close(
        module(x, y), contrastive_margin(x, y, neg_margin=0.7, distance="squared_euclidean")
    )
    assert "neg_margin=0.7" in repr(module)
