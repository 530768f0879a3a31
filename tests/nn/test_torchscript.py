"""TorchScript is not supported; torch.compile is. The docs say so and cannot drift.

For each public layer named in docs/reliability.md's TorchScript paragraph: ``torch.jit.script``
raises, the class docstring says it is not scriptable and points to ``torch.compile``, and
``torch.compile`` (the ``eager`` backend: tracing only, no C++ toolchain needed) gives the
eager outputs. If one of them becomes scriptable, the first check fails and the docs must
change with it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from graphpair.nn import (
    GAEPredictor,
    GRITConv,
    GRITLinkEncoder,
    GRITPairPredictor,
    LinkModel,
    MPNNEncoder,
    NCNCPredictor,
    NCNDiffPredictor,
    NCNPredictor,
    SINCConv,
    SIRConv,
)
from graphpair.nn.models import GRITPairs
from graphpair.ops import CSR

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
EDGES = torch.tensor([[0, 0, 1, 1, 2, 3], [2, 3, 2, 3, 4, 4]])


def _adj() -> CSR:
    return CSR.from_edge_index(EDGES, 5)


def _pair_state() -> GRITPairs:
    """Every ordered pair of 5 nodes, target-major as AddRRWP writes them."""
    nodes = torch.arange(5)
    index = torch.stack([nodes.repeat(5), nodes.repeat_interleave(5)])  # (source, target)
    return GRITPairs(index, torch.randn(25, 8), 5)


#: class -> (module factory, example inputs) for the eager-vs-compiled check.
CASES: dict[type, tuple[Callable[[], torch.nn.Module], Callable[[], tuple[Any, ...]]]] = {
    SINCConv: (lambda: SINCConv(8, 8), lambda: (torch.randn(5, 8), EDGES)),
    SIRConv: (lambda: SIRConv(8, 8, aggr="mean"), lambda: (torch.randn(5, 8), EDGES)),
    GRITConv: (
        lambda: GRITConv(8, heads=2, deg_scaler=False),
        lambda: (torch.randn(5, 8), _pair_state().pair_index, torch.randn(25, 8)),
    ),
    NCNPredictor: (
        lambda: NCNPredictor(8, 8),
        lambda: (torch.randn(5, 8), _adj(), torch.tensor([[0, 1], [1, 4]])),
    ),
    NCNCPredictor: (
        lambda: NCNCPredictor(8, 8),
        lambda: (torch.randn(5, 8), _adj(), torch.tensor([[0, 1], [1, 4]])),
    ),
    NCNDiffPredictor: (
        lambda: NCNDiffPredictor(8, 8),
        lambda: (torch.randn(5, 8), _adj(), torch.tensor([[0, 1], [1, 4]])),
    ),
    GAEPredictor: (
        lambda: GAEPredictor(8, 8),
        lambda: (torch.randn(5, 8), _adj(), torch.tensor([[0, 1], [1, 4]])),
    ),
    GRITPairPredictor: (
        lambda: GRITPairPredictor(8, 8),
        lambda: (torch.randn(5, 8), _pair_state(), torch.tensor([[0, 1], [1, 4]])),
    ),
    GRITLinkEncoder: (
        lambda: GRITLinkEncoder(4, 8, 1, heads=2),
        lambda: (torch.randn(5, 4), _adj()),
    ),
    LinkModel: (
        lambda: LinkModel(MPNNEncoder(4, 8, conv="gcn"), NCNPredictor(8, 8)),
        lambda: (torch.randn(5, 4), _adj(), torch.tensor([[0], [1]]), torch.tensor([[2], [4]])),
    ),
}

#: Classes whose docstring lives in a file owned elsewhere; the note is still to be added
#: there (strict: this turns into a failure once it is, so the marker is then removed).
DOCSTRING_PENDING: set[type] = set()


def _paragraph() -> str:
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(r"^\*\*TorchScript\.\*\*(.*?)(?:\n\n)", text, re.MULTILINE | re.DOTALL)
    assert match is not None, "docs/reliability.md has no **TorchScript.** paragraph"
    return match.group(1)


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_scripting_raises(cls: type) -> None:
    module = CASES[cls][0]().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates torch.jit.script itself
        with pytest.raises(Exception):  # noqa: B017, PT011 - TorchScript raises several types
            torch.jit.script(module)


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(
            c,
            marks=pytest.mark.xfail(
                strict=True, reason="the note goes into a docstring owned elsewhere"
            ),
        )
        if c in DOCSTRING_PENDING
        else c
        for c in CASES
    ],
    ids=lambda c: c.__name__,
)
def test_docstring_says_not_scriptable_and_points_to_compile(cls: type) -> None:
    doc = " ".join((cls.__doc__ or "").split())
    assert "Not scriptable" in doc or "not supported" in doc, cls.__name__
    assert "``torch.jit.script``" in doc, cls.__name__
    assert "``torch.compile``" in doc, cls.__name__


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_reliability_page_names_the_layer(cls: type) -> None:
    assert f"`{cls.__name__}`" in _paragraph()


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_torch_compile_gives_the_eager_outputs(cls: type) -> None:
    torch.manual_seed(0)
    factory, inputs = CASES[cls]
    module = factory().eval()
    args = inputs()
    torch._dynamo.reset()
    compiled = torch.compile(module, backend="eager")
    expected = module(*args)
    with warnings.catch_warnings():
        # Dynamo's own tracing warns (it reads `.grad` of non-leaf tensors, instantiates
        # autograd Functions); those are torch's, not the layer's.
        warnings.simplefilter("ignore")
        got = compiled(*args)
    flat_expected = expected if isinstance(expected, tuple) else (expected,)
    flat_got = got if isinstance(got, tuple) else (got,)
    for want, have in zip(flat_expected, flat_got, strict=True):
        if isinstance(want, GRITPairs):
            torch.testing.assert_close(have.pair_attr, want.pair_attr)
        else:
            torch.testing.assert_close(have, want)
