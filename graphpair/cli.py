"""The ``graphpair`` command.

Subcommands:

``demo``
    The link-prediction job in miniature on the embedded default graph (generated, no
    download): the registry, NCN's seeded split and its leakage audit, and a common-neighbour
    scorer evaluated with OGB-identical Hits@K. Then a short tour of the ops layer on the Les
    Misérables co-occurrence graph from networkx: CSR adjacency, target link removal by the
    edge mask, common neighbours on held-out edges, and random-walk powers (GRIT's RRWP).

``link``
    Train and evaluate link predictors (NCN, NCNC, GAE, ...) with the dataset's shipped
    configuration, overridden by flags, and print a leaderboard-style table
    (``graphpair link --dataset cora --predictor ncn,ncnc --runs 10``; ``docs/link.md``).

``graph``
    Train and evaluate graph-level models (GIN, GINE, GCN, SAGE, SINC-GCN, SIR-GCN, GRIT) on
    graph sets (graph regression / classification, node classification on sets of graphs)
    with the dataset's shipped configuration, overridden by flags, and print a table
    (``graphpair graph --dataset zinc --model grit,gine --epochs 10``; ``docs/graph.md``).

``pretrain``
    GRACE contrastive pre-training of a GCN encoder with GRACE's published configuration,
    scored by a linear probe on the frozen representations
    (``graphpair pretrain --dataset cora --runs 3``; ``docs/losses.md``).

``node``
    Node classification on one graph (Cora, CiteSeer, PubMed, ogbn-arxiv): an encoder and a
    linear head over seeds (``graphpair node --dataset cora --conv gcn,sage --runs 10``).

``report``
    A leaderboard table from the runners' JSON records (one row per configuration, mean ± std
    over seeds), and with ``--output-dir`` markdown, CSV and PNG figures
    (``graphpair report runs/*.jsonl --output-dir report/``).

``datasets``
    The dataset registry: task, headline metric, split protocol, size, and whether the raw
    files are under the data root (``graphpair datasets --task link --data-root DIR``), as
    text, markdown, CSV or JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import io
import json
import math
import os
import statistics
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from graphpair import __version__
from graphpair.data import DatasetSpec, data_root, dataset_names, get_spec, link_split, load_dataset
from graphpair.data._io import atomic_write_bytes
from graphpair.metrics import Evaluator
from graphpair.ops import CSR, common_neighbors, neighbor_overlap, random_walk_powers
from graphpair.train import (
    GRAPH_MODELS,
    LINK_PREDICTORS,
    CheckpointError,
    ConfigError,
    EpochRecord,
    GRACEConfig,
    GraphConfig,
    GraphResult,
    GraphRun,
    LinkConfig,
    LinkResult,
    ReportError,
    RunResult,
    grace_config,
    graph_config,
    group_records,
    link_config,
    read_records,
    render_csv,
    render_markdown,
    train_grace,
    train_graph,
    train_link,
    write_report,
)
from graphpair.train._link import distributed_shard
from graphpair.train._node import NodeConfig, NodeResult, NodeRun, node_config, train_node
from graphpair.train._store import append_records

__all__ = ["build_parser", "main"]


def _builtin_edge_index() -> tuple[torch.Tensor, int]:
    import networkx as nx

    graph = nx.convert_node_labels_to_integers(nx.les_miserables_graph())
    edges = torch.tensor(sorted(graph.edges()), dtype=torch.long).t()
    return edges, graph.number_of_nodes()


def _cn_scores(adj: CSR, pairs: torch.Tensor) -> torch.Tensor:
    """Number of common neighbours of each pair, the classic link heuristic."""
    return torch.bincount(common_neighbors(adj, pairs).pair_idx, minlength=pairs.size(1)).double()


def _link_job(args: argparse.Namespace) -> None:
    out = sys.stdout
    dataset = load_dataset("default", seed=args.seed)
    split = link_split(dataset, seed=args.seed)  # audited: raises on any leakage
    sizes = split.sizes()
    print(
        f"graphpair {__version__} demo: dataset {dataset.name!r} "
        f"({dataset.data.num_nodes} nodes, {dataset.data.edge_index.size(1) // 2} edges), "
        f"split {split.protocol!r} seed {args.seed}: {sizes['train_pos']} train / "
        f"{sizes['valid_pos']} valid / {sizes['test_pos']} test positives, audit passed",
        file=out,
    )
    adj = CSR.from_edge_index(split.edge_index("test"), split.num_nodes)
    evaluator = Evaluator.from_dataset(dataset.name)
    result = evaluator(
        {
            "y_pred_pos": _cn_scores(adj, split.test_pos),
            "y_pred_neg": _cn_scores(adj, split.test_neg),
        }
    )
    print(
        f"  common-neighbour scorer on the test split: {evaluator.metric} = "
        f"{result[evaluator.metric]:.4f}",
        file=out,
    )


def _demo(args: argparse.Namespace) -> int:
    out = sys.stdout
    _link_job(args)
    generator = torch.Generator().manual_seed(args.seed)
    edge_index, num_nodes = _builtin_edge_index()
    num_undirected = edge_index.size(1)
    print(
        f"ops tour: the Les Misérables co-occurrence graph "
        f"({num_nodes} nodes, {num_undirected} edges)",
        file=out,
    )

    # Hold out 10% of the edges as link-prediction targets; the rest is the observed graph.
    perm = torch.randperm(num_undirected, generator=generator)
    num_test = max(1, num_undirected // 10)
    test_pos = edge_index[:, perm[:num_test]]
    adj = CSR.from_edge_index(edge_index[:, perm[num_test:]], num_nodes)
    print(f"  observed graph: {adj}", file=out)

    # Negatives: uniformly drawn node pairs that are neither observed nor held out.
    full = CSR.from_edge_index(edge_index, num_nodes)
    cand = torch.randint(0, num_nodes, (2, 20 * num_test), generator=generator)
    cand = cand[:, (cand[0] != cand[1]) & ~full.has_edge(cand)]
    test_neg = cand[:, :num_test]

    pos_cn = torch.bincount(
        common_neighbors(adj, test_pos).pair_idx, minlength=test_pos.size(1)
    ).float()
    neg_cn = torch.bincount(
        common_neighbors(adj, test_neg).pair_idx, minlength=test_neg.size(1)
    ).float()
    wins = (pos_cn.view(-1, 1) > neg_cn.view(1, -1)).float() + 0.5 * (
        pos_cn.view(-1, 1) == neg_cn.view(1, -1)
    ).float()
    print(
        f"  common neighbours: held-out edges {pos_cn.mean():.2f} on average, "
        f"non-edges {neg_cn.mean():.2f}; "
        f"a held-out edge outranks a non-edge {wins.mean():.1%} of the time",
        file=out,
    )

    # Target link removal: the batch's own edges vanish from the structure for one step.
    batch = edge_index[:, perm[num_test : num_test + 4]]
    before = neighbor_overlap(adj, batch)
    with adj.masked(batch):
        during = neighbor_overlap(adj, batch)
        masked = adj.num_masked
    print(
        f"  target link removal: masked {masked} entries for a batch of {batch.size(1)} "
        f"training edges; neighbour differences {before.i_only.node_idx.numel()} -> "
        f"{during.i_only.node_idx.numel()} "
        f"(the targets themselves drop out), common neighbours unchanged: "
        f"{torch.equal(before.common.node_idx, during.common.node_idx)}",
        file=out,
    )

    rw = random_walk_powers(full.to_edge_index(), walk_length=args.walk_length, num_nodes=num_nodes)
    rows = torch.zeros(num_nodes, args.walk_length).index_add_(0, rw.pair_index[0], rw.pair_val)
    print(
        f"  random-walk powers (K={args.walk_length}): {rw.pair_index.size(1)} reachable pairs of "
        f"{num_nodes * num_nodes}; every channel's rows sum to 1: "
        f"{bool(torch.allclose(rows, torch.ones_like(rows)))}; "
        f"return probability of node 0 after 2 steps {rw.node_val[0, 2]:.3f}",
        file=out,
    )
    return 0


# ------------------------------------------------------------------------------------ link

# Shorter spellings accepted besides the --field-name of every LinkConfig field.
_LINK_ALIASES = {"hidden_channels": ("--hidden",), "num_layers": ("--layers",)}
_PREDICTOR_LABELS = {
    "ncn": "NCN",
    "ncnc": "NCNC",
    "ncnc2": "NCNC2",
    "gae": "GAE",
    "ncn-diff": "NCN-diff",
    "grit-pair": "GRIT-pair",
}


def _encoder_label(cfg: LinkConfig) -> str:
    if cfg.predictor == "grit-pair":
        return f"GRIT/{cfg.num_layers}/{cfg.hidden_channels}, K={cfg.walk_length}"
    return f"{cfg.conv}/{cfg.num_layers}/{cfg.hidden_channels}"


def _say(out: Any, quiet: bool) -> Callable[[str], None]:
    """``print`` to ``out`` (flushed), or nothing under ``--quiet``."""

    def say(text: str) -> None:
        if not quiet:
            print(text, file=out, flush=True)

    return say


class _Progress:
    """Two tqdm bars on stderr: the run's epochs, with the last loss and validation value,
    and below it the current epoch's steps, with the step's loss. Off with ``--quiet``, and
    by tqdm itself when stderr is not a terminal (CI logs)."""

    def __init__(self, quiet: bool, runs: int, epochs: int, metric: str | None) -> None:
        self.disable: bool | None = True if quiet else None
        self.runs, self.epochs, self.metric = runs, epochs, metric
        self.run = -1
        self.bar: Any = None
        self.steps: Any = None

    def _start(self, run: int) -> None:
        from tqdm.auto import tqdm

        if run == self.run:
            return
        self.close()
        self.run = run
        self.bar = tqdm(
            total=self.epochs,
            desc=f"run {run + 1}/{self.runs}",
            unit="epoch",
            leave=False,
            disable=self.disable,
            file=sys.stderr,
        )

    def step(self, run: int, step: int, steps: int, loss: float) -> None:
        from tqdm.auto import tqdm

        self._start(run)
        if self.steps is None:
            self.steps = tqdm(
                total=steps,
                desc="  steps",
                unit="step",
                leave=False,
                position=1,
                disable=self.disable,
                file=sys.stderr,
            )
        if step == 1:
            self.steps.reset(total=steps)
        self.steps.update(step - self.steps.n)
        self.steps.set_postfix({"loss": f"{loss:.4f}"}, refresh=False)

    def epoch(self, run: int, record: EpochRecord) -> None:
        self._start(run)
        self.bar.update(record.epoch - self.bar.n)
        postfix = {"loss": f"{record.loss:.4f}"}
        metric = self.metric or next((k for k in record.valid if k != "loss"), None)
        if metric is not None and metric in record.valid:
            postfix[f"valid {metric}"] = f"{record.valid[metric]:.4f}"
        self.bar.set_postfix(postfix)  # redrawn once per epoch

    def close(self) -> None:
        for bar in (self.steps, self.bar):
            if bar is not None:
                bar.close()
        self.bar = self.steps = None


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def _optional(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text.strip().lower() == "none" else kind(text)

    parse.__name__ = getattr(kind, "__name__", "value")
    return parse


def _metric_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _option_value(text: str) -> Any:
    """A JSON scalar (``0.3``, ``100``, ``true``, ``null``), else the text itself."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, (bool, int, float, str, type(None))) else text


