"""Evaluation of a link model: score the validation and test pairs of a split, OGB-identical
metrics."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from graphpair.data import LinkSplit
from graphpair.metrics import Evaluator, hits_at_k, ranked_hits_at_k
from graphpair.nn import LinkModel
from graphpair.ops import CSR
from graphpair.train._link_builder import Predictor

__all__ = ["chunked_scoring", "evaluate_link", "link_scores", "metric_values"]

log = logging.getLogger(__name__)


def chunked_scoring(predictor: Any) -> contextlib.AbstractContextManager[Any]:
    """The block in which ``predictor`` scores many chunks of pairs on the same node
    embeddings: :meth:`NCNCPredictor.reuse_rows <graphpair.nn.NCNCPredictor.reuse_rows>`
    where the predictor has it (each row of XLIN's :math:`h'` computed once, not once a
    chunk), else nothing."""
    reuse = getattr(predictor, "reuse_rows", None)
    return reuse() if callable(reuse) else contextlib.nullcontext()


def _score(predictor: Predictor, h: Tensor, adj: Any, pairs: Tensor, batch_size: int) -> Tensor:
    """Logits of ``pairs`` ``[2, P]`` (or ``[2, P, K]`` -> ``[P, K]``), ``batch_size`` at a time."""
    flat = pairs.reshape(2, -1)
    out = [
        predictor(h, adj, flat[:, start : start + batch_size]).float()
        for start in range(0, flat.size(1), batch_size)
    ]
    scores = torch.cat(out) if out else h.new_zeros(0)
    return scores.view(pairs.shape[1:])


@functools.cache
def _warn_small_pool(metric: str, num_negatives: int) -> None:
    """Log once per process and (metric, pool size), not at every evaluation."""
    log.warning(
        "%s: only %d negatives, fewer than K, so every positive counts as a hit and %s = 1.0 "
        "whatever the scores (OGB's rule); choose a K well below the number of negatives, or "
        "'rocauc'",
        metric,
        num_negatives,
        metric,
    )


def metric_values(metrics: Sequence[str], pos: Tensor, neg: Tensor) -> dict[str, float]:
    """OGB-identical metric values; ``neg`` is a shared pool ``[Q]`` or per positive ``[P, K]``.

    ``'hits@K'`` of a shared pool of fewer than K negatives is 1.0 (OGB's rule, as
    :class:`~graphpair.metrics.Evaluator`); the runner logs that once as a warning instead of
    :class:`~graphpair.metrics.SmallPoolWarning` at every evaluation.

    Example:
        >>> pos, neg = torch.tensor([3.0, 1.0]), torch.tensor([[2.0, 0.0], [2.0, 0.0]])
        >>> metric_values(["mrr", "hits@1"], pos, neg)
        {'mrr': 0.75, 'hits@1': 0.5}
    """
    pos, neg = pos.cpu(), neg.cpu()
    out: dict[str, float] = {}
    for name in metrics:
        if name.startswith("hits@") and neg.dim() == 2:
            out[name] = ranked_hits_at_k(pos, neg, int(name[5:]))
        elif name.startswith("hits@"):
            k = int(name[5:])
            if neg.numel() < k:
                _warn_small_pool(name, neg.numel())
            out[name] = hits_at_k(pos, neg, k)  # Evaluator(name)'s value, without the warning
        elif name == "rocauc":
            out[name] = Evaluator(name)({"y_pred_pos": pos, "y_pred_neg": neg.reshape(-1)})[name]
        else:
            out[name] = Evaluator(name)({"y_pred_pos": pos, "y_pred_neg": neg})[name]
    return out


@torch.no_grad()
def evaluate_link(
    encoder: torch.nn.Module,
    predictor: Predictor,
    x: Tensor | None,
    adj: CSR,
    adj_test: CSR,
    split: LinkSplit,
    metrics: Sequence[str],
    batch_size: int,
) -> tuple[dict[str, float], dict[str, float]]:
    """Validation and test metrics: validation on ``adj`` (the training graph), test on
    ``adj_test`` (the training graph, or train + validation where the dataset's rule says so);
    nothing is masked at evaluation time.

    Args:
        encoder: The node encoder (:func:`build_encoder`).
        predictor: The link predictor (:func:`build_predictor`).
        x: Node features ``[N, F]``, or ``None`` for a node-id embedding.
        adj: The graph validation pairs are scored on.
        adj_test: The graph test pairs are scored on.
        split: The positives and negatives of ``'valid'`` and ``'test'``.
        metrics: Metric names (``'hits@K'``, ``'mrr'``, ``'rocauc'``).
        batch_size: Pairs scored at once.

    Returns:
        ``(valid, test)``: metric name -> value, for each stage.

    Example:
        >>> from graphpair.data import link_split, load_dataset
        >>> from graphpair.ops import CSR
        >>> from graphpair.train import build_encoder, build_predictor, link_config
        >>> config = link_config("karate", hidden_channels=16)
        >>> encoder, predictor = build_encoder(config, None, 35), build_predictor(config)
        >>> split = link_split(load_dataset("karate"), seed=0)
        >>> adj = CSR.from_edge_index(split.edge_index("train"), num_nodes=34)
        >>> valid, test = evaluate_link(encoder, predictor, None, adj, adj, split,
        ...                             ["hits@3", "rocauc"], batch_size=1024)
        >>> sorted(test)
        ['hits@3', 'rocauc']
    """
    scores = link_scores(encoder, predictor, x, adj, adj_test, split, batch_size)
    return metric_values(metrics, *scores["valid"]), metric_values(metrics, *scores["test"])


@torch.no_grad()
def link_scores(
    encoder: torch.nn.Module,
    predictor: Predictor,
    x: Tensor | None,
    adj: CSR,
    adj_test: CSR,
    split: LinkSplit,
    batch_size: int,
) -> dict[str, tuple[Tensor, Tensor]]:
    """The scores :func:`evaluate_link` computes its metrics from: stage -> ``(pos [P], neg)``
    on CPU, ``neg`` ``[Q]`` for a shared pool or ``[P, K]`` per positive (OGB's
    ``y_pred_pos`` / ``y_pred_neg``).

    Example:
        >>> from graphpair.data import link_split, load_dataset
        >>> from graphpair.train import build_encoder, build_predictor, link_config
        >>> config = link_config("karate", hidden_channels=16)
        >>> split = link_split(load_dataset("karate"), seed=0)
        >>> adj = CSR.from_edge_index(split.edge_index("train"), num_nodes=34)
        >>> scores = link_scores(build_encoder(config, None, 35), build_predictor(config),
        ...                      None, adj, adj, split, batch_size=1024)
        >>> scores["test"][0].shape == split.pos("test").shape[1:]
        True
    """
    encoder.eval()
    predictor.eval()
    model = LinkModel(encoder, predictor)
    h, state = model.encode(x, adj, inference=True)
    device = h.device
    out = {}
    for stage, graph in (("valid", adj), ("test", adj_test)):
        if graph is not adj:
            h, state = model.encode(x, graph, inference=True)
        with chunked_scoring(predictor):  # a stage's chunks share their node rows
            pos = _score(predictor, h, state, split.pos(stage).to(device), batch_size)
            neg = _score(predictor, h, state, split.neg(stage).to(device), batch_size)
        out[stage] = (pos.cpu(), neg.cpu())
    return out
