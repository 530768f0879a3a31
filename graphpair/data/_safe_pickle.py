"""A restricted unpickler for the plain-pickle formats of public datasets.

Planetoid's raw files (``ind.<name>.x`` ...) are Python pickles of numpy arrays, scipy CSR
matrices and a ``defaultdict`` of lists. ``pickle.load`` on a downloaded file can run any code,
so graphpair never calls it: :func:`safe_unpickle` resolves only an explicit allowlist of
globals and refuses everything else with :class:`UnsafePickleError`. A scipy CSR matrix is not
rebuilt through scipy (whose reconstruction is out of our hands) but captured as its stored
arrays in :class:`PickledCSR`, so scipy is not needed either. Torch tensors pickled with plain
``pickle`` (ZINC's files) are admitted on request, their storages loaded in weights-only mode.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

__all__ = ["PickledCSR", "UnsafePickleError", "safe_unpickle"]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references a global outside the allowlist (foreign or malicious file).

    Raised while reading pickled raw dataset files (Planetoid's ``ind.<name>.*``, ZINC's
    files), instead of running the code such a file could carry; a subclass of
    ``pickle.UnpicklingError``.
    """


class PickledCSR:
    """The state of a pickled ``scipy.sparse.csr_matrix``: ``data``, ``indices``, ``indptr``."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    _shape: tuple[int, int]

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key in ("data", "indices", "indptr", "_shape"):
            if key not in state:
                raise UnsafePickleError(f"pickled CSR matrix lacks its {key!r} field")
        self.__dict__.update({k: state[k] for k in ("data", "indices", "indptr", "_shape")})

    def to_dense(self) -> np.ndarray:
        """The matrix as a dense float32 array (validated against its declared shape)."""
        rows, cols = (int(v) for v in self._shape)
        indptr = np.asarray(self.indptr, dtype=np.int64)
        indices = np.asarray(self.indices, dtype=np.int64)
        if (
            indptr.shape != (rows + 1,)
            or indptr[-1] != indices.size
            or (indices.size and (indices.min() < 0 or indices.max() >= cols))
        ):
            raise UnsafePickleError("pickled CSR matrix is inconsistent with its shape")
        out = np.zeros((rows, cols), dtype=np.float32)
        row_of = np.repeat(np.arange(rows), np.diff(indptr))
        out[row_of, indices] = np.asarray(self.data, dtype=np.float32)
        return out


def _reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct as fn
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct as fn  # type: ignore[no-redef]
    return fn


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct(),
    ("numpy", "ndarray"): np.ndarray,
    # Protocol-2 pickles written by Python 3 encode raw bytes through _codecs.encode(str, enc).
    ("_codecs", "encode"): __import__("codecs").encode,
    ("numpy", "dtype"): np.dtype,
    ("scipy.sparse.csr", "csr_matrix"): PickledCSR,
    ("scipy.sparse._csr", "csr_matrix"): PickledCSR,
    ("collections", "defaultdict"): __import__("collections").defaultdict,
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
}


def _storage_from_bytes(payload: bytes) -> Any:
    """What a plain-pickled torch storage reduces to, loaded in weights-only mode."""
    import torch

    return torch.load(io.BytesIO(payload), weights_only=True)


def _torch_allowed() -> dict[tuple[str, str], Any]:
    import collections

    from torch import _utils

    return {
        ("torch._utils", "_rebuild_tensor_v2"): _utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor"): _utils._rebuild_tensor,
        # torch's own target would torch.load the bytes with code execution allowed.
        ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
        ("collections", "OrderedDict"): collections.OrderedDict,
    }


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, *, torch_tensors: bool) -> None:
        super().__init__(file, encoding="latin1")
        self._allowed = {**_ALLOWED, **_torch_allowed()} if torch_tensors else _ALLOWED

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load the global {module}.{name}: not on the allowlist of "
                "dataset pickles"
            ) from None


def safe_unpickle(payload: bytes, *, torch_tensors: bool = False) -> Any:
    """Unpickle ``payload`` resolving only allowlisted globals (Python 2 pickles included).

    ``torch_tensors=True`` also admits torch tensors pickled with plain ``pickle`` (the ZINC
    files of 'Benchmarking GNNs'); their storages are read with ``weights_only=True``.
    """
    return _Unpickler(io.BytesIO(payload), torch_tensors=torch_tensors).load()
