"""Per-task graph/node metrics, identical to ``ogb.graphproppred.Evaluator``.

Every function takes ``y_true`` and a prediction of the same shape, ``[N]`` (one task) or
``[N, T]`` (T tasks), scores each task on its labelled rows (a NaN in ``y_true`` means "no label")
and returns the unweighted mean over tasks as a Python float. Arithmetic is float64.

ROC-AUC and average precision follow scikit-learn's ``roc_auc_score`` and
``average_precision_score`` (which OGB calls), including their treatment of tied scores, but
are computed in torch from exact integer counts.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from graphpair._validation import check_tensor, describe

__all__ = [
    "accuracy",
    "average_precision",
    "balanced_accuracy",
    "mae",
    "rmse",
    "roc_auc",
]


def _as_float64(name: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {describe(value)}")
    check_tensor(name, value, dim=(1, 2))
    if value.is_complex():
        raise ValueError(f"{name} must have a real dtype; got {value.dtype}")
    return value.detach().to(torch.float64)


def _pair(
    y_true: object, y_pred: object, pred_name: str, binary: bool = False
) -> tuple[Tensor, Tensor]:
    """Validate and return ``(y_true, y_pred)`` as float64 ``[N, T]`` on ``y_pred``'s device."""
    true = _as_float64("y_true", y_true)
    pred = _as_float64(pred_name, y_pred)
    if true.shape != pred.shape:
        raise ValueError(
            f"y_true and {pred_name} must have the same shape ([N] or [N, T]); got "
            f"{tuple(true.shape)} and {tuple(pred.shape)}"
        )
    if true.dim() == 1:
        true, pred = true.view(-1, 1), pred.view(-1, 1)  # [N, 1]
    if true.size(1) == 0:
        raise ValueError(
            f"y_true must have at least one task (column); got shape {tuple(true.shape)}"
        )
    true = true.to(pred.device)
    if binary:
        labelled = true[~true.isnan()]
        bad = labelled[(labelled != 0) & (labelled != 1)]
        if bad.numel() > 0:
            raise ValueError(
                f"y_true must hold binary labels 0 or 1 (NaN for a missing label); found "
                f"{bad.numel()} other entries, e.g. {bad[0].item()}"
            )
    return true, pred


def _check_scores(pred_name: str, task: int, scores: Tensor) -> None:
    # scikit-learn refuses NaN and infinite scores; only the labelled rows of a scored task count,
    # as in OGB.
    if not bool(torch.isfinite(scores).all()):
        raise ValueError(
            f"{pred_name} must be finite on the labelled rows; task {task} holds NaN or "
            f"infinite scores"
        )


def _score_groups(labels: Tensor, scores: Tensor) -> tuple[Tensor, Tensor]:
    """Positives and negatives per distinct score, highest score first.

    Returns ``(pos_per_group, neg_per_group)``, int64 ``[G]`` for the G distinct scores in
    decreasing order. Equality is ``==`` (so ``-0.0`` ties with ``0.0``, as in scikit-learn).
    """
    order = torch.argsort(scores, descending=True)
    sorted_scores, sorted_labels = scores[order], labels[order].to(torch.int64)
    new_group = torch.ones_like(sorted_labels, dtype=torch.bool)
    new_group[1:] = sorted_scores[1:] != sorted_scores[:-1]
    group = torch.cumsum(new_group.to(torch.int64), 0) - 1  # [n] group id of each row
    num_groups = int(group[-1]) + 1
    total = torch.zeros(num_groups, dtype=torch.int64, device=scores.device)
    total.index_add_(0, group, torch.ones_like(sorted_labels))
    pos = torch.zeros_like(total).index_add_(0, group, sorted_labels)
    return pos, total - pos


def _binary_roc_auc(labels: Tensor, scores: Tensor) -> float:
    # Area under the ROC step curve = P(s+ > s-) + P(s+ == s-) / 2 over all (positive, negative)
    # pairs, which is what trapezoidal integration of the tied-threshold curve gives. Counted
    # doubled so that everything stays an exact integer until the single final division.
    pos, neg = _score_groups(labels, scores)
    neg_below = neg.sum() - torch.cumsum(neg, 0)  # [G] negatives with a lower score
    twice_wins = int((pos * (2 * neg_below + neg)).sum())
    return twice_wins / (2 * int(pos.sum()) * int(neg.sum()))


def _binary_average_precision(labels: Tensor, scores: Tensor) -> float:
    # Step-function integral of precision over recall: each distinct threshold (tied scores
    # form one threshold) contributes its recall increment times its precision. No
    # interpolation, as scikit-learn's average_precision_score.
    pos, neg = _score_groups(labels, scores)
    tp = torch.cumsum(pos, 0)
    predicted = tp + torch.cumsum(neg, 0)
    precision = tp.to(torch.float64) / predicted.to(torch.float64)
    return float((pos.to(torch.float64) * precision).sum()) / int(pos.sum())


