from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from ogb.lsc import PCQM4Mv2Evaluator
from sklearn.metrics import average_precision_score, roc_auc_score  # type: ignore[import-untyped]

from graphpair.metrics import (
    Evaluator,
    accuracy,
    average_precision,
    balanced_accuracy,
    mae,
    rmse,
    roc_auc,
)
from tests.metrics.oracle import GraphEvaluator, close, tied_scores

NAN = math.nan

MetricFn = Callable[[torch.Tensor, torch.Tensor], float]


def ogb_graph(metric: str, num_tasks: int) -> GraphEvaluator:
    # OGB fixes the task count per dataset and checks it; setting it on the object lets one
    # evaluator serve every T the strategies draw (the computation does not depend on it).
    name = {"rocauc": "ogbg-molhiv", "ap": "ogbg-molpcba", "rmse": "ogbg-molesol"}.get(
        metric, "ogbg-ppa"
    )
    evaluator = GraphEvaluator(name)
    assert evaluator.eval_metric == metric
    evaluator.num_tasks = num_tasks
    return evaluator


@st.composite
def labelled_tables(
    draw: st.DrawFn, labels: list[float], *, min_rows: int = 0, every_task_labelled: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``y_true`` ``[N, T]`` with labels from ``labels`` (NaN = missing), tie-heavy ``y_pred``."""
    n, t = draw(st.integers(min_rows, 25)), draw(st.integers(1, 4))
    y_true = np.array(draw(st.lists(st.sampled_from(labels), min_size=n * t, max_size=n * t)))
    y_true = y_true.reshape(n, t)
    if every_task_labelled and n > 0:
        rows = draw(st.lists(st.integers(0, n - 1), min_size=t, max_size=t))
        for task, row in enumerate(rows):
            if math.isnan(y_true[row, task]):
                y_true[row, task] = draw(st.sampled_from([v for v in labels if v == v]))
    y_pred = np.array(draw(st.lists(tied_scores(), min_size=n * t, max_size=n * t)))
    return y_true, y_pred.reshape(n, t)


def check_against_ogb(
    metric: str, ours_fn: MetricFn, y_true: np.ndarray, y_pred: np.ndarray
) -> None:
    evaluator = ogb_graph(metric, y_true.shape[1])
    scored = any((column == 1).any() and (column == 0).any() for column in y_true.T)
    if not scored:
        with pytest.raises(RuntimeError, match="No positively labeled data"):
            evaluator.eval({"y_true": y_true, "y_pred": y_pred})
        with pytest.raises(ValueError, match="y_true has no task with both"):
            ours_fn(torch.from_numpy(y_true), torch.from_numpy(y_pred))
        return
    expected = evaluator.eval({"y_true": y_true, "y_pred": y_pred})[metric]
    assert close(ours_fn(torch.from_numpy(y_true), torch.from_numpy(y_pred)), expected)
    # Torch inputs to OGB give the same; float32 scores keep their ties.
    torch_expected = evaluator.eval(
        {"y_true": torch.from_numpy(y_true), "y_pred": torch.from_numpy(y_pred).float()}
    )[metric]
    assert close(
        ours_fn(torch.from_numpy(y_true), torch.from_numpy(y_pred).float()), torch_expected
    )


@given(table=labelled_tables([0.0, 1.0, NAN, NAN]))
@pytest.mark.parametrize(("metric", "fn"), [("rocauc", roc_auc), ("ap", average_precision)])
def test_ranking_metrics_equal_ogb(
    metric: str, fn: MetricFn, table: tuple[np.ndarray, np.ndarray]
) -> None:
    check_against_ogb(metric, fn, *table)


@given(table=labelled_tables([0.0, 1.0], min_rows=2))
@pytest.mark.parametrize(("metric", "fn"), [("rocauc", roc_auc), ("ap", average_precision)])
def test_ranking_metrics_equal_ogb_integer_labels(
    metric: str, fn: MetricFn, table: tuple[np.ndarray, np.ndarray]
) -> None:
    y_true, y_pred = table
    check_against_ogb(metric, fn, y_true.astype(np.int64), y_pred)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("decimals", [0, 1, 6])
def test_ranking_metrics_equal_sklearn_on_large_inputs(seed: int, decimals: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, size=20_000)
    y_score = np.round(rng.normal(size=20_000) + 0.3 * y_true, decimals)
    t, s = torch.from_numpy(y_true), torch.from_numpy(y_score)
    assert close(roc_auc(t, s), roc_auc_score(y_true, y_score))
    assert close(average_precision(t, s), average_precision_score(y_true, y_score))


def test_ranking_metrics_hand_examples() -> None:
    y_true = torch.tensor([0, 1, 1, 0])
    y_score = torch.tensor([0.1, 0.5, 0.5, 0.5])
    # (pos 0.5 vs neg 0.1) x2 wins, (pos 0.5 vs neg 0.5) x2 ties: (2 + 1) / 4.
    assert roc_auc(y_true, y_score) == 0.75
    # One threshold at 0.5 holds both positives at precision 2/3.
    assert average_precision(y_true, y_score) == pytest.approx(2 / 3, abs=1e-15)
    # -0.0 ties with 0.0.
    assert roc_auc(torch.tensor([1, 0]), torch.tensor([-0.0, 0.0])) == 0.5
    assert roc_auc(torch.tensor([1, 0]), torch.tensor([1.0, 0.0])) == 1.0
    assert roc_auc(torch.tensor([1, 0]), torch.tensor([0.0, 1.0])) == 0.0


def test_single_class_tasks_are_skipped() -> None:
    y_true = torch.tensor([[0.0, 0.0, NAN], [0.0, 1.0, 1.0], [0.0, 1.0, NAN], [0.0, 0.0, 1.0]])
    y_score = torch.tensor([[0.3, 0.1, 9.0], [0.2, 0.5, 0.0], [0.1, 0.4, 1.0], [0.0, 0.6, 2.0]])
    # Tasks 0 (only 0s) and 2 (only 1s) are skipped, so the mean is task 1's score alone.
    assert roc_auc(y_true, y_score) == roc_auc(y_true[:, 1], y_score[:, 1]) == 0.5
    assert average_precision(y_true, y_score) == average_precision(y_true[:, 1], y_score[:, 1])
    expected = GraphEvaluator("ogbg-molclintox")  # 2 tasks
    both = {"y_true": y_true[:, :2].numpy(), "y_pred": y_score[:, :2].numpy()}
    assert roc_auc(y_true[:, :2], y_score[:, :2]) == expected.eval(both)["rocauc"]


def test_nan_scores_only_matter_on_labelled_rows() -> None:
    y_true = torch.tensor([[0.0, 0.0], [1.0, 0.0], [NAN, 0.0]])
    y_score = torch.tensor([[0.1, NAN], [0.9, 0.0], [NAN, 1.0]])
    # Task 1 has only negatives and is skipped, so its NaN score is never looked at (as in OGB);
    # task 0's NaN score sits on an unlabelled row.
    assert roc_auc(y_true, y_score) == 1.0
    assert average_precision(y_true, y_score) == 1.0
    evaluator = ogb_graph("rocauc", 2)
    assert evaluator.eval({"y_true": y_true.numpy(), "y_pred": y_score.numpy()})["rocauc"] == 1.0


@pytest.mark.parametrize("bad", [NAN, math.inf, -math.inf])
def test_non_finite_score_on_a_labelled_row_is_an_error(bad: float) -> None:
    y_true, y_score = torch.tensor([0.0, 1.0, 1.0]), torch.tensor([0.0, bad, 1.0])
    for fn in (roc_auc, average_precision):
        with pytest.raises(ValueError, match="y_score must be finite on the labelled rows; task 0"):
            fn(y_true, y_score)
    # scikit-learn (behind OGB) refuses them too.
    with pytest.raises(ValueError, match="Input contains"):
        ogb_graph("rocauc", 1).eval({"y_true": y_true.view(-1, 1), "y_pred": y_score.view(-1, 1)})


def test_ranking_metric_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"y_true has no task with both.*2 task\(s\); ROC-AUC"):
        roc_auc(torch.zeros(5, 2), torch.rand(5, 2))
    with pytest.raises(ValueError, match="y_true has no task with both"):
        average_precision(torch.full((3,), NAN), torch.rand(3))
    with pytest.raises(ValueError, match="y_true has no task with both"):
        roc_auc(torch.zeros(0, 1), torch.zeros(0, 1))
    with pytest.raises(ValueError, match=r"y_true must hold binary labels 0 or 1.*e\.g\. -1"):
        roc_auc(torch.tensor([0.0, 1.0, -1.0]), torch.rand(3))
    with pytest.raises(
        ValueError, match=r"y_true and y_score must have the same shape.*\(4,\) and \(4, 1\)"
    ):
        roc_auc(torch.tensor([0, 1, 0, 1]), torch.rand(4, 1))
    with pytest.raises(ValueError, match="y_score must have 1 or 2 dimension"):
        average_precision(torch.zeros(2, 2), torch.zeros(2, 2, 2))
    with pytest.raises(TypeError, match="y_true must be a torch.Tensor"):
        roc_auc(np.array([0, 1]), torch.rand(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="y_true must have at least one task"):
        roc_auc(torch.zeros(3, 0), torch.zeros(3, 0))


def test_bool_labels_and_1d_inputs_equal_2d() -> None:
    gen = torch.Generator().manual_seed(0)
    y_true = torch.rand(50, generator=gen) > 0.5
    y_score = (torch.rand(50, generator=gen) * 5).round()
    for fn in (roc_auc, average_precision):
        assert fn(y_true, y_score) == fn(y_true.view(-1, 1).double(), y_score.view(-1, 1))


@given(table=labelled_tables([-1.5, 0.0, 2.0, 3.25, NAN], min_rows=1, every_task_labelled=True))
def test_rmse_equals_ogb(table: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_pred = table
    expected = ogb_graph("rmse", y_true.shape[1]).eval({"y_true": y_true, "y_pred": y_pred})
    assert close(rmse(torch.from_numpy(y_true), torch.from_numpy(y_pred)), expected["rmse"])


def loop_mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    per_task = []
    for task in range(y_true.shape[1]):
        errors = [
            abs(t - p) for t, p in zip(y_true[:, task], y_pred[:, task], strict=True) if t == t
        ]
        per_task.append(math.fsum(errors) / len(errors))
    return math.fsum(per_task) / len(per_task)


@given(table=labelled_tables([-1.5, 0.0, 2.0, 3.25, NAN], min_rows=1, every_task_labelled=True))
def test_mae_equals_a_plain_loop(table: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_pred = table
    assert close(mae(torch.from_numpy(y_true), torch.from_numpy(y_pred)), loop_mae(y_true, y_pred))


@given(
    y=st.lists(
        st.tuples(st.floats(-5, 5, allow_nan=False), st.floats(-5, 5, allow_nan=False)),
        min_size=1,
        max_size=30,
    )
)
def test_mae_1d_equals_ogb_pcqm4mv2(y: list[tuple[float, float]]) -> None:
    y_true = np.array([t for t, _ in y])
    y_pred = np.array([p for _, p in y])
    expected = PCQM4Mv2Evaluator().eval({"y_true": y_true, "y_pred": y_pred})["mae"]
    assert close(mae(torch.from_numpy(y_true), torch.from_numpy(y_pred)), expected)


@given(table=labelled_tables([0.0, 1.0, 2.0, NAN], min_rows=1, every_task_labelled=True))
def test_accuracy_equals_ogb(table: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_pred = table
    y_pred = np.abs(np.round(y_pred)) % 3  # class labels 0, 1, 2
    expected = ogb_graph("acc", y_true.shape[1]).eval({"y_true": y_true, "y_pred": y_pred})
    assert accuracy(torch.from_numpy(y_true), torch.from_numpy(y_pred)) == expected["acc"]


def test_accuracy_integer_labels() -> None:
    y_true = torch.tensor([[0], [3], [2], [2]])
    y_pred = torch.tensor([[0], [3], [1], [2]])
    assert accuracy(y_true, y_pred) == 0.75
    assert accuracy(y_true.view(-1), y_pred.view(-1).float()) == 0.75


def test_regression_nan_prediction_gives_nan_as_ogb() -> None:
    y_true, y_pred = np.array([[1.0], [2.0]]), np.array([[NAN], [2.0]])
    assert math.isnan(ogb_graph("rmse", 1).eval({"y_true": y_true, "y_pred": y_pred})["rmse"])
    assert math.isnan(rmse(torch.from_numpy(y_true), torch.from_numpy(y_pred)))
    assert math.isnan(mae(torch.from_numpy(y_true), torch.from_numpy(y_pred)))


def test_task_without_labels_is_an_error() -> None:
    y_true = torch.tensor([[1.0, NAN], [2.0, NAN]])
    y_pred = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    for fn in (rmse, mae, accuracy):
        with pytest.raises(ValueError, match=r"y_true has no label in task 1 \(all 2 entries"):
            fn(y_true, y_pred)
    # OGB returns NaN there (with a RuntimeWarning) for RMSE.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ogb_graph("rmse", 2).eval({"y_true": y_true.numpy(), "y_pred": y_pred.numpy()})
    assert math.isnan(result["rmse"])
    with pytest.raises(ValueError, match="y_true has no label in task 0"):
        rmse(torch.zeros(0), torch.zeros(0))


def test_regression_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"y_true and y_pred must have the same shape"):
        rmse(torch.zeros(4), torch.zeros(5))
    with pytest.raises(TypeError, match="y_pred must be a torch.Tensor"):
        accuracy(torch.zeros(4), [0, 0, 0, 0])  # type: ignore[arg-type]


@given(
    labels=st.lists(st.integers(0, 3), min_size=2, max_size=60),
    preds=st.lists(st.integers(0, 3), min_size=60, max_size=60),
)
def test_balanced_accuracy_matches_sklearn(labels: list[int], preds: list[int]) -> None:
    from sklearn.metrics import balanced_accuracy_score  # type: ignore[import-untyped]

    y_true = torch.tensor(labels)
    y_pred = torch.tensor(preds[: len(labels)])
    with warnings.catch_warnings():  # sklearn warns when y_pred has classes y_true lacks
        warnings.simplefilter("ignore", UserWarning)
        expected = balanced_accuracy_score(y_true.numpy(), y_pred.numpy())
    assert abs(balanced_accuracy(y_true, y_pred) - expected) < 1e-12
    evaluator = Evaluator("Balanced-Accuracy")
    assert evaluator({"y_true": y_true, "y_pred": y_pred})["balanced_acc"] == pytest.approx(
        expected, abs=1e-12
    )
