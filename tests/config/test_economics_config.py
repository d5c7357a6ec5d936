"""The ``economics:`` section: numbers or distributions, each problem named in one line."""

from __future__ import annotations

from typing import Any

import pytest

from clinai.config import EconomicsConfig, parse_config
from clinai.evaluation import parameter_distribution
from clinai.exceptions import ConfigError

_BASE = {
    "experiment": "demo",
    "pipeline": "icu_mortality",
    "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}},
}
_SECTION: dict[str, Any] = {
    "cost_alert": 150,
    "cost_outcome": {"distribution": "gamma", "shape": 4, "scale": 25_000},
    "relative_risk_reduction": {"distribution": "beta", "alpha": 20, "beta": 80},
    "qalys_lost_per_event": {"value": 0.5},
    "willingness_to_pay": {"distribution": "normal", "mean": 250_000, "sd": 50_000},
    "comparator": "NEWS2",
}


def _parse(**changes: Any) -> EconomicsConfig:
    config = parse_config({**_BASE, "economics": {**_SECTION, **changes}})
    assert config.economics is not None
    return config.economics


def test_defaults_numbers_and_no_section() -> None:
    section = _parse()
    assert (section.currency, section.n_draws, section.thresholds) == ("DKK", 10_000, None)
    assert section.minutes_per_alert is None and section.comparator == "NEWS2"
    assert parse_config(_BASE).economics is None  # no section: no economic numbers
    # the dump is what clinai.evaluation's parameter_distribution takes
    dumped = section.model_dump(mode="json")
    assert parameter_distribution(dumped["cost_alert"]).expected_value == 150
    assert parameter_distribution(dumped["cost_outcome"]).expected_value == 100_000
    assert parameter_distribution(dumped["relative_risk_reduction"]).expected_value == 0.2
    assert parameter_distribution(dumped["willingness_to_pay"]).expected_value == 250_000


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cost_alert": -5}, "'economics.cost_alert': cost_alert is a cost and cannot be negative"),
        (
            {"cost_outcome": {"distribution": "normal", "mean": -3, "sd": 1}},
            "'economics.cost_outcome': cost_outcome is a cost and cannot be negative",
        ),
        (
            {"willingness_to_pay": -1},
            "'economics.willingness_to_pay': willingness_to_pay is a non-negative amount",
        ),
        (
            {"relative_risk_reduction": 1.5},
            "'economics.relative_risk_reduction': relative_risk_reduction is a proportion: "
            "give a value in [0, 1] or a beta distribution",
        ),
        (
            {"relative_risk_reduction": {"distribution": "normal", "mean": 0.2, "sd": 0.1}},
            "'economics.relative_risk_reduction': relative_risk_reduction is a proportion",
        ),
        (
            {"cost_outcome": {"distribution": "gamma", "shape": 4}},
            "'economics.cost_outcome': a gamma distribution takes shape and scale; got shape",
        ),
        (
            {"cost_outcome": {"distribution": "lognormal"}},
            "'economics.cost_outcome': a lognormal distribution takes meanlog and sdlog; "
            "got no parameters",
        ),
        (
            {"cost_outcome": {"distribution": "weibull", "shape": 4}},
            "'economics.cost_outcome.distribution': Input should be 'point', 'beta', 'gamma', "
            "'lognormal' or 'normal'",
        ),
        (
            {"cost_outcome": {"distribution": "beta", "alpha": 0, "beta": 1}},
            "'economics.cost_outcome': the beta distribution's alpha must be > 0",
        ),
        ({"cost_outcome": "lots"}, "'economics.cost_outcome': give a number, {value: x} or"),
        ({"cost_alert": float("nan")}, "'economics.cost_alert.value': Input should be a finite"),
        ({"thresholds": [0.1, 1.2]}, "'economics.thresholds.1': Input should be less than 1"),
        ({"currency": "kr"}, "'economics.currency': String should match pattern"),
        ({"n_draws": 0}, "'economics.n_draws': Input should be greater than or equal to 1"),
        (
            {"qalys_lost_per_event": {"valeu": 3}},
            "unknown key 'economics.qalys_lost_per_event.valeu' (did you mean 'value'?)",
        ),
    ],
)
def test_bad_section(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        _parse(**changes)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message and "problems" not in message  # one line, one problem


def test_missing_parameter_is_named() -> None:
    section = {k: v for k, v in _SECTION.items() if k != "willingness_to_pay"}
    with pytest.raises(ConfigError, match=r"'economics\.willingness_to_pay' is required"):
        parse_config({**_BASE, "economics": section})
