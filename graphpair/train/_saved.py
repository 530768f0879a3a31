"""``load_model``: a folder written by ``--save-model`` back as an object that scores."""

from __future__ import annotations

import os
from typing import Any

from graphpair.train._artifact import ModelFileError, read_manifest
from graphpair.train._saved_graph import SavedGraphModel
from graphpair.train._saved_link import SavedLinkModel
from graphpair.train._saved_node import SavedEncoder, SavedNodeModel

__all__ = ["load_model"]


def load_model(folder: str | os.PathLike[str], *, device: str = "cpu") -> Any:
    """Load a model folder written by a runner's ``save_model=`` (``--save-model DIR``: one
    folder per run, ``DIR/run-<seed>``).

    Nothing in the folder executes code: the weights are read with
    ``torch.load(weights_only=True)`` after their checksum is verified.

    Args:
        folder: The run's model folder.
        device: Where to score.

    Returns:
        The model, by kind: a :class:`~graphpair.train.SavedLinkModel` (``score``,
        ``embed``, ``recommend``), :class:`~graphpair.train.SavedGraphModel` (``predict``
        graphs), :class:`~graphpair.train.SavedNodeModel` (``predict`` nodes) or
        :class:`~graphpair.train.SavedEncoder` (``embed``, GRACE pre-training).

    Raises:
        ModelFileError: the folder is not a model folder, a file is missing, truncated or
            edited, or the manifest is of a newer format (the message names the file).

    Example:
        >>> import tempfile
        >>> from graphpair.train import link_config, train_link
        >>> folder = tempfile.mkdtemp()
        >>> _ = train_link(link_config("karate", "gae", epochs=1), save_model=folder)
        >>> load_model(f"{folder}/run-0").config.predictor
        'gae'
    """
    manifest = read_manifest(folder)
    loaders: dict[str, Any] = {
        "link": SavedLinkModel,
        "graph": SavedGraphModel,
        "node": SavedNodeModel,
        "encoder": SavedEncoder,
    }
    if manifest["kind"] not in loaders:  # read_manifest checks the kind; kept for new kinds
        raise ModelFileError(f"{str(folder)!r} holds a {manifest['kind']!r} model")
    return loaders[manifest["kind"]].load(folder, manifest, device=device)