def _ranking_metric(
    y_true: Tensor,
    y_score: Tensor,
    binary_metric: Callable[[Tensor, Tensor], float],
    what: str,
) -> float:
    true, score = _pair(y_true, y_score, "y_score", binary=True)
    # One task per row, contiguous, so that the per-task slices below are cheap.
    true_t, score_t = true.t().contiguous(), score.t().contiguous()  # [T, N]
    values: list[float] = []
    for task in range(true_t.size(0)):
        labels, scores = true_t[task], score_t[task]
        # A task is scored only when it has both a positive and a negative label (OGB's rule).
        if not (bool((labels == 1).any()) and bool((labels == 0).any())):
            continue
        labelled = ~labels.isnan()
        labels, scores = labels[labelled], scores[labelled]
        _check_scores("y_score", task, scores)
        values.append(binary_metric(labels, scores))
    if not values:
        raise ValueError(
            f"y_true has no task with both a positive (1) and a negative (0) label among its "
            f"{true.size(1)} task(s); {what} is undefined"
        )
    return sum(values) / len(values)


def roc_auc(y_true: Tensor, y_score: Tensor) -> float:
    r"""ROC-AUC averaged over tasks, as OGB's ``rocauc`` evaluator (ogbg-molhiv, -molbace ...).

    For each task with at least one positive and one negative label, on its labelled rows:

    .. math::
        \mathrm{AUC} = \frac{1}{n_+ n_-} \sum_{i:\,y_i=1} \sum_{j:\,y_j=0}
            \Big([\, s_i > s_j \,] + \tfrac{1}{2} [\, s_i = s_j \,]\Big),

    which equals scikit-learn's trapezoidal area under the ROC curve with tied scores as one
    threshold. Tasks lacking either class are skipped; the result is the mean over the rest.

    Args:
        y_true: binary labels, 0 or 1, NaN for a missing label (any real or bool dtype).
        y_score: scores, higher meaning more likely positive; must be finite on labelled rows.

    Shapes:
        y_true and y_score ``[N]`` or ``[N, T]``, the same shape.

    Raises:
        ValueError: a label other than 0, 1 or NaN; a non-finite score on a labelled row; no
            task with both classes (OGB raises ``RuntimeError`` there).

    Example:
        >>> roc_auc(torch.tensor([0, 1, 1, 0]), torch.tensor([0.1, 0.5, 0.5, 0.5]))
        0.75
    """
    return _ranking_metric(y_true, y_score, _binary_roc_auc, "ROC-AUC")


def average_precision(y_true: Tensor, y_score: Tensor) -> float:
    r"""Average precision averaged over tasks, as OGB's ``ap`` evaluator (ogbg-molpcba).

    For each task with at least one positive and one negative label, on its labelled rows, with
    the distinct scores :math:`t_1 > t_2 > \dots` as thresholds:

    .. math::
        \mathrm{AP} = \sum_{g} (R_g - R_{g-1})\, P_g,

    where :math:`P_g` and :math:`R_g` are the precision and recall of predicting "positive" for
    every score :math:`\ge t_g` (scikit-learn's ``average_precision_score``: no interpolation;
    tied scores enter together). Tasks lacking either class are skipped; the result is the mean
    over the rest.

    Args:
        y_true: binary labels, 0 or 1, NaN for a missing label (any real or bool dtype).
        y_score: scores, higher meaning more likely positive; must be finite on labelled rows.

    Shapes:
        y_true and y_score ``[N]`` or ``[N, T]``, the same shape.

    Raises:
        ValueError: a label other than 0, 1 or NaN; a non-finite score on a labelled row; no
            task with both classes (OGB raises ``RuntimeError`` there).

    Example:
        >>> average_precision(torch.tensor([0, 1, 1, 0]), torch.tensor([0.1, 0.5, 0.5, 0.5]))
        0.6666666666666666
    """
    return _ranking_metric(y_true, y_score, _binary_average_precision, "average precision")


def _per_task(y_true: Tensor, y_pred: Tensor, reduce: Callable[[Tensor, Tensor], float]) -> float:
    true, pred = _pair(y_true, y_pred, "y_pred")
    true_t, pred_t = true.t().contiguous(), pred.t().contiguous()  # [T, N]
    values: list[float] = []
    for task in range(true_t.size(0)):
        labelled = ~true_t[task].isnan()
        if not bool(labelled.any()):
            # OGB returns NaN (with a RuntimeWarning) for RMSE and divides by zero for accuracy.
            raise ValueError(
                f"y_true has no label in task {task} (all {true_t.size(1)} entries are NaN)"
            )
        values.append(reduce(true_t[task][labelled], pred_t[task][labelled]))
    return sum(values) / len(values)


