"""``metric_values``: OGB's values, and one logged warning for a Hits@K without K negatives."""

from __future__ import annotations

import logging

import pytest
import torch
from ogb.linkproppred import Evaluator as OGBEvaluator

from graphpair.train._link_eval import _warn_small_pool, metric_values


def test_shared_pool_values_equal_ogbs() -> None:
    gen = torch.Generator().manual_seed(0)
    pos = (torch.randn(50, generator=gen) * 2).round()
    neg = (torch.randn(400, generator=gen) * 2).round()  # ties on purpose
    ours = metric_values(["hits@1", "hits@20", "hits@100", "rocauc"], pos, neg)
    reference = OGBEvaluator("ogbl-ppa")
    for k in (1, 20, 100):
        reference.K = k
        assert (
            ours[f"hits@{k}"] == reference.eval({"y_pred_pos": pos, "y_pred_neg": neg})[f"hits@{k}"]
        )
    rocauc = OGBEvaluator("ogbl-vessel").eval({"y_pred_pos": pos, "y_pred_neg": neg})["rocauc"]
    assert ours["rocauc"] == pytest.approx(rocauc, abs=1e-12)


def test_per_positive_values_equal_the_means_of_ogbs_lists() -> None:
    gen = torch.Generator().manual_seed(1)
    pos = (torch.randn(40, generator=gen) * 2).round()
    neg = (torch.randn(40, 30, generator=gen) * 2).round()
    ours = metric_values(["mrr", "hits@1", "hits@3", "hits@10"], pos, neg)
    lists = OGBEvaluator("ogbl-citation2").eval({"y_pred_pos": pos, "y_pred_neg": neg})
    assert ours["mrr"] == pytest.approx(lists["mrr_list"].double().mean().item(), rel=1e-6)
    for k in (1, 3, 10):
        assert ours[f"hits@{k}"] == lists[f"hits@{k}_list"].sum().item() / 40


def test_a_pool_smaller_than_k_is_logged_once_not_warned_every_epoch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _warn_small_pool.cache_clear()
    pos, neg = torch.randn(5), torch.randn(49)
    with caplog.at_level(logging.WARNING, logger="graphpair.train._link_eval"):
        for _ in range(3):  # three evaluations (epochs)
            assert metric_values(["hits@100", "hits@20"], pos, neg)["hits@100"] == 1.0
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "hits@100: only 49 negatives, fewer than K" in messages[0]
    assert "'rocauc'" in messages[0]