def _key_values(text: str) -> dict[str, Any]:
    """``'p=0.3,num_features=7'`` -> ``{'p': 0.3, 'num_features': 7}``."""
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE pairs; got {part!r}")
        out[key.strip()] = _option_value(value.strip())
    return out


def _add_config_flags(
    parser: argparse.ArgumentParser,
    config_class: type[Any],
    skip: tuple[str, ...],
    aliases: Mapping[str, tuple[str, ...]],
) -> None:
    """One flag per field of the dataclass ``config_class`` except ``skip`` (added
    separately); unset flags stay out of the namespace, so the dataset's shipped values
    apply."""
    hints = typing.get_type_hints(config_class)
    group = parser.add_argument_group(
        "configuration overrides (default: the dataset's shipped configuration; see --print-config)"
    )
    for field in dataclasses.fields(config_class):
        if field.name in skip:
            continue
        hint = hints[field.name]
        args = hint.__args__ if isinstance(hint, types.UnionType) else (hint,)
        base = next(a for a in args if a is not type(None))
        optional = type(None) in args
        names = (_flag(field.name), *aliases.get(field.name, ()))
        kwargs: dict[str, Any] = {"dest": field.name, "default": argparse.SUPPRESS}
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(base) is tuple:
            kwargs["type"] = _metric_list
            kwargs["metavar"] = "M1,M2"
        elif typing.get_origin(base) is Mapping:
            kwargs["type"] = _key_values
            kwargs["metavar"] = "KEY=VALUE,..."
        else:
            kwargs["type"] = _optional(base) if optional else base
            kwargs["metavar"] = base.__name__.upper() + ("|none" if optional else "")
        group.add_argument(*names, help=field.name, **kwargs)


