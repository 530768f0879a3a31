"""Trained models as folders: tensors only, beside a JSON manifest (``--save-model``).

A model folder holds

- ``manifest.json``: the format version, the graphpair version, the kind of model
  (``'link'``, ``'graph'``, ``'node'``, ``'encoder'``), the full run configuration, the
  metrics the run reached at its selected epoch, what the builders need beyond the
  configuration (input widths, output sizes), and a fingerprint of the training graph;
- ``weights.gpw``: the state dicts of the model's parts, tensors only, behind a header and a
  SHA-256 checksum (:func:`graphpair.data._io.save_checked`), read with
  ``torch.load(weights_only=True)``: loading never executes code;
- ``graph.gpw`` (link and node models): the graph the model scores on, its node features and,
  for an edge list, the node names.

Every file is written atomically and the manifest last, so a folder with a manifest is
complete; a weights or graph file that was truncated or edited fails its checksum.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from graphpair._version import __version__
from graphpair.data._io import atomic_write_bytes, fingerprint, load_checked, save_checked
from graphpair.ops import CSR
from graphpair.train._fields import ConfigError

__all__ = [
    "FORMAT",
    "GRAPH",
    "KINDS",
    "MANIFEST",
    "WEIGHTS",
    "BestState",
    "ModelFileError",
    "check_output_file",
    "check_output_folder",
    "graph_fingerprint",
    "read_graph",
    "read_manifest",
    "read_weights",
    "run_folder",
    "write_model",
]

#: The model folder format this version writes and reads.
FORMAT = 1
#: The kinds of saved model.
KINDS = ("link", "graph", "node", "encoder")
MANIFEST = "manifest.json"
WEIGHTS = "weights.gpw"
GRAPH = "graph.gpw"
_MAGIC = b"GRAPHPAIR-MODEL-1\n"


class ModelFileError(ValueError):
    """A model folder that cannot be used: missing or foreign files, a truncated or edited
    weights file, a manifest from a newer format, a graph other than the model's own. The
    message names the file and what was expected."""


def graph_fingerprint(adj: CSR, x: Tensor | None) -> dict[str, Any]:
    """What identifies a graph a model was trained on: node and edge counts, a hash of its
    sorted edges (the CSR's ``(row, col)`` entries, so the input order does not matter) and a
    hash of the node features (``None`` without).

    Example:
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> same = torch.tensor([[2, 1, 1, 0], [1, 2, 0, 1]])  # the same edges, reordered
        >>> a = graph_fingerprint(CSR.from_edge_index(edge_index, 3), None)
        >>> a == graph_fingerprint(CSR.from_edge_index(same, 3), None), a["num_edges"]
        (True, 4)
    """
    return {
        "num_nodes": adj.num_nodes,
        "num_edges": adj.num_edges,
        "edges": fingerprint(adj.rowptr.cpu(), adj.col.cpu()),
        "features": None if x is None else fingerprint(x.detach().cpu().float()),
    }


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_model(
    folder: str | os.PathLike[str],
    *,
    kind: str,
    config: Mapping[str, Any],
    config_class: str,
    weights: Mapping[str, Mapping[str, Tensor]],
    metrics: Mapping[str, Any],
    build: Mapping[str, Any],
    graph: Mapping[str, Any] | None = None,
    graph_print: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model folder (see the module docstring); returns it.

    Args:
        folder: Where to write (created; existing files of a model folder are replaced).
        kind: One of :data:`KINDS`.
        config: The run configuration's ``to_dict()``.
        config_class: Its class name (``'LinkConfig'``, ...).
        weights: Part name -> state dict (moved to CPU here).
        metrics: What the run reached at its selected epoch (JSON-serialisable).
        build: What the builders need beyond the configuration.
        graph: Tensors (and lists of node names) of the graph the model scores on.
        graph_print: :func:`graph_fingerprint` of that graph.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}; got {kind!r}")
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise ModelFileError(f"{str(target)!r} exists and is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    cpu = {
        name: {key: value.detach().cpu() for key, value in state.items()}
        for name, state in weights.items()
    }
    save_checked(target / WEIGHTS, cpu, {"format": FORMAT, "kind": kind}, magic=_MAGIC)
    if graph is not None:
        stored = {k: v.detach().cpu() if isinstance(v, Tensor) else v for k, v in graph.items()}
        save_checked(target / GRAPH, stored, {"format": FORMAT, "kind": kind}, magic=_MAGIC)
    manifest = {
        "format": FORMAT,
        "graphpair": __version__,
        "torch": torch.__version__,
        "kind": kind,
        "config_class": config_class,
        "config": _plain(dict(config)),
        "metrics": _plain(dict(metrics)),
        "build": _plain(dict(build)),
        "graph": None if graph_print is None else dict(graph_print),
        "weights_sha256": hashlib.sha256((target / WEIGHTS).read_bytes()).hexdigest(),
    }
    payload = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    atomic_write_bytes(target / MANIFEST, payload.encode())  # last: the folder is complete
    return target


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a model folder, checked: present, JSON, of a known kind and a format
    this version reads.

    Raises:
        ModelFileError: naming the file and what was expected.
    """
    path = Path(folder) / MANIFEST
    if not Path(folder).is_dir():
        raise ModelFileError(f"{str(folder)!r} is not a model folder (no such folder)")
    if not path.is_file():
        raise ModelFileError(
            f"{str(path)!r} is missing: {str(folder)!r} is not a model folder written by "
            "--save-model / save_model="
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{str(path)!r} is not a JSON manifest: {err}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
        raise ModelFileError(f"{str(path)!r} has no format version; expected a mapping")
    if manifest["format"] > FORMAT:
        raise ModelFileError(
            f"{str(path)!r} is format {manifest['format']} (written by graphpair "
            f"{manifest.get('graphpair', '?')}); this graphpair {__version__} reads format "
            f"{FORMAT} and earlier: upgrade graphpair"
        )
    missing = [
        k for k in ("kind", "config", "config_class", "build", "metrics") if k not in manifest
    ]
    if missing or manifest["kind"] not in KINDS:
        raise ModelFileError(
            f"{str(path)!r} lacks {missing} or names an unknown kind "
            f"{manifest.get('kind')!r} (expected one of {list(KINDS)})"
        )
    return manifest


def read_weights(
    folder: str | os.PathLike[str], manifest: Mapping[str, Any]
) -> dict[str, dict[str, Tensor]]:
    """The state dicts of a model folder, verified against the manifest's checksum."""
    path = Path(folder) / WEIGHTS
    if not path.is_file():
        raise ModelFileError(f"{str(path)!r} is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != manifest.get("weights_sha256"):
        raise ModelFileError(
            f"{str(path)!r} is not the file its manifest was written with (SHA-256 differs): "
            "truncated, edited or from another model"
        )
    weights: dict[str, dict[str, Tensor]] = load_checked(
        path, magic=_MAGIC, error=ModelFileError, what="model weights file", map_location="cpu"
    )
    return weights


def read_graph(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The stored graph of a link or node model folder."""
    path = Path(folder) / GRAPH
    if not path.is_file():
        raise ModelFileError(f"{str(path)!r} is missing: the model's graph was not saved")
    graph: dict[str, Any] = load_checked(
        path, magic=_MAGIC, error=ModelFileError, what="model graph file", map_location="cpu"
    )
    return graph


class BestState:
    """The model state of a run's selected epoch, kept while the run trains.

    The rule is the runners' model selection: the first evaluation is kept, a later one only
    when its validation value is strictly better (``higher_is_better`` says which way);
    without a validation value (a split without validation) the latest evaluation is kept.

    Args:
        higher_is_better: The selection metric's direction.
        enabled: Whether to keep the modules' weights (``extra`` is kept either way).

    Example:
        >>> best = BestState(higher_is_better=True)
        >>> lin = torch.nn.Linear(1, 1)
        >>> best.consider(1, 0.5, {"model": lin}), best.consider(2, 0.5, {"model": lin})
        (True, False)
        >>> best.epoch
        1
    """

    def __init__(self, *, higher_is_better: bool, enabled: bool = True) -> None:
        self.higher_is_better = higher_is_better
        self.enabled = enabled
        self.epoch: int | None = None
        self.value: float | None = None
        self.weights: dict[str, dict[str, Tensor]] = {}
        self.extra: dict[str, Any] = {}

    def consider(
        self,
        epoch: int,
        value: float | None,
        modules: Mapping[str, torch.nn.Module],
        extra: Callable[[], Mapping[str, Any]] | None = None,
    ) -> bool:
        """Keep ``modules``' states (and ``extra()``) if ``epoch`` is the new selection."""
        # The comparison of the runners' selection: a NaN is never better and never beaten.
        better = (
            self.epoch is None
            or value is None
            or self.value is None
            or (value > self.value if self.higher_is_better else value < self.value)
        )
        if not better:
            return False
        self.epoch, self.value = epoch, value
        if self.enabled:
            self.weights = {
                name: {k: v.detach().to("cpu", copy=True) for k, v in m.state_dict().items()}
                for name, m in modules.items()
            }
        self.extra = dict(extra()) if extra is not None else {}
        return True

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps, so a resumed run saves the same model."""
        return {
            "epoch": self.epoch,
            "value": self.value,
            "weights": self.weights,
            "extra": copy.copy(self.extra),
        }

    def load(self, state: Mapping[str, Any] | None) -> None:
        """Restore :meth:`state`."""
        if state is None:
            return
        self.epoch, self.value = state["epoch"], state["value"]
        self.weights, self.extra = dict(state["weights"]), dict(state["extra"])


def _check_writable_place(name: str, target: Path, what: str) -> None:
    """Refuse ``target`` when it cannot be created: its nearest existing ancestor must be a
    writable folder (the writers create the missing folders in between)."""
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(
            name, f"{what} cannot be created at {str(target)!r}: {str(ancestor)!r} is a file"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(
            name,
            f"{what} cannot be created at {str(target)!r}: the folder {str(ancestor)!r} is "
            "not writable",
        )


def check_output_folder(name: str, folder: str | os.PathLike[str] | None) -> None:
    """Refuse, before any work, a folder a run will write into (``--save-model``,
    ``--checkpoint-dir``) that is a file, lies under a file, or cannot be written.

    Raises:
        ConfigError: naming ``name`` and the path.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as file:
        ...     try:
        ...         check_output_folder("save_model", file.name)
        ...     except ConfigError as err:
        ...         print(str(err).split(";")[0])
        save_model must be a folder
    """
    if folder is None:
        return
    target = Path(folder)
    if target.exists():
        if not target.is_dir():
            raise ConfigError(name, f"{name} must be a folder; {str(target)!r} is a file")
        if not os.access(target, os.W_OK | os.X_OK):
            raise ConfigError(name, f"{name} must be writable; {str(target)!r} is not")
        return
    _check_writable_place(name, target, name)


def check_output_file(
    name: str, path: str | os.PathLike[str] | None, *, what: str | None = None
) -> None:
    """Refuse, before any work, a file a run will write (``--output``, its summaries,
    ``--save-predictions``) that is a folder, lies under a file, or cannot be written.

    Args:
        name: The field (or argument) the path came from; the error's ``field``.
        path: The file; ``None`` passes.
        what: How the message names the file when it is derived from ``name``'s path
            (``"output's summary"``); default ``name``.

    Raises:
        ConfigError: naming ``name`` and the path.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     try:
        ...         check_output_file("output", folder)
        ...     except ConfigError as err:
        ...         print(str(err).split(";")[0])
        output must be a file, not a folder
    """
    if path is None:
        return
    what = what or name
    target = Path(path)
    if target.is_dir():
        raise ConfigError(name, f"{what} must be a file, not a folder; got {str(target)!r}")
    if target.exists() and not os.access(target, os.W_OK):
        raise ConfigError(name, f"{what} must be writable; {str(target)!r} is not")
    _check_writable_place(name, target, what)


def run_folder(root: str | os.PathLike[str], seed: int, fold: int | None = None) -> Path:
    """The model folder of one run: ``ROOT/run-<seed>`` (``-fold<k>`` for folds)."""
    return Path(root) / (f"run-{seed}" if fold is None else f"run-{seed}-fold{fold}")
