from __future__ import annotations

import pickle
from collections import defaultdict

import numpy as np
import pytest

from graphpair.data import UnsafePickleError
from graphpair.data._safe_pickle import PickledCSR, safe_unpickle


def test_numpy_and_adjacency_dicts_load() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.array_equal(safe_unpickle(pickle.dumps(array, protocol=2)), array)
    graph = defaultdict(list, {0: [1, 2], 1: [0]})
    assert safe_unpickle(pickle.dumps(graph, protocol=2)) == graph


def test_csr_state_is_captured_without_scipy_code() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    dense = np.array([[0, 1, 0], [2, 0, 3]], dtype=np.float32)
    out = safe_unpickle(pickle.dumps(scipy_sparse.csr_matrix(dense), protocol=2))
    assert isinstance(out, PickledCSR)
    assert np.array_equal(out.to_dense(), dense)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("echo pwned",))


def test_any_other_global_is_refused() -> None:
    with pytest.raises(UnsafePickleError, match="refusing to load the global"):
        safe_unpickle(pickle.dumps(_Evil()))
    with pytest.raises(UnsafePickleError, match="builtins.eval|refusing"):
        safe_unpickle(pickle.dumps(eval))


def test_torch_tensors_only_when_asked_and_storages_weights_only() -> None:
    import torch

    payload = pickle.dumps([{"atom_type": torch.tensor([1, 2]), "y": torch.tensor([0.5])}])
    with pytest.raises(UnsafePickleError, match="torch._utils"):
        safe_unpickle(payload)
    out = safe_unpickle(payload, torch_tensors=True)
    assert torch.equal(out[0]["atom_type"], torch.tensor([1, 2]))
    with pytest.raises(UnsafePickleError, match="refusing"):
        safe_unpickle(pickle.dumps(_Evil()), torch_tensors=True)