def _read_config_file(path: str | None, config_class: type[Any]) -> dict[str, Any]:
    """The ``field: value`` mapping of a YAML (or JSON) ``--config`` file, keys checked
    against the fields of ``config_class`` (dashes read as underscores).

    Raises:
        ConfigError: ``field='config'``: the file is unreadable, not a mapping, or names an
            unknown field.
    """
    if path is None:
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError("config", f"cannot read {path!r}: {err}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            "config", f"{path!r} must hold a mapping of field: value; got {type(loaded).__name__}"
        )
    names = [f.name for f in dataclasses.fields(config_class)]
    values = {}
    for key, value in loaded.items():
        name = str(key).replace("-", "_")
        if name not in names:
            raise ConfigError("config", f"unknown field {key!r} in {path!r}; valid fields: {names}")
        values[name] = value
    return values


def _merged(
    args: argparse.Namespace, config_class: type[Any], selectors: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """``(selectors, overrides, from_file)``: the dataset/model names and the field values
    of ``--config`` <- flags (flags win); ``from_file`` names the fields only the file set."""
    from_file = _read_config_file(args.config, config_class)
    fields = {f.name for f in dataclasses.fields(config_class)} - set(selectors)
    flags = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    chosen = {
        name: getattr(args, name) if getattr(args, name) is not None else from_file.get(name)
        for name in selectors
    }
    overrides = {k: v for k, v in from_file.items() if k not in selectors}
    overrides.update(flags)
    return chosen, overrides, set(overrides) - set(flags)


def _build(make: Callable[[], Any], from_file: set[str], path: str | None) -> Any:
    """``make()``, with an error about a value that came from ``--config`` blamed on the
    file rather than on a flag."""
    try:
        return make()
    except ConfigError as err:
        if err.field in from_file:
            raise ConfigError("config", f"in {path!r}: {err}") from None
        raise


def _link_configs(args: argparse.Namespace) -> list[LinkConfig]:
    """The configurations asked for: dataset defaults <- ``--config`` <- flags, one per
    predictor.

    Raises:
        ConfigError: naming the field of the first bad value.
    """
    chosen, overrides, from_file = _merged(args, LinkConfig, ("dataset", "predictor"))
    dataset = chosen["dataset"] or "default"
    predictor = chosen["predictor"]
    if predictor is None:  # the README's main job: NCNC against GAE on the embedded default
        predictor = "ncnc,gae" if link_config(dataset).dataset == "default" else "ncn"
    predictors = [p.strip() for p in str(predictor).split(",") if p.strip()]
    if not predictors:
        raise ConfigError("predictor", f"predictor must name one of {list(LINK_PREDICTORS)}")
    return [
        _build(functools.partial(link_config, dataset, p, **overrides), from_file, args.config)
        for p in predictors
    ]


def _percent(mean: float, std: float) -> str:
    return f"{mean:.2f} ± {std:.2f}"


def _link_table(results: Sequence[LinkResult]) -> str:
    header = ("dataset", "model", "metric", "valid", "test", "params", "s/epoch", "total s")
    rows = [header]
    for result in results:
        cfg = result.config
        encoder = "GRIT" if cfg.predictor == "grit-pair" else cfg.conv
        label = f"{_PREDICTOR_LABELS[cfg.predictor]} ({encoder})"
        # The headline metric first, then the others the run tracked.
        for metric in (cfg.metric, *(m for m in cfg.metrics if m != cfg.metric)):
            s = result.summary(metric)
            rows.append(
                (
                    cfg.data_name,
                    label,
                    metric,
                    _percent(s.valid_mean, s.valid_std),
                    _percent(s.test_mean, s.test_std),
                    f"{result.num_parameters:,}",
                    f"{result.seconds_per_epoch:.3f}",
                    f"{result.seconds:.1f}",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _link(args: argparse.Namespace) -> int:
    out: Any = sys.stdout
    configs: list[LinkConfig] = args.configs
    if distributed_shard().rank != 0:  # under torchrun, rank 0 alone reports and writes
        out, args.quiet, args.output = io.StringIO(), True, None
    if args.print_config:
        payload = [cfg.to_dict() for cfg in configs]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2), file=out)
        return 0
    results = []
    say = _say(out, args.quiet)
    for cfg in configs:
        name = _PREDICTOR_LABELS[cfg.predictor]
        say(
            f"{cfg.data_name} {name}: {cfg.runs} run(s) x {cfg.epochs} epoch(s), "
            f"{_encoder_label(cfg)}, device {cfg.device}"
        )
        progress = _Progress(args.quiet, cfg.runs, cfg.epochs, cfg.metric)

        def on_epoch(
            run: int, record: EpochRecord, cfg: LinkConfig = cfg, progress: _Progress = progress
        ) -> None:
            progress.epoch(run, record)
            if args.verbose and not args.quiet:
                print(
                    f"  run {run} epoch {record.epoch}: loss {record.loss:.4f}, {cfg.metric} "
                    f"valid {100 * record.valid[cfg.metric]:.2f} "
                    f"test {100 * record.test[cfg.metric]:.2f} ({record.train_seconds:.2f} s)",
                    file=out,
                    flush=True,
                )

        def on_run(
            run: int, result: RunResult, cfg: LinkConfig = cfg, progress: _Progress = progress
        ) -> None:
            progress.close()
            if args.output is not None:  # stored as soon as it exists
                done = LinkResult(config=cfg, runs=(result,), seconds=result.seconds)
                append_records(args.output, done.to_records())
            best = result.best[cfg.metric]
            stopped = ""
            if result.history[-1].epoch < cfg.epochs:
                stopped = f", stopped early at epoch {result.history[-1].epoch}"
            say(
                f"  run {run + 1}/{cfg.runs} seed {result.seed}: {cfg.metric} valid "
                f"{100 * best.valid:.2f} test {100 * best.test:.2f} (epoch {best.epoch}){stopped}, "
                f"{result.seconds:.1f} s"
            )

        try:
            result = train_link(
                cfg,
                on_epoch=on_epoch,
                on_run=on_run,
                checkpoint_dir=args.checkpoint_dir,
                resume=args.resume,
                on_step=None if progress.disable else progress.step,
            )
        finally:
            progress.close()
        results.append(result)
    say("")
    print(_link_table(results), file=out)
    _write_summary(args.output, results, say)
    return 0


def _summary_paths(output: str) -> tuple[Path, Path]:
    """``runs.jsonl`` -> ``runs.summary.md``, ``runs.summary.csv`` (beside the records)."""
    path = Path(output)
    stem = path.with_suffix("") if path.suffix in (".jsonl", ".json") else path
    return stem.with_name(stem.name + ".summary.md"), stem.with_name(stem.name + ".summary.csv")


def _write_summary(output: str | None, results: Sequence[Any], say: Callable[[str], None]) -> None:
    """With ``--output``, the command's summary table (one row per configuration, mean ±
    std over its seeds, as ``graphpair report``) in markdown and CSV beside the records,
    each written atomically. A configuration asked for twice counts once."""
    if output is None:
        return
    records, seen = [], set()
    for result in results:
        for record in json.loads(json.dumps(result.to_records())):
            key = (json.dumps(record["config"], sort_keys=True), record["seed"], record.get("fold"))
            if key not in seen:
                seen.add(key)
                records.append(record)
    if not records:
        return
    groups = group_records(records)
    markdown, csv_path = _summary_paths(output)
    atomic_write_bytes(markdown, render_markdown(groups, f"Summary of {output}").encode())
    atomic_write_bytes(csv_path, render_csv(groups).encode())
    say(f"summary: {markdown}, {csv_path}")


def _add_runner_flags(parser: argparse.ArgumentParser) -> None:
    """``--output``, ``--verbose``, ``--checkpoint-dir`` and ``--resume`` of the runners."""
    parser.add_argument(
        "--output",
        default=None,
        help="append one JSON record per run to this file (a locked results store: a run is "
        "never stored twice), and write the command's summary table beside it as "
        "FILE.summary.md and FILE.summary.csv",
    )
    parser.add_argument("--verbose", action="store_true", help="print every evaluated epoch")
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        help="checkpoint every run after every epoch into this folder (atomic, checksummed)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from --checkpoint-dir: finished runs are not repeated, unfinished ones "
        "continue after their last epoch (on CPU with the same final numbers)",
    )


