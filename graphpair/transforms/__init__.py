"""PyG transforms: encodings computed once per graph, meant for ``pre_transform``.

- :class:`AddRRWP`: GRIT's relative random-walk probabilities (node part, pair part in the
  attention's ``(source, target)`` layout sorted by target, and the log-degree), with the
  functional core :func:`rrwp` and :func:`locate_pairs` to find given pairs in that layout.
"""

from graphpair.transforms._add_rrwp import WALK_FROM, AddRRWP, RRWPEncoding, locate_pairs, rrwp

__all__ = ["WALK_FROM", "AddRRWP", "RRWPEncoding", "locate_pairs", "rrwp"]
