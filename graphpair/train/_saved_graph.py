"""A saved graph-level model, loaded: predictions for new graphs or a dataset's split."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from graphpair._validation import check_int
from graphpair.data import GraphSet, load_dataset
from graphpair.nn import GraphInputs, GraphModel
from graphpair.train._artifact import MANIFEST, ModelFileError, read_manifest
from graphpair.train._graph import _folds
from graphpair.train._graph_builder import build_graph_model, transform_graphs
from graphpair.train._graph_config import GraphConfig
from graphpair.train._graph_task import GraphTask
from graphpair.train._saved_common import build_quietly, check_kind, load_parts, rebuild_config

__all__ = ["SPLITS", "SavedGraphModel"]

#: The splits :meth:`SavedGraphModel.predict` reads from a dataset.
SPLITS = ("train", "valid", "test")


def _columns(vocab: tuple[int, ...] | None) -> str:
    return "no categorical columns" if vocab is None else f"{len(vocab)} categorical column(s)"


def _layout_errors(model: GraphInputs, given: GraphInputs, edges: bool) -> list[str]:
    """How the feature layout of ``given`` graphs differs from the model's, in words."""
    wrong = []
    for what, vocab, width, got_vocab, got_width in (
        ("x", model.node_vocab, model.node_features, given.node_vocab, given.node_features),
        ("edge_attr", model.edge_vocab, model.edge_features, given.edge_vocab, given.edge_features),
    ):
        if what == "edge_attr" and (not edges or (vocab is None and width == 0)):
            continue  # the model reads no edge features (or one learned constant)
        if vocab is not None:
            fits = got_vocab is not None and len(got_vocab) == len(vocab)
            if not fits or any(g > v for g, v in zip(got_vocab or (), vocab, strict=False)):
                wrong.append(
                    f"{what}: the model embeds {_columns(vocab)} with vocabularies {list(vocab)}; "
                    f"the graphs have "
                    + (
                        f"float features of width {got_width}"
                        if got_vocab is None
                        else f"categories up to {[g - 1 for g in got_vocab]}"
                    )
                )
        elif got_vocab is not None or got_width != width:
            wrong.append(
                f"{what}: the model reads float features of width {width}; the graphs have "
                + (_columns(got_vocab) if got_vocab is not None else f"width {got_width}")
            )
    return wrong