def _add_link_parser(sub: Any) -> None:
    link = sub.add_parser(
        "link",
        help="train and evaluate link predictors (NCN, NCNC, GAE) with per-dataset configs",
        description="Train and evaluate link predictors. Values come from the dataset's "
        "shipped configuration (the NCN paper's hyper-parameters), overridden by flags.",
    )
    link.add_argument(
        "--dataset",
        default=None,
        help="registered link dataset (default: 'default', the embedded synthetic graph)",
    )
    link.add_argument(
        "--predictor",
        "--model",
        default=None,
        help=f"one of {list(LINK_PREDICTORS)}, or several separated by commas (default: ncn; "
        "ncnc,gae on the embedded default graph)",
    )
    link.add_argument(
        "--print-config", action="store_true", help="print the merged configuration and exit"
    )
    link.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="YAML (or JSON) file of field: value pairs, applied over the dataset's shipped "
        "configuration and under the flags",
    )
    _add_runner_flags(link)
    link.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no per-run lines: only the final table (logs, CI)",
    )
    _add_config_flags(link, LinkConfig, ("dataset", "predictor"), _LINK_ALIASES)
    link.set_defaults(func=_link, make_configs=_link_configs)


# ----------------------------------------------------------------------------------- graph

_GRAPH_ALIASES = {"hidden_channels": ("--hidden",), "num_layers": ("--layers",)}
_MODEL_LABELS = {
    "gin": "GIN",
    "gine": "GINE",
    "gcn": "GCN",
    "sage": "SAGE",
    "sinc": "SINC-GCN",
    "sir": "SIR-GCN",
    "grit": "GRIT",
}


