from __future__ import annotations

import graphpair.metrics
from graphpair.metrics import _classification, _evaluator, _link, _sequence


def test_every_exported_name_resolves_and_is_documented() -> None:
    assert graphpair.metrics.__doc__
    for symbol in graphpair.metrics.__all__:
        value = getattr(graphpair.metrics, symbol)
        if callable(value):
            assert value.__doc__, f"graphpair.metrics.{symbol} has no docstring"


def test_package_exports_exactly_the_modules_public_names() -> None:
    modules = (_classification, _evaluator, _link, _sequence)
    names = [name for module in modules for name in module.__all__]
    assert sorted(graphpair.metrics.__all__) == sorted(names)
    assert len(set(names)) == len(names)
