from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphpair.metrics import SubtokenF1, subtoken_f1
from tests.metrics.oracle import GraphEvaluator, close

CODE2 = GraphEvaluator("ogbg-code2")

token_lists = st.lists(st.sampled_from(["get", "set", "name", "id", "to", "string"]), max_size=5)


@given(
    pairs=st.lists(st.tuples(token_lists, token_lists), min_size=1, max_size=20),
)
def test_subtoken_f1_equals_ogb(pairs: list[tuple[list[str], list[str]]]) -> None:
    seq_ref = [ref for ref, _ in pairs]
    seq_pred = [pred for _, pred in pairs]
    expected = CODE2.eval({"seq_ref": seq_ref, "seq_pred": seq_pred})
    ours = subtoken_f1(seq_ref, seq_pred)
    assert close(ours.precision, expected["precision"])
    assert close(ours.recall, expected["recall"])
    assert close(ours.f1, expected["F1"])


def test_subtoken_f1_hand_example() -> None:
    # Sets: {get, name} vs {get}: p = 1, r = 1/2, F1 = 2/3; {set} vs {set}: all 1;
    # {} vs {x}: all 0 (zero denominators give 0).
    out = subtoken_f1([["get", "name", "get"], ["set"], []], [["get"], ["set"], ["x"]])
    assert isinstance(out, SubtokenF1)
    assert out.precision == pytest.approx(2 / 3)
    assert out.recall == pytest.approx(1.5 / 3)
    assert out.f1 == pytest.approx((2 / 3 + 1) / 3)


def test_subtoken_f1_errors_name_the_argument() -> None:
    with pytest.raises(
        ValueError, match="seq_ref and seq_pred must have the same length; got 1 and 2"
    ):
        subtoken_f1([["a"]], [["a"], ["b"]])
    with pytest.raises(ValueError, match="seq_ref must hold at least one sequence"):
        subtoken_f1([], [])
    with pytest.raises(TypeError, match=r"seq_pred\[0\] must be a list of tokens"):
        subtoken_f1([["a"]], ["a"])
    with pytest.raises(TypeError, match="seq_ref must be a list of token sequences"):
        subtoken_f1("a", [["a"]])
