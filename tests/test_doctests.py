"""The Examples sections of the docstrings run (numpydoc examples are doctests)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import clinai

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(clinai.__path__, prefix="clinai."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
