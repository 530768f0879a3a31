from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import distances as pml_distances
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning import miners as pml_miners
from pytorch_metric_learning.reducers import DoNothingReducer

from graphpair.losses import NoPairsWarning, TripletMarginLoss, triplet_margin
from tests.losses.oracle import (
    assert_same_loss,
    batches,
    embeddings,
    labels_with_pairs,
    random_triplets,
)

PML_DISTANCE = {
    "euclidean": pml_distances.LpDistance,
    "squared_euclidean": lambda: pml_distances.LpDistance(power=2),
    "cosine": pml_distances.CosineSimilarity,
}


@settings(max_examples=30)
@given(
    batches(max_num=25),
    st.sampled_from(["euclidean", "squared_euclidean", "cosine"]),
    st.sampled_from([0.05, 0.3, 1.0]),
    st.sampled_from([(False, False), (True, False), (False, True)]),
)
def test_equals_pml(
    batch: tuple[torch.Tensor, torch.Tensor],
    distance: str,
    margin: float,
    options: tuple[bool, bool],
) -> None:
    x, y = batch
    swap, smooth = options
    oracle = pml.TripletMarginLoss(
        margin, swap=swap, smooth_loss=smooth, distance=PML_DISTANCE[distance]()
    )
    assert_same_loss(
        lambda: triplet_margin(
            x, y, margin=margin, swap=swap, smooth_loss=smooth, distance=distance
        ),
        lambda: oracle(x, y),
        [x],
    )


def test_ref_emb_unnormalised_and_explicit_indices_equal_pml() -> None:
    x, r = embeddings(14, 4, 5), embeddings(9, 4, 6)
    y, ry = labels_with_pairs(14, 3, 5), labels_with_pairs(9, 3, 6)
    assert_same_loss(
        lambda: triplet_margin(x, y, ref_emb=r, ref_labels=ry, margin=0.4),
        lambda: pml.TripletMarginLoss(0.4)(x, y, ref_emb=r, ref_labels=ry),
        [x, r],
    )
    raw = pml.TripletMarginLoss(0.5, distance=pml_distances.LpDistance(normalize_embeddings=False))
    assert_same_loss(
        lambda: triplet_margin(x, y, margin=0.5, normalize_embeddings=False), lambda: raw(x, y), [x]
    )
    triplets = random_triplets(y, 30, 2)
    for swap in (False, True):
        assert_same_loss(
            lambda s=swap: triplet_margin(x, None, triplets, margin=0.3, swap=s),
            lambda s=swap: pml.TripletMarginLoss(0.3, swap=s)(x, y, triplets),
            [x],
        )
    pairs = pml_miners.MultiSimilarityMiner()(x, y)  # joined on the anchor, PML's order
    ours = triplet_margin(x, y, pairs, margin=0.3, reduction="none")
    theirs = pml.TripletMarginLoss(0.3, reducer=DoNothingReducer())(x, y, pairs)
    torch.testing.assert_close(ours, theirs["loss"]["losses"])


def test_reduction_none_lists_every_triplet_in_pml_order() -> None:
    x, y = embeddings(12, 3, 7), labels_with_pairs(12, 3, 7)
    ours = triplet_margin(x, y, margin=0.2, reduction="none")
    theirs = pml.TripletMarginLoss(0.2, reducer=DoNothingReducer())(x, y)["loss"]["losses"]
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(triplet_margin(x, y, margin=0.2, reduction="sum"), ours.sum())


@settings(max_examples=15)
@given(batches(max_num=25), st.integers(1, 6), st.booleans())
def test_chunked_equals_dense(
    batch: tuple[torch.Tensor, torch.Tensor], chunk: int, smooth: bool
) -> None:
    x, y = batch
    for reduction in ("mean", "sum"):
        assert_same_loss(
            lambda r=reduction: triplet_margin(
                x, y, margin=0.3, smooth_loss=smooth, reduction=r, chunk_size=chunk
            ),
            lambda r=reduction: triplet_margin(
                x, y, margin=0.3, smooth_loss=smooth, reduction=r, chunk_size=len(y)
            ),
            [x],
            rtol=1e-10,
            atol=1e-10,
        )