def _graph_configs(args: argparse.Namespace) -> list[GraphConfig]:
    """The configurations asked for: dataset defaults <- flags, one per model.

    Raises:
        ConfigError: naming the field of the first bad value.
    """
    chosen, overrides, from_file = _merged(args, GraphConfig, ("dataset", "model"))
    dataset = chosen["dataset"] or "CSL"
    if chosen["model"] is None:
        return [
            _build(
                functools.partial(graph_config, dataset, None, **overrides), from_file, args.config
            )
        ]
    models = [m.strip() for m in str(chosen["model"]).split(",") if m.strip()]
    if not models:
        raise ConfigError("model", f"model must name one of {list(GRAPH_MODELS)}")
    return [
        _build(functools.partial(graph_config, dataset, m, **overrides), from_file, args.config)
        for m in models
    ]


def _value(mean: float, std: float) -> str:
    return "—" if math.isnan(mean) else f"{mean:.4f} ± {std:.4f}"


def _graph_table(results: Sequence[GraphResult]) -> str:
    header = ("dataset", "model", "metric", "runs", "valid", "test", "params", "s/epoch", "total s")
    rows = [header]
    for result in results:
        cfg = result.config
        s = result.summary()
        arrow = "↑" if s.higher_is_better else "↓"
        rows.append(
            (
                cfg.dataset,
                _MODEL_LABELS[cfg.model],
                f"{s.metric} {arrow}",
                str(s.runs),
                _value(s.valid_mean, s.valid_std),
                _value(s.test_mean, s.test_std),
                f"{result.num_parameters:,}",
                f"{result.seconds_per_epoch:.3f}",
                f"{result.seconds:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _graph(args: argparse.Namespace) -> int:
    out = sys.stdout
    configs: list[GraphConfig] = args.configs
    if args.print_config:
        payload = [cfg.to_dict() for cfg in configs]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2), file=out)
        return 0
    results = []
    say = _say(out, args.quiet)
    for cfg in configs:
        per_fold = "" if cfg.folds is None else f", first {cfg.folds} fold(s)"
        say(
            f"{cfg.dataset} {_MODEL_LABELS[cfg.model]}: {cfg.runs} run(s) x {cfg.epochs} "
            f"epoch(s){per_fold}, {cfg.num_layers} layer(s) x {cfg.hidden_channels}, "
            f"device {cfg.device}"
        )
        progress = _Progress(args.quiet, cfg.runs, cfg.epochs, cfg.metric)

        def on_epoch(run: int, record: EpochRecord, progress: _Progress = progress) -> None:
            progress.epoch(run, record)
            if args.verbose and not args.quiet:
                shown = ", ".join(
                    f"{stage} {values[name]:.4f}"
                    for stage, values in (("valid", record.valid), ("test", record.test))
                    for name in values
                    if name != "loss"
                )
                print(
                    f"  run {run + 1} epoch {record.epoch}: loss {record.loss:.4f}, {shown} "
                    f"({record.train_seconds:.2f} s)",
                    file=out,
                    flush=True,
                )

        def on_run(run: int, result: GraphRun, progress: _Progress = progress) -> None:
            progress.close()
            fold = "" if result.fold is None else f" fold {result.fold}"
            best = result.best
            valid = "—" if math.isnan(best.valid) else f"{best.valid:.4f}"
            say(
                f"  run {run + 1} seed {result.seed}{fold}: valid {valid} test {best.test:.4f} "
                f"(epoch {best.epoch}), {result.seconds_per_epoch:.3f} s/epoch, "
                f"{result.seconds:.1f} s"
            )

        def on_result(partial: GraphResult) -> None:
            if args.output is not None:  # stored as soon as it exists
                append_records(args.output, partial.to_records()[-1:])

        try:
            result = train_graph(
                cfg,
                on_epoch=on_epoch,
                on_run=on_run,
                on_result=on_result,
                checkpoint_dir=args.checkpoint_dir,
                resume=args.resume,
                on_step=None if progress.disable else progress.step,
            )
        finally:
            progress.close()
        results.append(result)
    say("")
    print(_graph_table(results), file=out)
    _write_summary(args.output, results, say)
    return 0


