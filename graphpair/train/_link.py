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
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

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
from graphpair.nn import GRITLinkEncoder, LinkModel
from graphpair.ops import CSR
from graphpair.train._allocator import release_freed_memory
from graphpair.train._artifact import BestState, check_output_folder
from graphpair.train._callbacks import EpochCallback, RunCallback, StepCallback
from graphpair.train._checkpoint import (
    RunCheckpoints,
    open_checkpoints,
    restore_run,
    run_state,
)
from graphpair.train._config import ConfigError, LinkConfig
from graphpair.train._deterministic import honour_deterministic
from graphpair.train._link_builder import Predictor, build_encoder, build_predictor, node_input
from graphpair.train._link_eval import link_scores, metric_values
from graphpair.train._link_sampling import sampler_fanout, step_module, step_seed
from graphpair.train._link_saving import add_predictions, save_finished, save_link_model
from graphpair.train._memory import MemoryEstimate, check_link_memory, estimate_link_memory
from graphpair.train._model_saving import kept_outputs, restore_best
from graphpair.train._predictions import PredictionTable, check_predictions_path
from graphpair.train._results import (
    EarlyStopping,
    EpochRecord,
    LinkResult,
    RunResult,
    select_best,
)

__all__ = ["bce_loss", "link_objective", "train_link"]