class SavedGraphModel:
    """A graph-level model saved by ``graphpair graph --save-model``
    (``train_graph(save_model=)``), ready to predict: the model of the run's selected epoch,
    its configuration and its task.

    Load it with :func:`graphpair.load_model`. :meth:`predict` gives class probabilities
    (softmax over classes for multiclass tasks, a sigmoid per task for binary ones) and the
    predicted values for regression; :meth:`logits` the raw outputs the run's metric was
    computed from. A graph-level task gives one row per graph; a node-level one (PATTERN,
    UniqueSignature) one row per node, graph after graph.

    Built by :meth:`load`; the constructor takes the loaded parts, kept as attributes of
    the same names.

    Args:
        folder: Where it was loaded from.
        manifest: The folder's manifest (configuration, metrics, versions).
        config: The run's :class:`~graphpair.train.GraphConfig` (``device`` set to
            ``'cpu'``; ``data_root`` kept where it exists on this machine).
        task: The run's :class:`~graphpair.train.GraphTask`.
        inputs: The feature layout the model reads (:class:`~graphpair.nn.GraphInputs`).
        model: The :class:`~graphpair.nn.GraphModel`, in evaluation mode.
        device: Where it predicts.

    Example:
        >>> import tempfile
        >>> from graphpair import load_model
        >>> from graphpair.train import graph_config, train_graph
        >>> folder = tempfile.mkdtemp()
        >>> config = graph_config("CSL", "gin", epochs=1, folds=1, hidden_channels=8,
        ...                       num_layers=1)
        >>> result = train_graph(config, save_model=folder)
        >>> model = load_model(f"{folder}/run-0-fold0")
        >>> probs = model.predict("CSL", split="test")  # the run's own test graphs
        >>> probs.shape, bool(torch.allclose(probs.sum(1), torch.ones(30)))
        (torch.Size([30, 10]), True)
    """

    def __init__(
        self,
        folder: Path,
        manifest: dict[str, Any],
        config: GraphConfig,
        task: GraphTask,
        inputs: GraphInputs,
        model: GraphModel,
        device: torch.device,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.config = config
        self.task = task
        self.inputs = inputs
        self.model = model
        self._device = device

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        manifest: dict[str, Any] | None = None,
        *,
        device: str = "cpu",
    ) -> SavedGraphModel:
        """Rebuild the model of ``folder`` from its manifest (read by
        :func:`graphpair.load_model`) and load its verified weights.

        Args:
            folder: The run's model folder.
            manifest: Its manifest, as :func:`graphpair.load_model` read it (``None``: read
                here).
            device: Where the model predicts.

        Raises:
            ModelFileError: the folder holds another kind of model, its configuration or
                build entries do not rebuild a model, or its weights are missing, truncated,
                edited or do not fit.
        """
        where = Path(folder)
        manifest = read_manifest(where) if manifest is None else manifest
        check_kind(where, manifest, "graph", "SavedGraphModel")
        config = rebuild_config(GraphConfig, where, manifest, keep_data_root=True)
        try:
            build = manifest["build"]
            fields = dict(build["inputs"])
            for key in ("node_vocab", "edge_vocab"):
                fields[key] = None if fields[key] is None else tuple(fields[key])
            inputs = GraphInputs(**fields)
            task = GraphTask(**build["task"])
        except (KeyError, TypeError) as err:
            raise ModelFileError(
                f"{str(where / MANIFEST)!r}: its build entry lacks or mistypes {err}; expected "
                "the GraphInputs and GraphTask fields"
            ) from None
        model = build_quietly(lambda: build_graph_model(config, inputs))
        load_parts(where, manifest, {"model": model})
        dev = torch.device(device)
        return cls(where, manifest, config, task, inputs, model.to(dev).eval(), dev)

    # ------------------------------------------------------------------ inputs

    def _dataset_graphs(
        self, name: str, split: str | None, fold: int | None, data_root: str | None
    ) -> GraphSet:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}; got {split!r}")
        own = GraphConfig.resolve("dataset", name) == self.config.dataset
        options = dict(self.config.dataset_options) if own else {}
        loaded = load_dataset(
            name,
            data_root if data_root is not None else self.config.data_root,
            cache=self.config.cache,
            download=self.config.download,
            **options,
        )
        if not isinstance(loaded.graphs, GraphSet):
            raise ValueError(f"dataset {loaded.name!r} is not a set of graphs")
        folds = _folds(self.config, loaded, self.task)  # drawn folds: from the run's seed
        if folds is None:
            if fold is not None:
                raise ValueError(
                    f"fold must be None: {loaded.name!r} has one fixed split; got {fold!r}"
                )
            assert loaded.split is not None
            parts = loaded.split
        else:
            if fold is None and own:
                fold = self.manifest["metrics"].get("fold")
            if not isinstance(fold, int) or not 0 <= fold < len(folds):
                raise ValueError(
                    f"fold must be an int in [0, {len(folds)}): {loaded.name!r} is split into "
                    f"{len(folds)} folds; got {fold!r}"
                )
            parts = folds[fold]
        if split not in parts or parts[split].numel() == 0:
            have = [name for name in SPLITS if name in parts and parts[name].numel() > 0]
            raise ValueError(f"{loaded.name!r} has no {split!r} graphs; its split has {have}")
        return loaded.graphs[parts[split]]  # type: ignore[no-any-return]

    def _graph_set(
        self,
        graphs: Sequence[Data] | GraphSet | str,
        split: str | None,
        fold: int | None,
        data_root: str | None,
    ) -> GraphSet:
        if isinstance(graphs, str):
            found = self._dataset_graphs(graphs, split, fold, data_root)
        else:
            if split is not None or fold is not None:
                raise ValueError(
                    "split and fold choose graphs of a dataset; they need a dataset name, not "
                    f"{type(graphs).__name__}"
                )
            if isinstance(graphs, GraphSet):
                found = graphs
            elif isinstance(graphs, Sequence) and all(isinstance(g, Data) for g in graphs):
                if len(graphs) == 0:
                    raise ValueError("graphs must hold at least one graph; got none")
                found = GraphSet(list(graphs))
            else:
                raise ValueError(
                    "graphs must be a list of torch_geometric Data, a GraphSet or a dataset "
                    f"name; got {type(graphs).__name__}"
                )
        given = GraphInputs.from_data(
            found._data, self.inputs.out_channels, self.task.level == "node"
        )
        wrong = _layout_errors(self.inputs, given, self.model.edge_encoder is not None)
        if wrong:
            raise ValueError(
                f"the graphs do not fit the model in {str(self.folder)!r}: " + "; ".join(wrong)
            )
        return found

    # ------------------------------------------------------------------ predictions

    def logits(
        self,
        graphs: Sequence[Data] | GraphSet | str,
        *,
        split: str | None = None,
        fold: int | None = None,
        batch_size: int | None = None,
        data_root: str | None = None,
    ) -> Tensor:
        """The raw outputs ``[M, out_channels]`` the run's metric was computed from (logits,
        or values for regression); arguments as :meth:`predict`."""
        default = self.config.eval_batch_size or self.config.batch_size
        size = check_int("batch_size", default if batch_size is None else batch_size, minimum=1)
        found = self._graph_set(graphs, split, fold, data_root)
        outs = []
        with torch.no_grad():
            for start in range(0, len(found), size):
                chunk = found[start : start + size]
                # The model's transform (GRIT's RRWP) on the chunk only: memory stays bounded.
                chunk = transform_graphs(self.config, GraphSet([g for g in chunk]))
                batch = Batch.from_data_list([g for g in chunk]).to(self._device)
                outs.append(self.model(batch).float().cpu())
        return torch.cat(outs)

    def predict(
        self,
        graphs: Sequence[Data] | GraphSet | str,
        *,
        split: str | None = None,
        fold: int | None = None,
        batch_size: int | None = None,
        data_root: str | None = None,
    ) -> Tensor:
        """Predictions for ``graphs``: class probabilities (softmax for a multiclass task,
        a sigmoid per task for a binary one) or values (regression), ``[M, out_channels]``
        with one row per graph (per node for a node-level task), in order.

        Args:
            graphs: PyG ``Data`` graphs with the feature layout of the training graphs, a
                :class:`~graphpair.data.GraphSet`, or a registered dataset name, whose
                ``split`` is predicted.
            split: With a dataset name: ``'train'``, ``'valid'`` or ``'test'``.
            fold: With a dataset name split into folds: which fold (default: the run's own
                fold for the dataset it was trained on).
            batch_size: Graphs per forward pass (default: the run's evaluation batch size).
            data_root: Where the dataset's raw files are (default: the run's, where it exists
                here, else ``$GRAPHPAIR_DATA``).

        Raises:
            ValueError: a bad split or fold, split without a dataset name, or graphs whose
                features do not fit the model (named), before any graph is scored.
        """
        out = self.logits(
            graphs, split=split, fold=fold, batch_size=batch_size, data_root=data_root
        )
        if self.task.kind == "multiclass":
            return torch.softmax(out, dim=-1)
        if self.task.kind == "binary":
            return torch.sigmoid(out)
        return out

    def __repr__(self) -> str:
        metrics = self.manifest["metrics"]
        return (
            f"{type(self).__name__}({str(self.folder)!r}, model={self.config.model!r}, "
            f"dataset={self.config.dataset!r}, {self.task.metric}={metrics.get('test')!r})"
        )
