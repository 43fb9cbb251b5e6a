"""The examples in the learn modules' docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["bgnbd", "paretonbd", "mbgnbd", "gammagamma", "clv", "fitting", "transactions"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_print_what_they_show(name: str) -> None:
    module = importlib.import_module(f"cornerstore.learn.{name}")

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert result.failed == 0
