"""Parametrized cases of which the default run keeps the first few; the others run in the slow step
(`python -m pytest -m slow`), so that every case is run by .ci/run and the default run stays short."""

import pytest


def slow_after(fast: int, values: list, *, unpack: bool = False) -> list:
    """`values` as pytest cases: the first `fast` in the default run, the rest marked slow.
    `unpack`: each value is a tuple of the test's several arguments."""
    return [value if index < fast else pytest.param(*(value if unpack else (value,)), marks=pytest.mark.slow)
            for index, value in enumerate(values)]
