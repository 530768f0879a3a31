"""``Evaluator``: OGB's evaluator interface over graphpair's metric functions."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from graphpair._validation import check_choice, check_finite, check_int, describe, normalize_name
from graphpair.metrics._classification import (
    accuracy,
    average_precision,
    balanced_accuracy,
    mae,
    rmse,
    roc_auc,
)
from graphpair.metrics._link import hits_at_k, ranks
from graphpair.metrics._sequence import subtoken_f1

__all__ = ["METRICS", "OGB_METRICS", "Evaluator", "SmallPoolWarning"]

#: The metric names :class:`Evaluator` accepts, spelled as OGB's ``master.csv`` spells them
#: (``'hits@K'`` stands for any K >= 1, e.g. ``'hits@20'``; ``'mae'`` is not in OGB's graph
#: evaluator).
METRICS: tuple[str, ...] = (
    "hits@K",
    "mrr",
    "rocauc",
    "ap",
    "rmse",
    "mae",
    "acc",
    "balanced_acc",
    "F1",
)

_ALIASES = {
    "roc_auc": "rocauc",
    "auc": "rocauc",
    "average_precision": "ap",
    "accuracy": "acc",
    "balanced_accuracy": "balanced_acc",
    "bacc": "balanced_acc",
}

#: The evaluation metric of every OGB dataset, as its ``master.csv`` ("eval metric") states.
OGB_METRICS: dict[str, str] = {
    # ogb/linkproppred/master.csv
    "ogbl-ppa": "hits@100",
    "ogbl-collab": "hits@50",
    "ogbl-ddi": "hits@20",
    "ogbl-citation2": "mrr",
    "ogbl-wikikg2": "mrr",
    "ogbl-biokg": "mrr",
    "ogbl-vessel": "rocauc",
    # ogb/graphproppred/master.csv
    "ogbg-molbace": "rocauc",
    "ogbg-molbbbp": "rocauc",
    "ogbg-molclintox": "rocauc",
    "ogbg-molmuv": "ap",
    "ogbg-molpcba": "ap",
    "ogbg-molsider": "rocauc",
    "ogbg-moltox21": "rocauc",
    "ogbg-moltoxcast": "rocauc",
    "ogbg-molhiv": "rocauc",
    "ogbg-molesol": "rmse",
    "ogbg-molfreesolv": "rmse",
    "ogbg-mollipo": "rmse",
    "ogbg-molchembl": "rocauc",
    "ogbg-ppa": "acc",
    "ogbg-code2": "F1",
    # ogb/nodeproppred/master.csv
    "ogbn-proteins": "rocauc",
    "ogbn-products": "acc",
    "ogbn-arxiv": "acc",
    "ogbn-mag": "acc",
    "ogbn-papers100M": "acc",
}

_HIGHER_IS_BETTER = {
    "hits@K": True,
    "mrr": True,
    "rocauc": True,
    "ap": True,
    "rmse": False,
    "mae": False,
    "acc": True,
    "balanced_acc": True,
    "F1": True,
}

_HITS = re.compile(r"hits[@_\-\s]*(\d+)")

_RANKING_INPUT = """{{'y_pred_pos': y_pred_pos, 'y_pred_neg': y_pred_neg}}
- y_pred_pos: torch.Tensor or numpy.ndarray [P], scores of the positive pairs.
- y_pred_neg: torch.Tensor or numpy.ndarray {neg_shape}.
{neg_text}
Scores must not be NaN; ties are allowed and handled as OGB handles them ({tie_text})."""

_TABLE_INPUT = """{{'y_true': y_true, 'y_pred': y_pred}}
- y_true: torch.Tensor or numpy.ndarray [N, T] (or [N] for one task); NaN marks a missing label.
- y_pred: torch.Tensor or numpy.ndarray, the same shape as y_true.
{pred_text}
Each task is scored on its labelled rows; the result is the mean over tasks."""

_INPUT_FORMATS = {
    "hits@K": _RANKING_INPUT.format(
        neg_shape="[Q]",
        neg_text="The negatives are shared: every positive is compared with all Q of them.",
        tie_text="a positive tied with the K-th largest negative is a miss; fewer than K "
        "negatives give 1.0",
    ),
    "mrr": _RANKING_INPUT.format(
        neg_shape="[P, K]",
        neg_text="y_pred_neg[i] holds the scores of the negatives of positive i.",
        tie_text="rank = 1 + (#neg > pos + #neg >= pos) / 2",
    ),
    "rocauc": _TABLE_INPUT.format(
        pred_text="y_true holds 0/1 labels; y_pred holds scores (higher = positive), finite on "
        "labelled rows. Tasks lacking a 0 or a 1 label are skipped.\n"
        "Link form (ogbl-vessel): {'y_pred_pos': [P], 'y_pred_neg': [Q]} scores the positives "
        "as label 1 against the negatives as label 0."
    ),
    "ap": _TABLE_INPUT.format(
        pred_text="y_true holds 0/1 labels; y_pred holds scores (higher = positive), finite on "
        "labelled rows. Tasks lacking a 0 or a 1 label are skipped."
    ),
    "rmse": _TABLE_INPUT.format(pred_text="y_pred holds real-valued predictions."),
    "mae": _TABLE_INPUT.format(pred_text="y_pred holds real-valued predictions."),
    "acc": _TABLE_INPUT.format(
        pred_text="y_pred holds predicted class labels (argmax of the logits, keepdim=True)."
    ),
    "balanced_acc": _TABLE_INPUT.format(
        pred_text="y_pred holds predicted class labels; each task averages the recall of the "
        "classes present in it."
    ),
    "F1": """{'seq_ref': seq_ref, 'seq_pred': seq_pred}
