"""One console form of an estimate and its interval, for every command that prints one."""

from __future__ import annotations

import pytest

from clinai.runs._console_text import estimate_text, interval_text


@pytest.mark.parametrize(
    ("value", "options", "text"),
    [
        ({"estimate": 0.8123, "ci_low": 0.7712, "ci_high": 0.8504}, {}, "0.812 (0.771-0.850)"),
        ({"estimate": 0.6, "ci_low": -0.265, "ci_high": 1.4634}, {}, "0.600 (-0.265 to 1.463)"),
        ({"estimate": -0.3, "ci_low": -0.4, "ci_high": -0.1}, {}, "-0.300 (-0.400 to -0.100)"),
        ({"estimate": 0.5, "ci_low": None, "ci_high": 0.9}, {}, "0.500"),
        ({"estimate": 0.5}, {"no_interval": " (no interval)"}, "0.500 (no interval)"),
        ({"estimate": None}, {"missing": "not estimable"}, "not estimable"),
        (None, {}, "n/a"),
        (0.25, {}, "0.250"),
    ],
)
def test_estimate_text(value, options, text) -> None:
    assert estimate_text(value, **options) == text


def test_a_bound_that_rounds_to_minus_zero_still_reads_as_negative() -> None:
    assert interval_text(-0.0001, 0.9) == "-0.000 to 0.900"
