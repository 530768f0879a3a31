from __future__ import annotations

import importlib

import pytest

import graphpair

PUBLIC_MODULES = [
    "graphpair",
    "graphpair.ops",
    "graphpair.data",
    "graphpair.metrics",
    "graphpair.nn",
    "graphpair.nn.link",
    "graphpair.nn.encoders",
    "graphpair.nn.conv",
    "graphpair.nn.models",
    "graphpair.losses",
    "graphpair.train",
    "graphpair.transforms",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_exported_name_resolves_and_is_documented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for symbol in module.__all__:
        value = getattr(module, symbol)  # AttributeError for a stale __all__ entry
        if callable(value) and not symbol.isupper():
            assert value.__doc__, f"{name}.{symbol} has no docstring"


def test_version_is_exposed() -> None:
    assert graphpair.__version__
