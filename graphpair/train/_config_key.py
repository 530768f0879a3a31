"""The identity of a run configuration: what names its checkpoints and groups its records."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from graphpair.data._io import fingerprint

__all__ = ["ADDED_FIELDS", "config_key"]

#: Fields that do not change what a run computes (where it runs, where data is read from,
#: how many seeds are asked for, whether torch must use its deterministic algorithms): a
#: checkpoint stays valid when only these differ. Keys of configurations written before a
#: bookkeeping field existed stay the same.
_BOOKKEEPING = frozenset(
    {"runs", "device", "data_root", "cache", "download", "deterministic", "memory_check"}
)
#: Fields added after records and checkpoints existed, with the value that means "as before":
#: left out of the key at that value, so older keys stay valid.
ADDED_FIELDS: dict[str, Any] = {
    "edge_list": None,
    "precise_bn": False,
    "header": None,
    "sampler": "full",
    "fanout": [10],  # as records hold it (JSON)
    "memory_check": True,
    "train_degree_cap": None,
    "test_degree_cap": None,
    "node_features": None,
    "batch_size": None,  # graphpair node's (a link batch size is never None)
}


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def added_at_default(name: str, value: Any) -> bool:
    """Whether ``name`` is an :data:`ADDED_FIELDS` field at its "as before" value (tuples and
    lists compare alike, as a record's JSON holds them)."""
    return name in ADDED_FIELDS and _as_json(value) == _as_json(ADDED_FIELDS[name])


def config_key(config: Any) -> str:
    """The configuration's identity for checkpoints: a hash of its fields but the
    bookkeeping ones (``runs``, ``device``, ``data_root``, ``cache``, ``download``,
    ``deterministic``).

    Args:
        config: A run configuration dataclass (:class:`~graphpair.train.LinkConfig`,
            :class:`~graphpair.train.GraphConfig`, ...).

    Returns:
        16 hex digits; the name of the configuration's checkpoint subfolder.

    Example:
        >>> from graphpair.train import link_config
        >>> config = link_config("karate")
        >>> config_key(config) == config_key(config.replace(runs=3, device="cpu"))
        True
        >>> config_key(config) == config_key(config.replace(epochs=5))
        False
    """
    fields = {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.name not in _BOOKKEEPING and not added_at_default(f.name, getattr(config, f.name))
    }
    return fingerprint(type(config).__name__, json.loads(json.dumps(fields, default=str)))
