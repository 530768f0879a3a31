"""What the loaders of saved graph, node and encoder models share: the kind check, the
configuration rebuilt from the manifest, and the weights loaded into the rebuilt model."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch

from graphpair.train._artifact import MANIFEST, WEIGHTS, ModelFileError, read_weights

__all__ = ["build_quietly", "check_kind", "load_parts", "rebuild_config"]

C = TypeVar("C")
M = TypeVar("M", bound=torch.nn.Module)


def check_kind(folder: Path, manifest: Mapping[str, Any], kind: str, loader: str) -> None:
    """Refuse a folder of another kind, naming its manifest and the loader to use."""
    if manifest["kind"] != kind:
        raise ModelFileError(
            f"{str(folder / MANIFEST)!r} describes a {manifest['kind']!r} model; {loader} "
            f"loads {kind!r} models (graphpair.load_model picks the loader by kind)"
        )


def rebuild_config(
    cls: Any,
    folder: Path,
    manifest: Mapping[str, Any],
    *,
    keep_data_root: bool = False,
    drop: tuple[str, ...] = (),
) -> Any:
    """The run configuration of the manifest, on the CPU. The training machine's
    ``data_root`` is kept only with ``keep_data_root`` and where it exists here (a
    configuration checks that its data root exists); ``cache`` and the fields of ``drop``
    (other paths of the training machine) are dropped."""
    values = dict(manifest["config"])
    values["device"] = "cpu"  # the model goes where load() says; the config only describes
    values["cache"] = None
    values.update(dict.fromkeys(drop))
    root = values.get("data_root")
    if not (keep_data_root and isinstance(root, str) and os.path.isdir(root)):
        values["data_root"] = None
    if manifest["config_class"] != cls.__name__:
        raise ModelFileError(
            f"{str(folder / MANIFEST)!r} holds a {manifest['config_class']} configuration; "
            f"expected a {cls.__name__}"
        )
    try:
        return cls.from_mapping(values)
    except ValueError as err:  # ConfigError: a field this version does not know or accept
        raise ModelFileError(f"{str(folder / MANIFEST)!r}: {err}") from None


def build_quietly(build: Callable[[], M]) -> M:
    """``build()`` without touching the caller's random streams (initialisation draws from
    them, and the loaded weights replace whatever it drew)."""
    with torch.random.fork_rng(devices=[]):
        return build()


def load_parts(folder: Path, manifest: Mapping[str, Any], parts: Mapping[str, M]) -> None:
    """Load the verified weights of ``folder`` into ``parts`` (part name -> module).

    Raises:
        ModelFileError: the weights file is missing, truncated or edited, lacks a part, or
            does not fit the rebuilt module.
    """
    weights = read_weights(folder, manifest)
    for name, module in parts.items():
        if name not in weights:
            raise ModelFileError(
                f"{str(folder / WEIGHTS)!r} has no part {name!r} (it has {sorted(weights)})"
            )
        try:
            module.load_state_dict(weights[name])
        except RuntimeError as err:
            raise ModelFileError(
                f"{str(folder / WEIGHTS)!r} does not fit the model its manifest describes: {err}"
            ) from None