def test_sorted_path_equals_enumerating_path() -> None:
    # the hinge without listing triplets (sorted negatives) against the listed triplets
    x, y = embeddings(30, 5, 3), labels_with_pairs(30, 4, 3)
    fast = lambda: triplet_margin(x, y, margin=0.4, reduction="sum", chunk_size=7)  # noqa: E731
    listed = lambda: triplet_margin(x, y, margin=0.4, reduction="none").sum()  # noqa: E731
    assert_same_loss(fast, listed, [x], rtol=1e-10, atol=1e-10)
    # float32 stays accurate thanks to the float64 prefix sums
    torch.testing.assert_close(
        triplet_margin(x.float(), y, margin=0.4).double(),
        triplet_margin(x, y, margin=0.4),
        rtol=1e-5,
        atol=1e-6,
    )


def test_enumerating_path_splits_positives_when_one_anchor_is_too_big(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graphpair.losses import _triplet

    x, y = embeddings(20, 3, 4), labels_with_pairs(20, 3, 4)
    expected = [
        triplet_margin(x, y, margin=0.3, smooth_loss=True),
        triplet_margin(x, y, margin=0.3, reduction="none"),
    ]
    seen: list[tuple[int, int, int]] = []
    original = _triplet._cubic_item

    def recording(anchors: torch.Tensor, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        seen.append((anchors.size(0), kwargs["col_start"], kwargs["col_stop"]))  # type: ignore[arg-type]
        return original(anchors, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_triplet, "_cubic_item", recording)
    # a budget below R * R cells: one anchor per block, reference columns in chunks of 7
    monkeypatch.setattr(_triplet, "LOSS_BLOCK_BYTES", 20 * 7 * 8 * _triplet._CUBIC_TENSORS)
    assert_same_loss(
        lambda: triplet_margin(x, y, margin=0.3, smooth_loss=True), lambda: expected[0], [x]
    )
    assert {(rows, start, stop) for rows, start, stop in seen} == {
        (1, 0, 7),
        (1, 7, 14),
        (1, 14, 20),
    }
    torch.testing.assert_close(triplet_margin(x, y, margin=0.3, reduction="none"), expected[1])


def test_gradcheck() -> None:
    x, y = embeddings(7, 3, 2), labels_with_pairs(7, 3, 2)
    for chunk, swap, smooth in ((None, False, False), (2, False, False), (3, True, True)):
        assert torch.autograd.gradcheck(
            lambda t, c=chunk, s=swap, m=smooth: triplet_margin(
                t, y, margin=0.5, swap=s, smooth_loss=m, chunk_size=c
            ),
            (x,),
        )
    triplets = random_triplets(y, 6, 0)
    assert torch.autograd.gradcheck(lambda t: triplet_margin(t, None, triplets, margin=0.5), (x,))


@pytest.mark.parametrize(
    "labels", [torch.arange(4), torch.zeros(4, dtype=torch.long), torch.tensor([0])]
)
def test_no_triplet_gives_attached_zero_and_warns_once(labels: torch.Tensor) -> None:
    x = embeddings(len(labels), 3, 0)
    with pytest.warns(NoPairsWarning, match="triplet_margin: the batch has no triplet"):
        loss = triplet_margin(x, labels)
    loss.backward()
    assert loss.item() == 0.0
    assert x.grad is not None
    assert not x.grad.any()
    assert pml.TripletMarginLoss()(x, labels).item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert triplet_margin(x, labels, reduction="none").shape == (0,)


def test_errors_and_module() -> None:
    x, y = embeddings(6, 3, 0), labels_with_pairs(6, 2, 0)
    bad = (torch.tensor([0, 0]), torch.tensor([1, 2]), torch.tensor([2, 1]))
    with pytest.raises(ValueError, match="is both"):
        triplet_margin(x, y, bad)
    with pytest.raises(ValueError, match="equal lengths"):
        triplet_margin(x, y, (torch.tensor([0]), torch.tensor([1]), torch.tensor([2, 3])))
    with pytest.raises(ValueError, match="margin must be finite"):
        triplet_margin(x, y, margin=float("inf"))
    module = TripletMarginLoss(0.2, swap=True)
    assert TripletMarginLoss().margin == 0.05  # PML's default
    torch.testing.assert_close(module(x, y), triplet_margin(x, y, margin=0.2, swap=True))
    assert "swap=True" in repr(module)