log = logging.getLogger(__name__)


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
        step = LinkModel(encoder, predictor)
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
        # a sampled step's neighbour draws: one seed from the run's generator, the same on
        # every process (each samples for its own pairs), so permutations stay in step
        extra = {} if config.sampler == "full" else {"seed": step_seed(generator, shard.rank)}
        optimizer.zero_grad()
        masked = adj.masked(pos) if config.tlr else contextlib.nullcontext(adj)
        with masked as graph:
            # The whole step, backward included, sees the masked graph.
            if shard.world > 1:
                pos, neg = pos[:, mine], neg.view(2, batch, k)[:, mine].reshape(2, -1)
            pos_scores, neg_scores = step(x, graph, pos, neg, **extra)
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
    save_to: Path | None = None,
    predictions: PredictionTable | None = None,
    on_estimate: Callable[[MemoryEstimate], None] | None = None,
) -> RunResult:
    start = time.perf_counter()
    saved = checkpoints.load(seed) if checkpoints is not None else None
    if saved is not None and saved.get("result") is not None:
        log.info("run %d seed %d: finished in a checkpoint, not repeated", run_index, seed)
        finished = RunResult.from_state(saved["result"])
        if save_to is not None and shard.rank == 0:
            save_finished(save_to, config, data, split, finished, saved.get("best"))
        if predictions is not None and shard.rank == 0:
            kept = BestState(higher_is_better=True, enabled=False)
            kept.load(kept_outputs(saved, seed, None))
            add_predictions(predictions, split, kept, seed)
        return finished
    device = torch.device(config.device)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)

    x, in_channels, num_embeddings = node_input(config, data)
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
    if run_index == 0:  # said, and checked, before the first step
        stages = (split.valid_pos, split.valid_neg, split.test_pos, split.test_neg)
        estimate = estimate_link_memory(
            config,
            adj,
            train_pos,
            in_channels,
            num_embeddings,
            test_stage_graph=adj_test is not adj,
            eval_pairs=max(t[0].numel() for t in stages),
        )
        log.info("%s", estimate.describe())
        if on_estimate is not None and shard.rank == 0:
            on_estimate(estimate)
        check_link_memory(estimate, config)
    if isinstance(encoder, GRITLinkEncoder):
        for graph in (adj, adj_test):  # refuse an oversized pair set before any training
            try:
                encoder.check_size(graph)
            except ValueError as err:
                raise ConfigError("max_pairs", f"{config.data_name!r}: {err}") from None
    release_freed_memory()  # the set-up's freed blocks, under the runner's --allocator reuse

    history: list[EpochRecord] = []
    stopping = EarlyStopping(config.patience)
    # The model (for save_to) and the scores (for predictions) of the selected epoch of
    # config.metric, checkpointed so a resumed run saves the same ones.
    best = BestState(higher_is_better=True, enabled=save_to is not None and shard.rank == 0)
    keep_best = best.enabled or (predictions is not None and shard.rank == 0)
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
        if best.enabled:  # the selected weights may be from before the interruption
            restore_best(best, saved, save_model=save_to, seed=seed)
        if predictions is not None and shard.rank == 0 and history:
            # The scores of an epoch selected before the interruption must be in it.
            best.load(kept_outputs(saved, seed, None))
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
            **({"best": best.state()} if keep_best else {}),
        )

    step = step_module(config, encoder, predictor, adj)
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
        scores: dict[str, tuple[Tensor, Tensor]] | None = None if predictions is None else {}
        valid, test = _evaluate_once(
            config, encoder, predictor, x, adj, adj_test, split, shard, scores
        )
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
        selected = {"outputs": scores} if scores is not None else None
        best.consider(
            epoch,
            valid[config.metric],
            {"encoder": encoder, "predictor": predictor},
            None if selected is None else functools.partial(dict, selected),
        )
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
    if best.enabled and save_to is not None:
        save_link_model(save_to, config, data, train_graph, split.num_nodes, best, result)
    if predictions is not None and shard.rank == 0:
        add_predictions(predictions, split, best, seed)
    if checkpoints is not None:  # finished: a resume returns this result, trains nothing
        done = {"epoch": history[-1].epoch, "result": result.to_state()}
        if keep_best:
            done["best"] = best.state()
        checkpoints.save(seed, done)
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
    scores_out: dict[str, tuple[Tensor, Tensor]] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Evaluation on rank 0 only; the other ranks receive its metrics (so every rank makes
    the same early-stopping decision). ``scores_out`` receives rank 0's scores."""
    values: list[Any] = [None]
    if shard.rank == 0:
        scores = link_scores(encoder, predictor, x, adj, adj_test, split, config.test_batch_size)
        values[0] = tuple(
            metric_values(config.metrics, *scores[stage]) for stage in ("valid", "test")
        )
        if scores_out is not None:
            scores_out.update(scores)
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
    save_model: str | os.PathLike[str] | None = None,
    save_predictions: str | os.PathLike[str] | None = None,
    on_estimate: Callable[[MemoryEstimate], None] | None = None,
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
        save_model: write the model of every run's selected epoch (on ``config.metric``)
            into ``save_model/run-<seed>``: weights (tensors only), the training graph and a
            JSON manifest; :func:`graphpair.load_model` reads it back to score pairs and
            recommend links. Checked before any work.
        save_predictions: write the scores behind every run's test and validation metrics
            (OGB's ``y_pred_pos`` / ``y_pred_neg`` at the selected epoch of
            ``config.metric``) with the pair ids to this ``.npz`` or ``.csv`` file, rewritten
            after every run (columns: ``seed``, ``epoch``, ``stage`` 0 valid / 1 test,
            ``label``, ``positive``, ``source``, ``target``, ``score``). Checked before any
            work.
        on_estimate: called with the run's :class:`~graphpair.train.MemoryEstimate` before
            the first step (with ``config.memory_check``, a run estimated not to fit is
            refused then, naming the options that help).

    Returns:
        A :class:`LinkResult`; ``result.summary()`` is the paper-style mean ± std ×100.

    Raises:
        ValueError: ``save_model`` is a file.
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
    sampler_fanout(config)  # a bad sampler / fanout choice fails before any work
    check_output_folder("save_model", save_model)
    check_output_folder("checkpoint_dir", checkpoint_dir)
    check_predictions_path(save_predictions)
    table = None if save_predictions is None else PredictionTable()
    checkpoints = open_checkpoints(checkpoint_dir, config, resume=resume, device=device)
    start = time.perf_counter()
    if config.edge_list is not None:
        dataset = load_edge_list(config.edge_list, header=config.header)
    else:
        dataset = load_dataset(
            config.dataset, config.data_root, cache=config.cache, download=config.download
        )
    log.info("loaded %s", dataset)
    runs = []
    for run_index, (seed, split) in enumerate(_splits(config, dataset)):
        _check_split(config, split)
        result = _run(
            config,
            dataset.data,
            split,
            seed,
            run_index,
            on_epoch,
            checkpoints,
            shard,
            on_step,
            None if save_model is None else Path(save_model),
            table,
            on_estimate,
        )
        if table is not None and save_predictions is not None and shard.rank == 0:
            table.write(save_predictions)  # after every run: nothing finished is lost
        runs.append(result)
        if on_run is not None:
            on_run(run_index, result)
    return LinkResult(config=config, runs=tuple(runs), seconds=time.perf_counter() - start)
