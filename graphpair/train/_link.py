"""The link-prediction training loop of NCN / NCNC (``specs/ncn.md`` §3 and §4).

Per run (seed ``s``): the split for ``s`` (re-drawn for Planetoid-style datasets, the official
one for OGB), ``torch.manual_seed(s)`` before the model is built, and one ``torch.Generator``
seeded with ``s`` for every draw the loop makes itself (permutations, negatives), so a CPU run
is bit-reproducible on one thread, and at any thread count with ``config.deterministic``
(:func:`deterministic`). Per epoch: negatives, a permutation of the training positives, full
batches of ``batch_size`` (the last partial one dropped); per step the batch's positives are
masked out of the CSR (target link removal), the encoder runs on the whole graph, the
predictor scores the positives and their negatives, BCE, Adam. Evaluation scores validation
on the training graph and test on the test-stage graph, and every metric selects its own best
epoch on validation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from graphpair.data import (
    LinkSplit,
    LoadedDataset,
    link_split,
    load_dataset,
    load_edge_list,
    negative_sampling,
)
from graphpair.losses import link_info_nce, pairwise_ranking
from graphpair.metrics import Evaluator, ranked_hits_at_k
from graphpair.nn import (
    GAEPredictor,
    GRITLinkEncoder,
    GRITPairPredictor,
    MPNNEncoder,
    NCNCPredictor,
    NCNDiffPredictor,
    NCNPredictor,
)
from graphpair.ops import CSR
from graphpair.ops._spmm import to_sparse_csr
from graphpair.train._checkpoint import (
    RunCheckpoints,
    open_checkpoints,
    restore_run,
    run_state,
)
from graphpair.train._config import ConfigError, LinkConfig
from graphpair.train._deterministic import honour_deterministic
from graphpair.train._results import (
    EarlyStopping,
    EpochRecord,
    LinkResult,
    RunResult,
    select_best,
)

__all__ = [
    "EpochCallback",
    "RunCallback",
    "StepCallback",
    "bce_loss",
    "build_encoder",
    "build_predictor",
    "evaluate_link",
    "link_objective",
    "train_link",
]

log = logging.getLogger(__name__)


class EpochCallback(Protocol):
    """``on_epoch(run_index, record)``: called after every evaluated epoch (0-based run).

    ``record`` is the epoch's :class:`~graphpair.train.EpochRecord`; the return value is
    ignored.
    """

    def __call__(self, run_index: int, record: EpochRecord, /) -> None: ...


class StepCallback(Protocol):
    """``on_step(run_index, step, steps, loss)``: called after every optimizer step of a
    training epoch (0-based run, 1-based step of ``steps``, the step's training loss), for
    progress displays on long epochs."""

    def __call__(self, run_index: int, step: int, steps: int, loss: float, /) -> None: ...


class RunCallback(Protocol):
    """``on_run(run_index, result)``: called after every run (0-based run).

    ``result`` is the finished run's :class:`~graphpair.train.RunResult`; the return value is
    ignored.
    """

    def __call__(self, run_index: int, result: RunResult, /) -> None: ...


Predictor = GAEPredictor | NCNPredictor | NCNCPredictor | NCNDiffPredictor | GRITPairPredictor
Encoder = MPNNEncoder | GRITLinkEncoder


def _encode(encoder: torch.nn.Module, x: Tensor | None, graph: CSR) -> tuple[Tensor, Any]:
    """``(h, what the predictor reads as adj)``: the graph itself for a message-passing
    encoder; an encoder that returns ``(h, state)`` (:class:`GRITLinkEncoder`: the pair
    states) hands its state over instead."""
    out = encoder(x, graph)
    if isinstance(out, tuple):
        return out[0], out[1]
    return out, graph


def bce_loss(pos: Tensor, neg: Tensor) -> Tensor:
    r"""NCN's loss (spec §3.4): two separate means, summed.

    .. math::
        L = \operatorname{mean}_b\big[-\log\sigma(s^+_b)\big]
          + \operatorname{mean}_b\big[-\log\sigma(-s^-_b)\big]

    The reference adds 1e-15 inside the logarithms; ``logsigmoid`` is the exact, stable form.

    Args:
        pos: Logits of the positive pairs.
        neg: Logits of the negative pairs.

    Shapes:
        - pos: ``[B]``; neg: ``[B']`` (any number of negatives)
        - output: ``[]``

    Example:
        >>> bce_loss(torch.zeros(4), torch.zeros(4))  # 2 log 2
        tensor(1.3863)
    """
    return -F.logsigmoid(pos).mean() - F.logsigmoid(-neg).mean()


def link_objective(config: LinkConfig) -> Callable[[Tensor, Tensor], Tensor]:
    """The training loss ``f(pos [B], neg [B, K]) -> []`` that ``config.loss`` names.

    ``'bce'`` with K > 1 averages the log-loss over all B·K negatives, so K = 1 is NCN's
    :func:`bce_loss` exactly.

    Args:
        config: The run configuration (``loss``, ``temperature``, ``ranking_kind``,
            ``margin``).

    Example:
        >>> from graphpair.train import link_config
        >>> loss_fn = link_objective(link_config("karate", loss="infonce"))
        >>> loss_fn(torch.zeros(3), torch.zeros(3, 4))  # log(1 + 4)
        tensor(1.6094)
    """
    if config.loss == "infonce":
        return partial(link_info_nce, temperature=config.temperature)
    if config.loss == "ranking":
        return partial(pairwise_ranking, kind=config.ranking_kind, margin=config.margin)
    return lambda pos, neg: bce_loss(pos, neg.reshape(-1))


#: Dense features with at most this share of nonzeros are handed to the encoder as sparse.
SPARSE_FEATURE_DENSITY = 0.1


def _is_sparse_enough(x: Tensor) -> bool:
    return x.numel() > 0 and int(torch.count_nonzero(x)) <= SPARSE_FEATURE_DENSITY * x.numel()


def _node_input(config: LinkConfig, data: object) -> tuple[Tensor | None, int | None, int | None]:
    """``(x, in_channels, num_embeddings)`` for the encoder from the graph and the config."""
    x = getattr(data, "x", None)
    num_nodes = int(getattr(data, "num_nodes"))  # noqa: B009 (Data is untyped)
    kind = config.node_input
    if kind == "auto":
        kind = "features" if x is not None else "id"
    if kind in ("features", "category") and x is None:
        raise ConfigError(
            "node_input",
            f"node_input={config.node_input!r} needs node features, and {config.data_name!r} has "
            "none; use node_input='id'",
        )
    if kind == "features":
        assert x is not None
        features = x.float() if not x.is_sparse else x
        sparse_ok = config.predictor != "grit-pair"  # GRIT's input map is a dense Linear
        if sparse_ok and features.layout == torch.strided and _is_sparse_enough(features):
            # Bag-of-words features (Cora 1.3 % nonzero, CiteSeer 0.9 %): the encoder keeps a
            # sparse x sparse through its first Linear and drops out only the nonzeros, which
            # is the same distribution as dense dropout at a fraction of the cost. CSR layout:
            # its product with the weight is about 5x faster than COO's on CPU.
            features = to_sparse_csr(features)
        return features, int(x.size(1)), None
    if kind == "category":
        assert x is not None
        # One-hot categories (ogbl-ppa's 58 species) -> the category id per node.
        return x.to_dense().argmax(dim=1), None, int(x.size(1))
    # The reference sizes the id embedding max_x + 1 = N + 1 (one spare row, spec §2.9).
    return None, None, num_nodes + 1


def build_encoder(
    config: LinkConfig, in_channels: int | None, num_embeddings: int | None
) -> Encoder:
    """The :class:`~graphpair.nn.MPNNEncoder` described by ``config``, or for
    ``'grit-pair'`` the :class:`~graphpair.nn.GRITLinkEncoder`.

    Args:
        config: The run configuration.
        in_channels: Width of the node features, or ``None`` for a node-id embedding.
        num_embeddings: Rows of the node-id (or category) embedding, or ``None`` with
            features.

    Example:
        >>> from graphpair.ops import CSR
        >>> from graphpair.train import link_config
        >>> config = link_config("karate", hidden_channels=16)
        >>> encoder = build_encoder(config, in_channels=None, num_embeddings=35)
        >>> adj = CSR.from_edge_index(torch.tensor([[0, 1], [1, 2]]), num_nodes=34)
        >>> encoder(None, adj).shape  # no features: node-id embeddings
        torch.Size([34, 16])
    """
    if config.predictor == "grit-pair":
        return GRITLinkEncoder(
            in_channels,
            config.hidden_channels,
            config.num_layers,
            heads=config.heads,
            walk_length=config.walk_length,
            num_embeddings=num_embeddings,
            dropout=config.dropout,
            attn_dropout=config.attn_dropout,
            input_dropout=config.input_dropout,
            max_pairs=config.max_pairs,
        )
    return MPNNEncoder(
        in_channels,
        config.hidden_channels,
        config.num_layers,
        conv=config.conv,
        num_embeddings=num_embeddings,
        dropout=config.dropout,
        edge_dropout=config.edge_dropout,
        input_dropout=config.input_dropout,
        tail_dropout=config.tail_dropout,
        ln=config.ln,
        res=config.res,
        jk=config.jk,
    )


def build_predictor(config: LinkConfig) -> Predictor:
    """The link predictor described by ``config``.

    GAE gets only ``dropout`` and ``ln``, as the reference (quirk Q2a: its script never
    forwarded ``use_xlin``/``tailact``/``twolayerlin``/``beta`` to GAE).

    Args:
        config: The run configuration (``predictor`` and the ``predictor_*`` options).

    Example:
        >>> from graphpair.train import link_config
        >>> type(build_predictor(link_config("karate", "ncnc", hidden_channels=16))).__name__
        'NCNCPredictor'
    """
    width = config.hidden_channels
    if config.predictor == "grit-pair":
        return GRITPairPredictor(
            width, width, dropout=config.predictor_dropout, ln=config.predictor_ln
        )
    if config.predictor == "gae":
        return GAEPredictor(width, width, dropout=config.predictor_dropout, ln=config.predictor_ln)
    common: dict[str, Any] = {
        "dropout": config.predictor_dropout,
        "edge_dropout": config.predictor_edge_dropout,
        "ln": config.predictor_ln,
        "use_xlin": config.use_xlin,
        "tailact": config.tailact,
        "twolayerlin": config.twolayerlin,
        "beta": config.beta,
    }
    if config.predictor == "ncn":
        return NCNPredictor(width, width, **common)
    if config.predictor == "ncn-diff":
        return NCNDiffPredictor(width, width, **common)
    return NCNCPredictor(
        width,
        width,
        depth=2 if config.predictor == "ncnc2" else 1,
        scale=config.scale,
        offset=config.offset,
        pt=config.pt,
        alpha=config.alpha,
        chunk_size=config.chunk_size,
        official_recursion=config.official_recursion,
        **common,
    )


def _score(predictor: Predictor, h: Tensor, adj: Any, pairs: Tensor, batch_size: int) -> Tensor:
    """Logits of ``pairs`` ``[2, P]`` (or ``[2, P, K]`` -> ``[P, K]``), ``batch_size`` at a time."""
    flat = pairs.reshape(2, -1)
    out = [
        predictor(h, adj, flat[:, start : start + batch_size]).float()
        for start in range(0, flat.size(1), batch_size)
    ]
    scores = torch.cat(out) if out else h.new_zeros(0)
    return scores.view(pairs.shape[1:])


def _metric_values(metrics: Sequence[str], pos: Tensor, neg: Tensor) -> dict[str, float]:
    """OGB-identical metric values; ``neg`` is a shared pool ``[Q]`` or per positive ``[P, K]``."""
    pos, neg = pos.cpu(), neg.cpu()
    out: dict[str, float] = {}
    for name in metrics:
        if name.startswith("hits@") and neg.dim() == 2:
            out[name] = ranked_hits_at_k(pos, neg, int(name[5:]))
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
        >>> from graphpair.train import link_config
        >>> config = link_config("karate", hidden_channels=16)
        >>> encoder, predictor = build_encoder(config, None, 35), build_predictor(config)
        >>> split = link_split(load_dataset("karate"), seed=0)
        >>> adj = CSR.from_edge_index(split.edge_index("train"), num_nodes=34)
        >>> valid, test = evaluate_link(encoder, predictor, None, adj, adj, split,
        ...                             ["hits@20", "rocauc"], batch_size=1024)
        >>> sorted(test)
        ['hits@20', 'rocauc']
    """
    encoder.eval()
    predictor.eval()
    h, state = _encode(encoder, x, adj)
    device = h.device
    results = []
    for stage, graph in (("valid", adj), ("test", adj_test)):
        if graph is not adj:
            h, state = _encode(encoder, x, graph)
        pos = _score(predictor, h, state, split.pos(stage).to(device), batch_size)
        neg = _score(predictor, h, state, split.neg(stage).to(device), batch_size)
        results.append(_metric_values(metrics, pos, neg))
    return results[0], results[1]


def _check_split(config: LinkConfig, split: LinkSplit) -> None:
    per_positive = split.valid_neg.dim() == 3
    if "mrr" in config.metrics and not per_positive:
        raise ConfigError(
            "metrics",
            f"metric 'mrr' needs negatives per positive, and {config.data_name!r} has a shared "
            "pool; use 'hits@K' or 'rocauc'",
        )
    num_train = split.train_pos.size(1)
    if config.batch_size > num_train:
        raise ConfigError(
            "batch_size",
            f"batch_size must be at most the {num_train} training positives of "
            f"{config.data_name!r} (the last partial batch is dropped); got {config.batch_size}",
        )


@dataclasses.dataclass(frozen=True)
class Shard:
    """This process's place among ``world`` processes (``torchrun``); ``(0, 1)`` alone."""

    rank: int = 0
    world: int = 1


def distributed_shard() -> Shard:
    """The :class:`Shard` of this process: from the initialised default process group, else
    from ``torchrun``'s ``RANK`` / ``WORLD_SIZE`` (initialising the group), else ``(0, 1)``."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return Shard(dist.get_rank(), dist.get_world_size())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not dist.is_available():
        return Shard()
    backend = "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
    dist.init_process_group(backend)
    return Shard(dist.get_rank(), dist.get_world_size())


class _Step(torch.nn.Module):
    """Encoder and predictor as one module, so that one training step is one forward call
    (what ``DistributedDataParallel`` synchronises)."""

    def __init__(self, encoder: torch.nn.Module, predictor: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor

    def forward(
        self, x: Tensor | None, graph: CSR, pos: Tensor, neg: Tensor
    ) -> tuple[Tensor, Tensor]:
        h, state = _encode(self.encoder, x, graph)
        pos_scores = self.predictor(h, state, pos)  # positives first, as the reference
        return pos_scores, self.predictor(h, state, neg)


def _train_epoch(
    config: LinkConfig,
    encoder: torch.nn.Module,
    predictor: Predictor,
    optimizer: torch.optim.Optimizer,
    x: Tensor | None,
    adj: CSR,
    train_pos: Tensor,
    train_graph: Tensor,
    generator: torch.Generator,
    step: torch.nn.Module | None = None,
    shard: Shard = Shard(),
    on_step: Callable[[int, int, float], None] | None = None,
) -> float:
    """One epoch. With ``shard.world > 1`` every process draws the same permutation and
    negatives, masks the whole global batch (target link removal as in one process), runs the
    encoder on the whole graph and scores its contiguous ``1 / world`` of the batch;
    ``step`` (a ``DistributedDataParallel``) averages the gradients, so a step's update is the
    one-process update on the global batch. ``on_step(step, steps, loss)`` follows every
    optimizer step."""
    encoder.train()
    predictor.train()
    if step is None:
        step = _Step(encoder, predictor)
    device = train_pos.device
    num_nodes = adj.num_nodes
    num_pos = train_pos.size(1)
    k = config.num_negatives
    objective = link_objective(config)
    neg_all = None
    if config.negatives == "global":
        # K uniform negatives per positive, drawn once per epoch from the non-edges of the
        # training graph (ordered pairs, as PyG's sampler in the reference; K = 1 there).
        neg_all = negative_sampling(
            train_graph, num_nodes, num_pos * k, directed=True, generator=generator
        ).to(device)
        neg_all = neg_all.view(2, num_pos, k)  # [2, P, K]
    perm = torch.randperm(num_pos, generator=generator).to(device)
    batch = config.batch_size
    local = batch // shard.world
    mine = slice(shard.rank * local, (shard.rank + 1) * local)
    losses = []
    for start in range(0, num_pos - batch + 1, batch):  # full batches only
        idx = perm[start : start + batch]
        pos = train_pos[:, idx]
        if neg_all is not None:
            neg = neg_all[:, idx].reshape(2, -1)  # [2, B * K], each positive's K together
        else:
            dst = torch.randint(0, num_nodes, (batch * k,), generator=generator).to(device)
            neg = torch.stack([pos[0].repeat_interleave(k), dst])
        optimizer.zero_grad()
        masked = adj.masked(pos) if config.tlr else contextlib.nullcontext(adj)
        with masked as graph:
            # The whole step, backward included, sees the masked graph.
            if shard.world > 1:
                pos, neg = pos[:, mine], neg.view(2, batch, k)[:, mine].reshape(2, -1)
            pos_scores, neg_scores = step(x, graph, pos, neg)
            loss = objective(pos_scores, neg_scores.view(local, k))  # neg [B, K]
            loss.backward()  # type: ignore[no-untyped-call]
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(encoder.parameters(), config.grad_clip)
            torch.nn.utils.clip_grad_norm_(predictor.parameters(), config.grad_clip)
        optimizer.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(len(losses), num_pos // batch, losses[-1])
    mean = sum(losses) / len(losses)
    if shard.world > 1:  # the loss of the global batches
        import torch.distributed as dist

        total = torch.tensor(mean, dtype=torch.float64, device=device)
        dist.all_reduce(total)
        mean = float(total) / shard.world
    return mean


def _run(
    config: LinkConfig,
    data: object,
    split: LinkSplit,
    seed: int,
    run_index: int,
    on_epoch: EpochCallback | None,
    checkpoints: RunCheckpoints | None = None,
    shard: Shard = Shard(),
    on_step: StepCallback | None = None,
) -> RunResult:
    start = time.perf_counter()
    saved = checkpoints.load(seed) if checkpoints is not None else None
    if saved is not None and saved.get("result") is not None:
        log.info("run %d seed %d: finished in a checkpoint, not repeated", run_index, seed)
        return RunResult.from_state(saved["result"])
    device = torch.device(config.device)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)

    x, in_channels, num_embeddings = _node_input(config, data)
    if x is not None:
        x = x.to(device)
    encoder = build_encoder(config, in_channels, num_embeddings).to(device)
    predictor = build_predictor(config).to(device)
    optimizer = torch.optim.Adam(
        [
            {"params": list(encoder.parameters()), "lr": config.gnnlr},
            {"params": list(predictor.parameters()), "lr": config.prelr},
        ]
    )
    num_parameters = sum(
        p.numel() for m in (encoder, predictor) for p in m.parameters() if p.requires_grad
    )

    train_graph = split.edge_index("train")
    adj = CSR.from_edge_index(train_graph, split.num_nodes).to(device)
    adj_test = adj
    if split.valid_as_input:
        adj_test = CSR.from_edge_index(split.edge_index("test"), split.num_nodes).to(device)
    train_pos = split.train_pos.to(device)
    if isinstance(encoder, GRITLinkEncoder):
        for graph in (adj, adj_test):  # refuse an oversized pair set before any training
            try:
                encoder.check_size(graph)
            except ValueError as err:
                raise ConfigError("max_pairs", f"{config.data_name!r}: {err}") from None

    history: list[EpochRecord] = []
    stopping = EarlyStopping(config.patience)
    first_epoch, earlier_seconds = 1, 0.0
    if saved is not None:  # continue where the checkpoint left off, random states included
        history, first_epoch, earlier_seconds = restore_run(
            saved,
            modules={"encoder": encoder, "predictor": predictor},
            optimizer=optimizer,
            generator=generator,
            device=device,
        )
        for record in history:
            stopping.update(record.valid[config.metric])
        log.info("run %d seed %d: resumed after epoch %d", run_index, seed, first_epoch - 1)

    def state(epoch: int) -> dict[str, Any]:
        return run_state(
            epoch,
            modules={"encoder": encoder, "predictor": predictor},
            optimizer=optimizer,
            generator=generator,
            device=device,
            history=history,
            seconds=earlier_seconds + time.perf_counter() - start,
        )

    step: torch.nn.Module = _Step(encoder, predictor)
    if shard.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        # Same seed on every rank: same initial weights, permutations and negatives. Dropout
        # draws differ per rank, as they cover different pairs.
        torch.manual_seed(seed * 65_537 + shard.rank)
        step = DistributedDataParallel(
            step,
            device_ids=[device.index or 0] if device.type == "cuda" else None,
        )
    for epoch in range(first_epoch, config.epochs + 1):
        tick = time.perf_counter()
        loss = _train_epoch(
            config,
            encoder,
            predictor,
            optimizer,
            x,
            adj,
            train_pos,
            train_graph,
            generator,
            step,
            shard,
            None if on_step is None else functools.partial(on_step, run_index),
        )
        train_seconds = time.perf_counter() - tick
        if epoch % config.eval_every and epoch != config.epochs:
            if checkpoints is not None:
                checkpoints.save(seed, state(epoch))
            continue
        tick = time.perf_counter()
        valid, test = _evaluate_once(config, encoder, predictor, x, adj, adj_test, split, shard)
        record = EpochRecord(epoch, loss, valid, test, train_seconds, time.perf_counter() - tick)
        history.append(record)
        log.info(
            "run %d seed %d epoch %d: loss %.4f, valid %s %.4f, test %.4f",
            run_index,
            seed,
            epoch,
            loss,
            config.metric,
            valid[config.metric],
            test[config.metric],
        )
        if on_epoch is not None:
            on_epoch(run_index, record)
        stop = stopping.update(valid[config.metric])
        if checkpoints is not None:
            checkpoints.save(seed, state(epoch))
        if stop:
            log.info("run %d seed %d: early stop after epoch %d", run_index, seed, epoch)
            break
    result = RunResult(
        seed=seed,
        best=select_best(history, config.metrics),
        history=tuple(history),
        num_parameters=num_parameters,
        seconds=earlier_seconds + time.perf_counter() - start,
    )
    if checkpoints is not None:  # finished: a resume returns this result, trains nothing
        checkpoints.save(seed, {"epoch": history[-1].epoch, "result": result.to_state()})
    return result


def _evaluate_once(
    config: LinkConfig,
    encoder: torch.nn.Module,
    predictor: Predictor,
    x: Tensor | None,
    adj: CSR,
    adj_test: CSR,
    split: LinkSplit,
    shard: Shard,
) -> tuple[dict[str, float], dict[str, float]]:
    """Evaluation on rank 0 only; the other ranks receive its metrics (so every rank makes
    the same early-stopping decision)."""
    values: list[Any] = [None]
    if shard.rank == 0:
        values[0] = evaluate_link(
            encoder, predictor, x, adj, adj_test, split, config.metrics, config.test_batch_size
        )
    if shard.world > 1:
        import torch.distributed as dist

        dist.broadcast_object_list(values, src=0)
    valid, test = values[0]
    return valid, test


def _splits(config: LinkConfig, dataset: LoadedDataset) -> Iterator[tuple[int, LinkSplit]]:
    official = None
    if dataset.link_split is not None:
        official = link_split(dataset)  # fixed: audited once, shared by every run
    for run in range(config.runs):
        seed = config.seed + run
        split = official if official is not None else link_split(dataset, seed)
        if config.valid_as_input is not None and split.valid_as_input != config.valid_as_input:
            split = dataclasses.replace(split, valid_as_input=config.valid_as_input)
        yield seed, split


@honour_deterministic
def train_link(
    config: LinkConfig,
    *,
    on_epoch: EpochCallback | None = None,
    on_run: RunCallback | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    on_step: StepCallback | None = None,
) -> LinkResult:
    """Train and evaluate ``config.runs`` independent runs of a link predictor.

    Implements ``specs/ncn.md`` §3 and §4: full-graph encoder every step over a CSR with the
    step's positive targets masked (target link removal through the edge mask, no rebuild),
    full mini-batches of target pairs, one negative per positive, NCN's BCE, Adam with the
    encoder and predictor learning rates, per-metric model selection on validation, and seeds
    ``config.seed .. config.seed + runs - 1``. Every split used is audited for leakage.

    Args:
        config: the run configuration (see :func:`graphpair.train.link_config`).
        on_epoch: called as ``on_epoch(run_index, record)`` after every evaluation.
        on_run: called as ``on_run(run_index, result)`` after every run.
        on_step: called as ``on_step(run_index, step, steps, loss)`` after every training
            step (:class:`StepCallback`).
        checkpoint_dir: write a checkpoint of every run after every epoch into this folder
            (:class:`~graphpair.train.RunCheckpoints`: atomic, checksummed, one subfolder per
            configuration). ``None`` = no checkpoints.
        resume: continue from the checkpoints in ``checkpoint_dir``: finished runs are read
            back, not repeated; an unfinished run continues after its last saved epoch with
            its saved model, optimizer and random states, so on CPU the result equals an
            uninterrupted run's. Without ``resume``, existing checkpoints of the same
            configuration are an error.

    Returns:
        A :class:`LinkResult`; ``result.summary()`` is the paper-style mean ± std ×100.

    Raises:
        ConfigError: the device is unavailable, or the data do not fit the config (e.g.
            ``batch_size`` larger than the training set, ``'mrr'`` with shared negatives), or
            ``checkpoint_dir`` holds checkpoints of this configuration without ``resume``.
        CheckpointError: a checkpoint to resume from is truncated, corrupted, foreign, or
            from another configuration.

    Example:
        Two epochs of NCN on the karate club graph (a few hundred milliseconds on a CPU):

        >>> from graphpair.train import link_config
        >>> config = link_config("karate", "ncn", epochs=2, runs=1, hidden_channels=16,
        ...                      batch_size=16, metrics=("rocauc",), metric="rocauc")
        >>> result = train_link(config)
        >>> len(result.runs), [record.epoch for record in result.runs[0].history]
        (1, [1, 2])
        >>> result.summary().metric
        'rocauc'
    """
    if not isinstance(config, LinkConfig):
        raise TypeError(f"config must be a LinkConfig; got {type(config).__name__}")
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"device {config.device!r} is not available here")
    shard = distributed_shard()
    if shard.world > 1 and config.batch_size % shard.world:
        raise ConfigError(
            "batch_size",
            f"batch_size must be a multiple of the {shard.world} processes (each scores an "
            f"equal share of every batch); got {config.batch_size}",
        )
    if shard.world > 1 and checkpoint_dir is not None:
        raise ConfigError(
            "checkpoint_dir", "checkpoints are not supported with several processes yet"
        )
    checkpoints = open_checkpoints(checkpoint_dir, config, resume=resume, device=device)
    start = time.perf_counter()
    if config.edge_list is not None:
        dataset = load_edge_list(config.edge_list)
    else:
        dataset = load_dataset(
            config.dataset, config.data_root, cache=config.cache, download=config.download
        )
    log.info("loaded %s", dataset)
    runs = []
    for run_index, (seed, split) in enumerate(_splits(config, dataset)):
        _check_split(config, split)
        result = _run(
            config, dataset.data, split, seed, run_index, on_epoch, checkpoints, shard, on_step
        )
        runs.append(result)
        if on_run is not None:
            on_run(run_index, result)
    return LinkResult(config=config, runs=tuple(runs), seconds=time.perf_counter() - start)