def _add_graph_parser(sub: Any) -> None:
    graph = sub.add_parser(
        "graph",
        help="train and evaluate graph-level models (GIN, GINE, GCN, SAGE, SINC, SIR, GRIT)",
        description="Train and evaluate models on graph sets: graph regression and "
        "classification, node classification on sets of graphs. Values come from the "
        "dataset's shipped configuration (docs/graph.md), overridden by flags.",
    )
    graph.add_argument(
        "--dataset",
        default=None,
        help="registered graph dataset, or node dataset made of graphs (default: CSL, "
        "generated when its files are absent)",
    )
    graph.add_argument(
        "--model",
        default=None,
        help=f"one of {list(GRAPH_MODELS)}, or several separated by commas (default: the "
        "dataset's shipped model, else gin)",
    )
    graph.add_argument(
        "--print-config", action="store_true", help="print the merged configuration and exit"
    )
    graph.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="YAML (or JSON) file of field: value pairs, applied over the dataset's shipped "
        "configuration and under the flags",
    )
    _add_runner_flags(graph)
    graph.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no per-run lines: only the final table (logs, CI)",
    )
    _add_config_flags(graph, GraphConfig, ("dataset", "model"), _GRAPH_ALIASES)
    graph.set_defaults(func=_graph, make_configs=_graph_configs)


# -------------------------------------------------------------------------------- pretrain


def _pretrain_configs(args: argparse.Namespace) -> list[GRACEConfig]:
    chosen, overrides, from_file = _merged(args, GRACEConfig, ("dataset",))
    dataset = chosen["dataset"] or "cora"
    return [_build(functools.partial(grace_config, dataset, **overrides), from_file, args.config)]


# ------------------------------------------------------------------------------------ node


def _node_configs(args: argparse.Namespace) -> list[NodeConfig]:
    chosen, overrides, from_file = _merged(args, NodeConfig, ("dataset", "conv"))
    dataset = chosen["dataset"] or "cora"
    convs = [c.strip() for c in str(chosen["conv"] or "gcn").split(",") if c.strip()]
    if not convs:
        raise ConfigError("conv", "conv must name an encoder convolution")
    return [
        _build(functools.partial(node_config, dataset, conv=c, **overrides), from_file, args.config)
        for c in convs
    ]


def _node(args: argparse.Namespace) -> int:
    out: Any = sys.stdout
    configs: list[NodeConfig] = args.configs
    if args.print_config:
        payload = [cfg.to_dict() for cfg in configs]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2), file=out)
        return 0
    say = _say(out, args.quiet)
    rows = [("dataset", "encoder", "metric", "valid", "test", "params", "s/epoch", "total s")]
    results: list[NodeResult] = []
    for cfg in configs:
        say(
            f"{cfg.dataset} {cfg.conv}: {cfg.runs} run(s) x {cfg.epochs} epoch(s), "
            f"{cfg.num_layers} layer(s) x {cfg.hidden_channels}, device {cfg.device}"
        )
        progress = _Progress(args.quiet, cfg.runs, cfg.epochs, "acc")

        def on_epoch(run: int, record: EpochRecord, progress: _Progress = progress) -> None:
            progress.epoch(run, record)
            if args.verbose and not args.quiet:
                say(
                    f"  run {run + 1} epoch {record.epoch}: loss {record.loss:.4f}, acc valid "
                    f"{100 * record.valid['acc']:.2f} test {100 * record.test['acc']:.2f}"
                )

        def on_run(
            run: int, result: NodeRun, cfg: NodeConfig = cfg, progress: _Progress = progress
        ) -> None:
            progress.close()
            if args.output is not None:
                done = NodeResult(config=cfg, runs=(result,), seconds=result.seconds)
                append_records(args.output, done.to_records())
            say(
                f"  run {run + 1}/{cfg.runs} seed {result.seed}: acc valid "
                f"{100 * result.best.valid:.2f} test {100 * result.best.test:.2f} "
                f"(epoch {result.best.epoch}), {result.seconds:.1f} s"
            )

        try:
            result = train_node(
                cfg,
                on_epoch=on_epoch,
                on_run=on_run,
                checkpoint_dir=args.checkpoint_dir,
                resume=args.resume,
            )
        finally:
            progress.close()
        results.append(result)
        valid = [100 * r.best.valid for r in result.runs]
        mean, std = result.summary()
        rows.append(
            (
                cfg.dataset,
                cfg.conv,
                "acc",
                _percent(statistics.fmean(valid), statistics.pstdev(valid)),
                _percent(mean, std),
                f"{result.num_parameters:,}",
                f"{statistics.fmean(r.seconds_per_epoch for r in result.runs):.3f}",
                f"{result.seconds:.1f}",
            )
        )
    say("")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=out)
    _write_summary(args.output, results, say)
    return 0


