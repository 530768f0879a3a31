from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import miners as pml_miners

from graphpair.losses import MultiSimilarityMiner, multi_similarity_miner
from tests.losses.oracle import batches, embeddings, labels_with_pairs


def as_sets(mined: tuple[torch.Tensor, ...], width: int) -> tuple[set[int], set[int]]:
    a1, p, a2, n = (t.tolist() for t in mined)
    return {i * width + j for i, j in zip(a1, p, strict=True)}, {
        i * width + j for i, j in zip(a2, n, strict=True)
    }


@settings(max_examples=30)
@given(batches(), st.sampled_from([0.0, 0.1, 0.5]), st.sampled_from([None, 1, 4]))
def test_same_pair_sets_as_pml(
    batch: tuple[torch.Tensor, torch.Tensor], eps: float, chunk: int | None
) -> None:
    x, y = batch
    ours = multi_similarity_miner(x, y, epsilon=eps, chunk_size=chunk)
    theirs = pml_miners.MultiSimilarityMiner(eps)(x, y)
    assert as_sets(ours, len(y)) == as_sets(theirs, len(y))
    for a, b in zip(ours[::2], ours[1::2], strict=True):  # ordered by anchor, then reference
        keys = a * len(y) + b
        assert torch.equal(keys, keys.sort().values)


def test_ref_emb_equals_pml() -> None:
    x, r = embeddings(12, 4, 5), embeddings(9, 4, 6)
    y, ry = labels_with_pairs(12, 3, 5), labels_with_pairs(9, 3, 6)
    ours = multi_similarity_miner(x, y, r, ry)
    theirs = pml_miners.MultiSimilarityMiner()(x, y, r, ry)
    assert as_sets(ours, 9) == as_sets(theirs, 9)


def test_no_gradient_and_no_pairs() -> None:
    x, y = embeddings(8, 3, 0), labels_with_pairs(8, 2, 0)
    mined = multi_similarity_miner(x, y)
    assert all(not t.requires_grad and t.dtype == torch.long for t in mined)
    for labels in (torch.arange(5), torch.zeros(5, dtype=torch.long), torch.tensor([1])):
        out = multi_similarity_miner(embeddings(len(labels), 3, 1), labels)
        assert [t.numel() for t in out] == [0, 0, 0, 0]


def test_module_and_errors() -> None:
    x, y = embeddings(8, 3, 0), labels_with_pairs(8, 2, 0)
    miner = MultiSimilarityMiner(epsilon=0.2)
    for a, b in zip(miner(x, y), multi_similarity_miner(x, y, epsilon=0.2), strict=True):
        assert torch.equal(a, b)
    assert MultiSimilarityMiner().epsilon == 0.1
    assert "epsilon=0.2" in repr(miner)
    with pytest.raises(ValueError, match="needs labels"):
        multi_similarity_miner(x, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epsilon must be finite"):
        multi_similarity_miner(x, y, epsilon=float("inf"))