- seq_ref: list of token lists, the reference sequences.
- seq_pred: list of token lists, the predicted sequences, as many as seq_ref.
Tokens are compared as sets per sequence.""",
}

_OUTPUT_FORMATS = {
    "hits@K": "{{'hits@{k}': float}}: the fraction of positives that are hits.",
    "mrr": "{'mrr': float, 'hits@1': float, 'hits@3': float, 'hits@10': float, "
    "'mrr_list', 'hits@1_list', 'hits@3_list', 'hits@10_list'}:\n"
    "- mrr_list, hits@K_list: OGB's per-positive lists (float32, a torch.Tensor on the "
    "device of y_pred_neg for torch input, a numpy.ndarray for numpy input); concatenate "
    "them over batches and average.\n"
    "- mrr, hits@K: their means as Python floats (computed in float64).",
    "rocauc": "{'rocauc': float}: ROC-AUC averaged over the scored tasks.",
    "ap": "{'ap': float}: average precision averaged over the scored tasks.",
    "rmse": "{'rmse': float}: root mean squared error averaged over tasks.",
    "mae": "{'mae': float}: mean absolute error averaged over tasks.",
    "acc": "{'acc': float}: accuracy averaged over tasks.",
    "balanced_acc": "{'balanced_acc': float}: balanced accuracy averaged over tasks.",
    "F1": "{'precision': float, 'recall': float, 'F1': float}: averaged over sequences.",
}


class SmallPoolWarning(UserWarning):
    """Hits@K was asked of fewer than K shared negatives, so it is 1.0 whatever the scores.

    OGB's rule (kept, so values stay OGB-identical): with fewer than K negatives every positive
    counts as a hit. On a small graph (e.g. Les Misérables: about 50 test negatives) Hits@100
    is then 100.00 for any model; use a smaller K or ``'rocauc'`` there.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     Evaluator("hits@100")({"y_pred_pos": torch.ones(2), "y_pred_neg": torch.zeros(3)})
        {'hits@100': 1.0}
        >>> caught[0].category.__name__
        'SmallPoolWarning'
    """


def _resolve(metric: object) -> tuple[str, int | None]:
    """Canonical metric name (OGB's spelling) and the K of ``hits@K``."""
    if isinstance(metric, str):
        match = _HITS.fullmatch(metric.strip().lower())
        if match is not None:
            k = check_int("K in metric 'hits@K'", int(match.group(1)), minimum=1)
            return f"hits@{k}", k
    name = check_choice("metric", metric, METRICS, aliases=_ALIASES)
    if name == "hits@K":
        raise ValueError(f"metric {metric!r} needs a number for K, e.g. 'hits@20'")
    return name, None


def _dataset(name: str) -> tuple[str, str, int | None] | None:
    """``(dataset, metric, num_tasks)`` for an OGB or registered graphpair dataset name
    (case- and separator-insensitive), else ``None``."""
    key = normalize_name(name)
    matches = [dataset for dataset in OGB_METRICS if normalize_name(dataset) == key]
    if matches:
        dataset, metric = matches[0], OGB_METRICS[matches[0]]
    else:
        from graphpair.data._registry import get_spec

        try:
            spec = get_spec(name)
        except ValueError:
            return None
        dataset, metric = spec.name, spec.metric
        if spec.source != "ogb":
            return dataset, metric, None
    from graphpair.data._ogb import ogb_meta

    tasks = ogb_meta(dataset).get("num tasks") if not dataset.startswith("ogbl") else None
    # OGB's graph and node evaluators check y_true's task count; its link evaluator has none.
    return dataset, metric, None if tasks is None else int(float(tasks))


def _resolve_name(value: object) -> tuple[str, str, int | None]:
    """``(name, metric, num_tasks)`` from a metric name or a dataset name."""
    try:
        metric, _ = _resolve(value)
        return metric, metric, None
    except ValueError as err:
        if not isinstance(value, str) or "must be one of" not in str(err):
            raise
        found = _dataset(value)
        if found is None:
            raise ValueError(
                f"metric must be one of {list(METRICS)} (e.g. 'hits@20'), or a dataset name: "
                "OGB's (e.g. 'ogbl-ddi', see OGB_METRICS) or a registered graphpair dataset "
                f"(graphpair.data.dataset_names()); got {value!r}"
            ) from None
        return found


def _tensor(key: str, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if not array.flags.writeable:
            # torch.from_numpy warns on read-only memory; a copy is cheap next to evaluation.
            array = array.copy()
        return torch.from_numpy(array)
    raise TypeError(
        f"input_dict[{key!r}] must be a torch.Tensor or a numpy.ndarray; got {describe(value)}"
    )


def _get(input_dict: Mapping[str, Any], key: str, metric: str) -> Any:
    if key not in input_dict:
        raise KeyError(
            f"input_dict is missing the key {key!r} needed for metric {metric!r}; it has "
            f"{sorted(input_dict)}"
        )
    return input_dict[key]


class Evaluator:
    """OGB-style evaluator for one metric, identical in value to ``ogb``'s ``Evaluator``.

    It mirrors ``ogb.linkproppred.Evaluator`` and ``ogb.graphproppred.Evaluator``: construct it
    with a dataset name (``Evaluator("ogbl-ddi")``, ``Evaluator(name="ogbl-collab")``, as OGB)
    or with a metric (``Evaluator("hits@50")``), pass a dict of predictions (torch tensors or
    numpy arrays) to :meth:`eval` (or call it), get a dict back. A dataset name is an OGB name
    (:data:`OGB_METRICS`, OGB's ``master.csv``) or a registered graphpair dataset, and picks
    that dataset's headline metric (and, for OGB graph and node datasets, its task count).
    :attr:`expected_input_format` / :attr:`expected_output_format` describe the dicts. Input
    keys -> output keys:

    - ``hits@K``: ``y_pred_pos [P]``, ``y_pred_neg [Q]`` -> ``hits@K``; set :attr:`K` to change
      K, as OGB's link examples do (``evaluator.K = 50`` -> ``hits@50``). With fewer than K
      negatives the value is 1.0 (OGB's rule) and a :class:`SmallPoolWarning` names K and Q;
    - ``mrr``: ``y_pred_pos [P]``, ``y_pred_neg [P, K]`` -> OGB's per-positive lists
      ``mrr_list``, ``hits@1_list``, ``hits@3_list``, ``hits@10_list`` (float32, torch or
      numpy like the input) and their means ``mrr``, ``hits@1``, ``hits@3``, ``hits@10``
      (Python floats, float64);
    - ``rocauc``, ``ap``, ``rmse``, ``mae``, ``acc``: ``y_true``, ``y_pred`` ``[N, T]`` (or
      ``[N]``) -> the metric's name; ``rocauc`` also takes the link form ``y_pred_pos [P]``,
      ``y_pred_neg [Q]`` (ogbl-vessel);
    - ``F1``: ``seq_ref``, ``seq_pred`` (lists of token lists) -> ``precision``, ``recall``,
      ``F1``.

    ``result[evaluator.metric]`` is always the headline number, a Python float.

    Args:
        metric: a metric name from :data:`METRICS`, case- and separator-insensitive
            (``'Hits@20'``, ``'hits_20'``, ``'ROC-AUC'``, ``'accuracy'`` ...), or a dataset
            name (``'ogbl-ddi'``, ``'OGBL_DDI'``, ``'Cora'``).
        name: OGB's keyword for the dataset name; give ``metric`` or ``name``, not both.
        num_tasks: if given, ``y_true`` must have this many columns (OGB checks the dataset's
            task count; a dataset name sets it for OGB graph and node datasets).

    Attributes:
        name: the dataset name given, else the metric.
        metric: the canonical metric name, OGB's spelling (``'hits@20'``, ``'rocauc'`` ...);
            ``eval_metric`` is OGB's name for it.
        K: K of ``hits@K`` (settable), else ``None``; ``k`` is the same.
        higher_is_better: whether a larger value is better (``False`` for ``rmse``, ``mae``).

    Example:
        >>> evaluator = Evaluator("hits@1")
        >>> pos, neg = torch.tensor([3.0, 1.0]), torch.tensor([2.0, 0.0])
        >>> evaluator({"y_pred_pos": pos, "y_pred_neg": neg})
        {'hits@1': 0.5}
        >>> evaluator = Evaluator(name="ogbl-collab")
        >>> evaluator.K
        50
        >>> evaluator.K = 2  # OGB's idiom: set K, then eval reports hits@2
        >>> evaluator.eval({"y_pred_pos": pos, "y_pred_neg": neg})
        {'hits@2': 1.0}
    """

    def __init__(
        self, metric: str | None = None, *, name: str | None = None, num_tasks: int | None = None
    ) -> None:
        if (metric is None) == (name is None):
            raise TypeError(
                "Evaluator takes a metric or a dataset name: Evaluator('hits@20'), "
                f"Evaluator('ogbl-ddi') or Evaluator(name='ogbl-ddi'); got metric={metric!r}, "
                f"name={name!r}"
            )
        given = metric if metric is not None else name
        self.name, canonical, tasks = _resolve_name(given)
        self.metric, self._k = _resolve(canonical)
        self._kind = "hits@K" if self._k is not None else self.metric
        if num_tasks is not None:
            tasks = check_int("num_tasks", num_tasks, minimum=1)
        self.num_tasks = tasks
        self.higher_is_better: bool = _HIGHER_IS_BETTER[self._kind]

    @classmethod
    def from_dataset(cls, name: str) -> Evaluator:
        """The evaluator of a dataset's headline metric: the same as ``Evaluator(name=name)``.

        OGB graph datasets also check their task count, as OGB's evaluator does.

        Example:
            >>> Evaluator.from_dataset("ogbl-ddi").metric
            'hits@20'
        """
        if not isinstance(name, str) or _dataset(name) is None:
            from graphpair.data._registry import get_spec

            get_spec(name)  # raises: unknown dataset, listing the valid names
        return cls(name=name)

    @property
    def K(self) -> int | None:  # noqa: N802 (OGB's attribute name)
        """K of a ``hits@K`` evaluator (``None`` for other metrics); assign to change K."""
        return self._k

    @K.setter
    def K(self, value: int) -> None:  # noqa: N802
        if self._k is None:
            raise ValueError(
                f"K applies to a 'hits@K' evaluator; this one is {self.metric!r}"
                + (" (its Hits@1/3/10 come with the MRR)" if self.metric == "mrr" else "")
            )
        self._k = check_int("K", value, minimum=1)
        self.metric = f"hits@{self._k}"

    @property
    def k(self) -> int | None:
        """The same as :attr:`K`."""
        return self.K

    @k.setter
    def k(self, value: int) -> None:
        self.K = value

    @property
    def eval_metric(self) -> str:
        """OGB's name for ``metric``."""
        return self.metric

    def __repr__(self) -> str:
        named = "" if self.name == self.metric else f"name={self.name!r}, "
        extra = "" if self.num_tasks is None else f", num_tasks={self.num_tasks}"
        return f"{type(self).__name__}({named}metric={self.metric!r}{extra})"

    @property
    def expected_input_format(self) -> str:
        """A description of the ``input_dict`` that :meth:`eval` expects."""
        return (
            f"==== Expected input format of Evaluator for {self.metric}\n"
            + _INPUT_FORMATS[self._kind]
        )

    @property
    def expected_output_format(self) -> str:
        """A description of the dict that :meth:`eval` returns."""
        text = _OUTPUT_FORMATS[self._kind]
        if self._k is not None:
            text = text.format(k=self._k)
        return f"==== Expected output format of Evaluator for {self.metric}\n" + text

    def __call__(self, input_dict: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate ``input_dict`` (see :attr:`expected_input_format`)."""
        if not isinstance(input_dict, Mapping):
            raise TypeError(f"input_dict must be a dict; got {describe(input_dict)}")
        kind = self._kind
        if kind == "F1":
            result = subtoken_f1(
                _get(input_dict, "seq_ref", self.metric), _get(input_dict, "seq_pred", self.metric)
            )
            return {"precision": result.precision, "recall": result.recall, "F1": result.f1}
        if kind in ("hits@K", "mrr") or (
            kind == "rocauc" and "y_pred_pos" in input_dict and "y_true" not in input_dict
        ):
            return self._eval_pairs(input_dict)
        y_true = _tensor("y_true", _get(input_dict, "y_true", self.metric))
        y_pred = _tensor("y_pred", _get(input_dict, "y_pred", self.metric))
        if self.num_tasks is not None:
            tasks = y_true.size(1) if y_true.dim() == 2 else 1
            if tasks != self.num_tasks:
                raise ValueError(
                    f"y_true must have num_tasks={self.num_tasks} columns; got shape "
                    f"{tuple(y_true.shape)}"
                )
        functions = {
            "rocauc": roc_auc,
            "ap": average_precision,
            "rmse": rmse,
            "mae": mae,
            "acc": accuracy,
            "balanced_acc": balanced_accuracy,
        }
        return {self.metric: functions[kind](y_true, y_pred)}

    def _eval_pairs(self, input_dict: Mapping[str, Any]) -> dict[str, Any]:
        raw_pos = _get(input_dict, "y_pred_pos", self.metric)
        raw_neg = _get(input_dict, "y_pred_neg", self.metric)
        pos, neg = _tensor("y_pred_pos", raw_pos), _tensor("y_pred_neg", raw_neg)
        if self._k is not None:
            hits = hits_at_k(pos, neg, self._k)
            if neg.numel() < self._k:
                warnings.warn(
                    f"{self.metric}: only {neg.numel()} negatives, fewer than K = {self._k}, so "
                    f"every positive counts as a hit and {self.metric} = 1.0 whatever the "
                    "scores (OGB's rule); use a K well below the number of negatives, or "
                    "'rocauc'",
                    SmallPoolWarning,
                    stacklevel=3,
                )
            return {self.metric: hits}
        if self.metric == "mrr":
            return _mrr_outputs(ranks(pos, neg), as_numpy=not isinstance(raw_neg, Tensor))
        # rocauc over link scores (ogbl-vessel): positives are label 1, negatives label 0.
        for key, value in (("y_pred_pos", pos), ("y_pred_neg", neg)):
            if value.dim() != 1:
                raise ValueError(
                    f"{key} must have 1 dimension for link ROC-AUC; got shape {tuple(value.shape)}"
                )
            # scikit-learn (behind OGB) refuses NaN and infinite scores.
            check_finite(key, value.detach().to(torch.float64))
        scores = torch.cat([pos.to(torch.float64), neg.to(device=pos.device, dtype=torch.float64)])
        labels = torch.cat([torch.ones(pos.numel()), torch.zeros(neg.numel())]).to(pos.device)
        return {"rocauc": roc_auc(labels, scores)}

    def eval(self, input_dict: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate ``input_dict``; the same as calling the evaluator (OGB's method name)."""
        return self(input_dict)


def _mrr_outputs(rank: Tensor, *, as_numpy: bool) -> dict[str, Any]:
    """OGB's four per-positive lists (float32, as OGB computes them from float32 ranks) and
    their float64 means."""
    rank32 = rank.to(torch.float32)  # ranks are multiples of 1/2: exact in float32
    lists = {"mrr_list": 1.0 / rank32}
    lists.update({f"hits@{k}_list": (rank32 <= k).to(torch.float32) for k in (1, 3, 10)})
    out: dict[str, Any] = {"mrr": float(rank.reciprocal().mean())}
    out.update({f"hits@{k}": int((rank <= k).sum()) / rank.numel() for k in (1, 3, 10)})
    for key, value in lists.items():
        out[key] = value.detach().cpu().numpy() if as_numpy else value.detach()
    return out