def _add_node_parser(sub: Any) -> None:
    node = sub.add_parser(
        "node",
        help="node classification on one graph: an encoder and a linear head",
        description="Node classification on a single graph (Cora, CiteSeer, PubMed with their "
        "public split; ogbn-arxiv with OGB's): an MPNNEncoder (GCN, SAGE, SINC-GCN, ...) and a "
        "Linear head, full-batch cross-entropy, validation-selected test accuracy over seeds.",
    )
    node.add_argument("--dataset", default=None, help="single-graph dataset (default: cora)")
    node.add_argument(
        "--conv",
        "--model",
        default=None,
        help="encoder convolution, or several separated by commas (default: gcn)",
    )
    node.add_argument(
        "--print-config", action="store_true", help="print the merged configuration and exit"
    )
    node.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="YAML (or JSON) file of field: value pairs, applied under the flags",
    )
    _add_runner_flags(node)
    node.add_argument("--quiet", action="store_true", help="no progress bar and no per-run lines")
    _add_config_flags(node, NodeConfig, ("dataset", "conv"), {"hidden_channels": ("--hidden",)})
    node.set_defaults(func=_node, make_configs=_node_configs)


def _pretrain(args: argparse.Namespace) -> int:
    out = sys.stdout
    (cfg,) = args.configs
    if args.print_config:
        print(json.dumps(dataclasses.asdict(cfg), indent=2), file=out)
        return 0
    print(
        f"{cfg.dataset} GRACE: {cfg.runs} run(s) x {cfg.epochs} epoch(s), "
        f"{cfg.num_layers} GCN layers -> {cfg.hidden_channels}, tau {cfg.temperature}",
        file=out,
        flush=True,
    )
    result = train_grace(cfg)
    for run, (valid, test) in enumerate(zip(result.valid, result.test, strict=True)):
        print(
            f"  run {run + 1}/{cfg.runs} seed {cfg.seed + run}: probe accuracy valid "
            f"{100 * valid:.2f} test {100 * test:.2f}, final loss {result.final_loss[run]:.4f}",
            file=out,
        )
    mean, std = result.summary()
    print(
        f"\n{cfg.dataset}  GRACE  linear-probe test accuracy {_percent(mean, std)}  "
        f"params {result.num_parameters:,}  {result.seconds_per_epoch:.3f} s/epoch",
        file=out,
    )
    if args.output is not None:
        record = {
            "config": dataclasses.asdict(cfg),
            "valid": list(result.valid),
            "test": list(result.test),
            "final_loss": list(result.final_loss),
            "seconds_per_epoch": result.seconds_per_epoch,
            "num_parameters": result.num_parameters,
        }
        atomic_write_bytes(args.output, (json.dumps(record) + "\n").encode("utf-8"))
    return 0


def _add_pretrain_parser(sub: Any) -> None:
    pretrain = sub.add_parser(
        "pretrain",
        help="GRACE contrastive pre-training scored by a linear probe",
        description="GRACE pre-training (two augmented views, graphpair.losses.grace) with the "
        "dataset's published configuration, overridden by flags; the frozen representations "
        "are scored by a linear probe on the public split.",
    )
    pretrain.add_argument(
        "--dataset", default=None, help="node-labelled graph with features (default: cora)"
    )
    pretrain.add_argument(
        "--print-config", action="store_true", help="print the merged configuration and exit"
    )
    pretrain.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="YAML (or JSON) file of field: value pairs, applied over the dataset's shipped "
        "configuration and under the flags",
    )
    pretrain.add_argument("--output", default=None, help="write the result as one JSON line")
    _add_config_flags(pretrain, GRACEConfig, ("dataset",), {})
    pretrain.set_defaults(func=_pretrain, make_configs=_pretrain_configs)


# -------------------------------------------------------------------------------- datasets

DATASET_TASKS = ("link", "graph", "node")
LISTING_FORMATS = ("text", "markdown", "csv", "json")


def _size(spec: DatasetSpec) -> str:
    stats = spec.stats
    parts = [f"{stats[k]:,} {k}" for k in ("graphs", "nodes", "edges") if k in stats]
    return ", ".join(parts)


def _where(spec: DatasetSpec, root: str | None) -> str:
    if spec.folder is None:
        return "built-in" if spec.source == "networkx" else "generated"
    if spec.files_present(root):
        return "present"
    return "downloadable" if spec.downloadable else "missing"