def _rmse(true: Tensor, pred: Tensor) -> float:
    return float((true - pred).square().mean().sqrt())


def _mae(true: Tensor, pred: Tensor) -> float:
    return float((true - pred).abs().mean())


def _accuracy(true: Tensor, pred: Tensor) -> float:
    return int((true == pred).sum()) / true.numel()


def rmse(y_true: Tensor, y_pred: Tensor) -> float:
    r"""Root mean squared error averaged over tasks, as OGB's ``rmse`` evaluator (ogbg-molesol).

    .. math::
        \mathrm{RMSE} = \frac{1}{T} \sum_{t=1}^{T}
            \sqrt{\frac{1}{|L_t|} \sum_{i \in L_t} (y_{it} - \hat y_{it})^2},

    with :math:`L_t` the rows labelled in task t. A NaN prediction on a labelled row gives NaN,
    as in OGB.

    Args:
        y_true: targets, NaN for a missing label.
        y_pred: predictions.

    Shapes:
        y_true and y_pred ``[N]`` or ``[N, T]``, the same shape, every task with a label.

    Example:
        >>> rmse(torch.tensor([0.0, 0.0]), torch.tensor([1.0, -1.0]))
        1.0
    """
    return _per_task(y_true, y_pred, _rmse)


def mae(y_true: Tensor, y_pred: Tensor) -> float:
    r"""Mean absolute error averaged over tasks (ZINC, PCQM4Mv2).

    .. math::
        \mathrm{MAE} = \frac{1}{T} \sum_{t=1}^{T}
            \frac{1}{|L_t|} \sum_{i \in L_t} |y_{it} - \hat y_{it}|,

    with :math:`L_t` the rows labelled in task t. OGB's graph evaluator has no MAE; for ``[N]``
    inputs this equals ``ogb.lsc.PCQM4Mv2Evaluator``, and the multi-task form treats NaN labels
    like :func:`rmse`.

    Args:
        y_true: targets, NaN for a missing label.
        y_pred: predictions.

    Shapes:
        y_true and y_pred ``[N]`` or ``[N, T]``, the same shape, every task with a label.

    Example:
        >>> mae(torch.tensor([1.0, 2.0, float("nan")]), torch.tensor([2.0, 4.0, 0.0]))
        1.5
    """
    return _per_task(y_true, y_pred, _mae)


def accuracy(y_true: Tensor, y_pred: Tensor) -> float:
    r"""Accuracy averaged over tasks, as OGB's ``acc`` evaluator (ogbn-arxiv, ogbg-ppa).

    .. math::
        \mathrm{acc} = \frac{1}{T} \sum_{t=1}^{T}
            \frac{1}{|L_t|} \sum_{i \in L_t} [\, y_{it} = \hat y_{it} \,]

    with :math:`L_t` the rows labelled (not NaN) in task t.

    Args:
        y_true: class labels, NaN for a missing label.
        y_pred: predicted class labels (take ``argmax`` of logits first, with ``keepdim=True``
            for the ``[N, 1]`` layout OGB uses).

    Shapes:
        y_true and y_pred ``[N]`` or ``[N, T]``, the same shape, every task with a label.

    Example:
        >>> accuracy(torch.tensor([[0], [1], [2], [2]]), torch.tensor([[0], [1], [1], [2]]))
        0.75
    """
    return _per_task(y_true, y_pred, _accuracy)


def _balanced_accuracy(true: Tensor, pred: Tensor) -> float:
    recalls = [
        int(((pred == label) & (true == label)).sum()) / int((true == label).sum())
        for label in torch.unique(true)
    ]
    return sum(recalls) / len(recalls)


def balanced_accuracy(y_true: Tensor, y_pred: Tensor) -> float:
    r"""Balanced accuracy (mean recall over the classes present), averaged over tasks.

    .. math::
        \mathrm{bacc} = \frac{1}{T} \sum_{t=1}^{T} \frac{1}{|C_t|} \sum_{c \in C_t}
            \frac{|\{ i \in L_t : y_{it} = c,\ \hat y_{it} = c \}|}
                 {|\{ i \in L_t : y_{it} = c \}|}

    with :math:`C_t` the classes that occur among the labelled rows :math:`L_t` of task t
    (scikit-learn's ``balanced_accuracy_score`` per task; the metric of UniqueSignature in the
    NCMP paper, where the positive rate is 0.23-0.37).

    Args:
        y_true: class labels, NaN for a missing label.
        y_pred: predicted class labels.

    Shapes:
        y_true and y_pred ``[N]`` or ``[N, T]``, the same shape, every task with a label.

    Example:
        >>> balanced_accuracy(torch.tensor([0, 0, 0, 1]), torch.tensor([0, 0, 0, 0]))
        0.5
    """
    return _per_task(y_true, y_pred, _balanced_accuracy)
