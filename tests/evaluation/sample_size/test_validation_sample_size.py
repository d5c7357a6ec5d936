"""Patients needed for a precise external validation (Pavlou et al., Stat Methods Med Res 2021).

Reference values: the worked examples of the authors' R package sampsizeval (its README
and its test suite). Cross-check: the calibration slope's standard error of a logistic
fit (statsmodels) on a large simulated validation sample, scaled to the computed size.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit

from clinai.evaluation import ValidationSampleSize, validation_sample_size
from clinai.evaluation.sample_size._validation_sample_size import (
    VALIDATION_PARAMETER_MSG,
    _actual_c,
    _tuned,
)
from clinai.exceptions import DataError


def test_the_package_test_suites_example() -> None:
    """sampsizeval(p=0.057, c=0.77, se_c=0.025, se_cs=0.15, se_cl=0.15): 1599, 934, 897."""
    size = validation_sample_size(0.057, 0.77, se_c_statistic=0.025, se_slope=0.15, se_large=0.15)
    assert (size.n_c_statistic, size.n_slope, size.n_large) == (1599, 934, 897)
    assert size.n == 1599 and size.binding_criterion == "c_statistic"
    assert size.events == math.ceil(1599 * 0.057)


def test_the_readme_example_and_its_mirror() -> None:
    """sampsizeval(p=0.1, c=0.75, se_c=0.025, se_cs=0.1, se_cl=0.1): 1536 recommended."""
    size = validation_sample_size(0.1, 0.75)
    assert size.n == 1536 and size.binding_criterion == "calibration_slope"
    mirrored = validation_sample_size(0.9, 0.75)  # the rarer class is the outcome
    assert (mirrored.n_c_statistic, mirrored.n_slope, mirrored.n_large) == (
        size.n_c_statistic,
        size.n_slope,
        size.n_large,
    )
    assert mirrored.events == math.ceil(1536 * 0.9)
    document = size.to_dict()
    assert document["n"] == 1536 and document["binding_criterion"] == "calibration_slope"
    assert isinstance(size, ValidationSampleSize)


def test_the_standard_errors_at_those_sizes_are_the_targets() -> None:
    """Logistic calibration fits on 400,000 simulated patients, scaled to each size."""
    mu, sigma = _tuned(0.1, 0.75)
    rng = np.random.default_rng(11)
    lp = rng.normal(mu, sigma, 400_000)
    y = rng.binomial(1, expit(lp))
    fit = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    size = validation_sample_size(0.1, 0.75)
    se_at_n = fit.bse[1] * math.sqrt(lp.size / size.n_slope)
    assert se_at_n == pytest.approx(0.1, rel=0.03)
    # calibration-in-the-large: the intercept with the linear predictor as an offset
    offset = sm.GLM(y, np.ones((lp.size, 1)), family=sm.families.Binomial(), offset=lp).fit()
    assert offset.bse[0] * math.sqrt(lp.size / size.n_large) == pytest.approx(0.1, rel=0.03)


@pytest.mark.parametrize("c", [0.82, 0.9])
def test_above_0_8_the_linear_predictor_reaches_the_anticipated_c(c: float) -> None:
    mu, sigma = _tuned(0.2, c)
    assert _actual_c(mu, sigma) == pytest.approx(c, abs=1e-6)
    assert validation_sample_size(0.2, c).n > 0


@pytest.mark.parametrize(
    ("arguments", "name", "value"),
    [
        ({"prevalence": 0.0}, "prevalence", 0.0),
        ({"c_statistic": 0.5}, "c_statistic", 0.5),
        ({"c_statistic": "high"}, "c_statistic", "high"),
        ({"se_slope": 0}, "se_slope", 0),
    ],
)
def test_bad_arguments_name_themselves(arguments: dict, name: str, value: object) -> None:
    given = {"prevalence": 0.1, "c_statistic": 0.75, **arguments}
    low, high = (0.5, 1) if name == "c_statistic" else (0, 1)
    rule = f"a number strictly between {low:g} and {high:g}"
    message = VALIDATION_PARAMETER_MSG.format(name=name, rule=rule, value=value)
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        validation_sample_size(**given)