def _datasets(args: argparse.Namespace) -> int:
    out = sys.stdout
    specs = [get_spec(name) for name in dataset_names()]
    if args.task is not None:
        specs = [s for s in specs if s.task == args.task]
    header = ("name", "task", "metric", "split", "size", "files", "description")
    rows = [
        (s.name, s.task, s.metric, s.split, _size(s), _where(s, args.data_root), s.description)
        for s in specs
    ]
    if args.format == "json":
        payload = [dict(zip(header, row, strict=True)) for row in rows]
        print(json.dumps(payload, indent=2), file=out)
    elif args.format == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    elif args.format == "markdown":
        print("| " + " | ".join(header) + " |", file=out)
        print("|" + "---|" * len(header), file=out)
        for row in rows:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |", file=out)
    else:
        table: list[tuple[str, ...]] = [header[:-1]]
        table += [row[:-1] for row in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
        for i, line in enumerate(table):
            cells = "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
            print(cells.rstrip(), file=out)
            if i == 0:
                print("  ".join("-" * w for w in widths), file=out)
    root = data_root(args.data_root)
    where = f"data root {str(root)!r}" if root is not None else "no data root (set GRAPHPAIR_DATA)"
    if args.format == "text":
        print(f"\n{len(rows)} dataset(s); files looked up under {where}", file=out)
    return 0


def _add_datasets_parser(sub: Any) -> None:
    datasets = sub.add_parser(
        "datasets",
        help="list the registered datasets: task, metric, split, size, local files",
        description="List the dataset registry. 'files' says whether the raw files are under "
        "the data root ('present'), can be fetched on first use ('downloadable'), must be "
        "placed by hand ('missing'), or need none ('built-in', 'generated').",
    )
    datasets.add_argument(
        "--task", default=None, choices=DATASET_TASKS, help="only datasets of this task"
    )
    datasets.add_argument(
        "--data-root", default=None, help="raw-data folder (default: $GRAPHPAIR_DATA)"
    )
    datasets.add_argument(
        "--format", default="text", choices=LISTING_FORMATS, help="output format (default: text)"
    )
    datasets.set_defaults(func=_datasets)


# ---------------------------------------------------------------------------------- report


def _report(args: argparse.Namespace) -> int:
    out = sys.stdout
    groups = group_records(read_records(args.results))
    if args.output_dir is None:
        text = render_csv(groups) if args.format == "csv" else render_markdown(groups, args.title)
        print(text, end="", file=out)
        return 0
    written = write_report(groups, args.output_dir, title=args.title, figures=args.figures)
    print(render_markdown(groups), end="", file=out)
    for path in written:
        print(f"wrote {path}", file=out)
    return 0


def _add_report_parser(sub: Any) -> None:
    report = sub.add_parser(
        "report",
        help="leaderboard table (and figures) from the JSON records of link and graph runs",
        description="Read the JSON records that 'graphpair link/graph --output' write, group "
        "the runs of one configuration (all fields but the seed), and print one row per group: "
        "the headline metric on validation and test at the selected epoch, mean ± population "
        "std over runs (x100 for scores), parameters and training seconds per epoch. With "
        "--output-dir, also write report.md, report.csv and PNG figures (learning curves per "
        "run, time per epoch; needs matplotlib).",
    )
    report.add_argument("results", nargs="+", help="JSON-lines results files")
    report.add_argument(
        "--output-dir", default=None, help="write report.md, report.csv and figures here"
    )
    report.add_argument("--title", default="graphpair results", help="report title")
    report.add_argument(
        "--format",
        default="markdown",
        choices=("markdown", "csv"),
        help="stdout format without --output-dir (default: markdown)",
    )
    report.add_argument(
        "--figures",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="write PNG figures with --output-dir (default: yes)",
    )
    report.set_defaults(func=_report)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``graphpair`` command."""
    parser = argparse.ArgumentParser(
        prog="graphpair", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--version", action="version", version=f"graphpair {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="tour of the ops layer on a built-in graph (no download)")
    demo.add_argument(
        "--seed", type=int, default=0, help="random seed for the held-out split (default: 0)"
    )
    demo.add_argument(
        "--walk-length",
        type=int,
        default=8,
        help="random-walk channels K, identity included (default: 8)",
    )
    demo.set_defaults(func=_demo)
    _add_link_parser(sub)
    _add_graph_parser(sub)
    _add_pretrain_parser(sub)
    _add_node_parser(sub)
    _add_datasets_parser(sub)
    _add_report_parser(sub)
    return parser


def _process_group_initialized() -> bool:
    import torch.distributed as dist

    return bool(dist.is_available() and dist.is_initialized())


def _close_process_group(finished: bool) -> None:
    """Shut down the process group a command opened under ``torchrun``.

    Left to interpreter exit, gloo's threads could still be running when a worker's Python
    finished, and a worker aborted ("terminate called without an active exception"): 2 of 11
    runs of ``tests/train/test_distributed_link.py`` failed so after the link path got faster
    (0 of 6 before; a timing race), none of 8 with this. The barrier lets rank 0 finish
    writing first; it is skipped after an error, which another rank may not share.
    """
    if not _process_group_initialized():
        return
    import torch.distributed as dist

    if finished:
        dist.barrier()
    dist.destroy_process_group()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``graphpair`` console script and ``python -m graphpair``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "walk_length", 1) < 1:
        parser.error(f"--walk-length must be >= 1; got {args.walk_length}")
    root = getattr(args, "data_root", None) if args.command == "datasets" else None
    if root is not None and not os.path.isdir(root):
        parser.error(f"--data-root: must be an existing folder; got {args.data_root!r}")
    if args.command in ("link", "graph", "pretrain", "node"):
        try:
            args.configs = args.make_configs(args)  # every value checked before any work
        except ConfigError as err:
            parser.error(f"{_flag(err.field)}: {err}")
        had_group = _process_group_initialized()
        finished = False
        try:
            code = int(args.func(args))
            finished = True
            return code
        except ConfigError as err:  # data-dependent checks (batch size vs. training set ...)
            parser.error(f"{_flag(err.field)}: {err}")
        except CheckpointError as err:  # a checkpoint to resume from is unusable
            parser.error(f"--resume: {err}")
        finally:
            if not had_group:
                _close_process_group(finished)
    if args.command == "report":
        try:
            return int(args.func(args))
        except ReportError as err:
            parser.error(f"report: {err}")
    result: int = args.func(args)
    return result
