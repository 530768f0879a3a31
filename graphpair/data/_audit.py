"""Leakage audit of a link split: the check the runner makes before any training."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from graphpair.data._negative_sampling import _first_of_runs, _member_sorted
from graphpair.data._split import SPLITS, LinkSplit

__all__ = ["LeakageError", "SplitAudit", "audit_split"]


class LeakageError(ValueError):
    """A link split leaks evaluation targets into training or its negatives are not negatives.

    Raised by :func:`audit_split` with ``strict=True``; the message lists every failed check
    with its count.
    """


@dataclass(frozen=True)
class SplitAudit:
    """Result of :func:`audit_split`: a count per check (0 = passed) and readable problems.

    Attributes:
        counts: Check name -> number of offending pairs (see :func:`audit_split`).
        problems: ``'check: count'`` for every check whose count is not zero.

    Example:
        >>> report = SplitAudit({"test_neg_self_loops": 1}, ("test_neg_self_loops: 1",))
        >>> report.ok
        False
    """

    counts: dict[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.problems


def _keys(pairs: Tensor, num_nodes: int, directed: bool) -> Tensor:
    """One int64 key per pair; undirected keys ignore the orientation."""
    flat = pairs.reshape(2, -1)
    row, col = flat[0], flat[1]
    if not directed:
        row, col = torch.minimum(row, col), torch.maximum(row, col)
    return row * num_nodes + col


def _count_in(keys: Tensor, reference: Tensor) -> int:
    """How many of ``keys`` are in ``reference``, a sorted key array (a binary search each)."""
    return int(_member_sorted(keys, reference).sum())


def _graph_keys(undirected: Tensor, num_nodes: int) -> Tensor:
    """The sorted, distinct undirected keys of a message-passing graph, given its sorted
    undirected positive keys: :func:`~graphpair.data.symmetrize` drops self loops, whose
    keys ``i * N + i`` are the multiples of ``N + 1`` (``u * N + v`` with ``u < v < N`` leaves
    the remainder ``v - u``)."""
    return undirected[_first_of_runs(undirected) & (undirected % (num_nodes + 1) != 0)]


def _row_duplicates(keys: Tensor) -> int:
    """Repeated negatives within the same positive's row (``[P, K]`` negatives)."""
    ordered = torch.sort(keys, dim=1).values
    return int((ordered[:, 1:] == ordered[:, :-1]).sum())


def audit_split(
    split: LinkSplit, *, strict: bool = True, allow_train_duplicates: bool = False
) -> SplitAudit:
    """Check a link split for leakage and malformed negatives.

    Checks, each counted (a pair is compared in both directions unless ``split.directed``;
    the message-passing graphs are always compared in both directions since they are
    symmetrised):

    * ``*_pos_in_graph``: a validation or test positive is in the graph messages pass over
      when that split is scored (:meth:`LinkSplit.edge_index`) — target leakage;
    * ``train_valid_overlap`` / ``train_test_overlap`` / ``valid_test_overlap``: a positive
      appears in two splits;
    * ``*_pos_duplicates``: a positive repeated within a split (training duplicates are
      allowed with ``allow_train_duplicates``, for ogbl-collab's repeated collaborations);
    * ``*_neg_is_edge``: a negative is an edge of the full graph (any split's positive);
    * ``*_neg_self_loops``: a negative ``(i, i)``;
    * ``*_neg_duplicates``: a repeated negative in a shared pool, or within one positive's row
      of ``[2, P, K]`` negatives.

    Args:
        split: the split to audit.
        strict: raise :class:`LeakageError` listing every failed check (default), else return
            the report.
        allow_train_duplicates: do not count repeated training positives.

    Returns:
        A :class:`SplitAudit` whose ``ok`` is ``True`` when every count is zero.

    Raises:
        LeakageError: With ``strict``, when any check fails.

    Example:
        A validation positive that is also a training positive, so it is in the graph the
        model passes messages over when validating:

        >>> split = LinkSplit(
        ...     num_nodes=4,
        ...     train_pos=torch.tensor([[0, 1], [1, 2]]),
        ...     valid_pos=torch.tensor([[1], [2]]),
        ...     valid_neg=torch.tensor([[0], [3]]),
        ...     test_pos=torch.tensor([[2], [3]]),
        ...     test_neg=torch.tensor([[0], [2]]),
        ...     protocol="random",
        ... )
        >>> audit_split(split, strict=False).problems
        ('valid_pos_in_graph: 1', 'train_valid_overlap: 1')
        >>> audit_split(split)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
            ...
        LeakageError: link split 'random' failed the audit: valid_pos_in_graph: 1, ...
    """
    n = split.num_nodes
    directed = split.directed
    # Each reference is sorted once and binary-searched (torch.isin sorts it anew per check).
    undirected = {s: _keys(split.pos(s), n, False) for s in SPLITS}
    all_pos = torch.sort(torch.cat(list(undirected.values()))).values
    train = torch.sort(undirected["train"]).values
    graphs = {"valid": _graph_keys(train, n)}  # the pairs of split.edge_index(name), as keys
    if split.valid_as_input:
        graphs["test"] = _graph_keys(torch.sort(torch.cat([train, undirected["valid"]])).values, n)
    else:
        graphs["test"] = graphs["valid"]
    pos: dict[str, Tensor] = {}  # sorted, in the split's orientation
    for name in SPLITS:
        if not directed:
            pos[name] = train if name == "train" else torch.sort(undirected[name]).values
        else:
            pos[name] = torch.sort(_keys(split.pos(name), n, True)).values
    first = {name: _first_of_runs(keys) for name, keys in pos.items()}
    counts: dict[str, int] = {}
    for name in ("valid", "test"):
        counts[f"{name}_pos_in_graph"] = _count_in(undirected[name], graphs[name])
    del undirected, graphs, train
    distinct = {s: pos[s][first[s]] for s in ("valid", "test")}
    counts["train_valid_overlap"] = _count_in(distinct["valid"], pos["train"])
    counts["train_test_overlap"] = _count_in(distinct["test"], pos["train"])
    counts["valid_test_overlap"] = _count_in(distinct["test"], pos["valid"])
    for name in SPLITS:
        if name == "train" and allow_train_duplicates:
            continue
        counts[f"{name}_pos_duplicates"] = int((~first[name]).sum())
    del pos, first
    for name in ("valid", "test"):
        neg = split.neg(name)
        flat = neg.reshape(2, -1)
        undirected_neg = _keys(flat, n, False)
        counts[f"{name}_neg_is_edge"] = _count_in(undirected_neg, all_pos)
        counts[f"{name}_neg_self_loops"] = int((flat[0] == flat[1]).sum())
        keys = _keys(flat, n, True) if directed else undirected_neg
        del undirected_neg
        if neg.dim() == 3:
            counts[f"{name}_neg_duplicates"] = _row_duplicates(keys.reshape(neg.shape[1:]))
        else:
            counts[f"{name}_neg_duplicates"] = int((~_first_of_runs(torch.sort(keys).values)).sum())
    problems = tuple(f"{check}: {count}" for check, count in counts.items() if count)
    report = SplitAudit(counts=counts, problems=problems)
    if strict and problems:
        raise LeakageError(f"link split {split.protocol!r} failed the audit: {', '.join(problems)}")
    return report
