"""The shipped link tables' metric rule for user graphs (issue 25): Hits@K only with enough
shared negatives, else ROC-AUC."""

from __future__ import annotations

import pytest
import torch

from graphpair.data import link_split, load_dataset
from graphpair.metrics import Evaluator
from graphpair.train._link_tables import HITS_NEGATIVES_PER_K, LINK_CONFIGS, user_graph_metrics

DEFAULT = ("hits@20", "hits@50", "hits@100")


def smaller_pool(name: str) -> int:
    split = link_split(load_dataset(name), seed=0)
    return min(split.valid_neg[0].numel(), split.test_neg[0].numel())


@pytest.mark.parametrize("num_negatives", [0, 1, 19, 199, 200, 499, 500, 999, 1000, 10**6])
def test_hits_at_k_needs_ten_negatives_per_unit_of_k(num_negatives: int) -> None:
    metrics, metric = user_graph_metrics(num_negatives, DEFAULT, "hits@100")
    # Naive restatement of the rule.
    hits = [k for k in (20, 50, 100) if num_negatives >= 10 * k]
    expected = tuple(f"hits@{k}" for k in hits) + (("rocauc",) if len(hits) < 3 else ())
    assert metrics == expected
    assert metric == ("hits@100" if 100 in hits else "rocauc")
    assert metric in metrics


def test_other_metrics_stay_and_rocauc_is_not_repeated() -> None:
    assert user_graph_metrics(30, ("mrr", "rocauc", "hits@100"), "mrr") == (
        ("mrr", "rocauc"),
        "mrr",
    )
    assert user_graph_metrics(30, ("hits@3", "hits@20"), "hits@3") == (
        ("hits@3", "rocauc"),
        "hits@3",
    )
    with pytest.raises(ValueError, match="num_negatives must be an int >= 0; got -1"):
        user_graph_metrics(-1, DEFAULT, "hits@100")
    with pytest.raises(ValueError, match="metric must be one of metrics"):
        user_graph_metrics(10, DEFAULT, "mrr")
    assert HITS_NEGATIVES_PER_K == 10


def test_les_miserables_gets_a_meaningful_default_and_cora_keeps_hits_at_100() -> None:
    # Les Misérables under NCN's split: ~50 test negatives, so Hits@100 is 1.0 for any scores
    # (what made NCNC and GAE both report 100.00 ± 0.00); the rule picks ROC-AUC instead.
    pool = smaller_pool("les-miserables")
    assert pool < 100
    random_scores = {"y_pred_pos": torch.randn(10), "y_pred_neg": torch.randn(pool)}
    with pytest.warns(UserWarning, match=f"only {pool} negatives, fewer than K = 100"):
        assert Evaluator("hits@100")(random_scores) == {"hits@100": 1.0}
    assert user_graph_metrics(pool, DEFAULT, "hits@100") == (("rocauc",), "rocauc")
    # The embedded Cora-sized default graph keeps the Cora configuration's metrics.
    cora = LINK_CONFIGS["default"]
    pool = smaller_pool("default")
    assert pool >= 1000
    assert user_graph_metrics(pool, cora["metrics"], cora["metric"]) == (DEFAULT, "hits@100")
