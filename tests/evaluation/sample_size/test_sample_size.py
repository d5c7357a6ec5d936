"""Riley et al.'s minimum sample size against published worked examples.

Sources of the expected numbers:

- pmsampsize for R, ``tests/testthat/test_bin.R`` (Ensor J, CRAN package pmsampsize,
  version 1.1.x; https://github.com/cran/pmsampsize), tests 4.1-4.4: criteria 1, 2, 3
  and the final size, with events per predictor parameter (EPP) to 2 decimals. Test 4.1
  is the worked example of Riley et al., Stat Med 2019;38:1276-96 (diagnosis of Chagas
  disease; the paper's abstract: "requires an EPP of at least 4.8") and of the package
  documentation (prevalence 0.174, Cox-Snell R² 0.288, 24 candidate parameters).
- pmsampsize for Python (Whittle R, Ensor J; ``tests/test_pmsampsize.py``,
  https://github.com/RebeccaWhittle/pmsampsize), test 2: the same example from a
  C-statistic of 0.89 (R² by Riley et al. 2021's conversion): 615, 660, 221, 660.
- samplesizedev README (Pavlou M et al., BMC Med Res Methodol 2024;24:146;
  https://github.com/mpavlou/samplesizedev): Riley's criterion 1 for prevalence 0.2,
  C-statistic 0.85 and 10 predictors is "$rvs [1] 309" (rounded to the nearest
  integer, from a 200,000-patient simulation of the C-to-R² conversion).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy.stats import norm

from clinai.evaluation import (
    assess_sample_size,
    cox_snell_r2_from_c_statistic,
    max_cox_snell_r2,
    riley_sample_size,
)
from clinai.evaluation.sample_size._assessment import AVAILABLE_MSG
from clinai.evaluation.sample_size._sample_size import (
    C_STATISTIC_MSG,
    PARAMETER_MSG,
    R2_MSG,
    R2_SOURCE_MSG,
)
from clinai.exceptions import DataError

# (prevalence, R², parameters) -> (criterion 1, 2, 3, final), EPP of each (pmsampsize R tests)
PMSAMPSIZE_R = [
    ((0.174, 0.288, 24), (623, 662, 221, 662), (4.52, 4.8, 1.6, 4.8)),
    ((0.174, 0.55, 24), (255, 532, 221, 532), (1.85, 3.86, 1.6, 3.86)),
    ((0.174, 0.288, 36), (934, 992, 221, 992), (4.51, 4.79, 1.07, 4.79)),
    ((0.25, 0.288, 24), (623, 590, 289, 623), (6.49, 6.15, 3.01, 6.49)),
]


@pytest.mark.parametrize(("inputs", "sizes", "epp"), PMSAMPSIZE_R)
def test_pmsampsize_worked_examples(inputs, sizes, epp) -> None:
    prevalence, r2, parameters = inputs
    result = riley_sample_size(prevalence=prevalence, r2_cs=r2, n_parameters=parameters)
    assert [c.name for c in result.criteria] == ["shrinkage", "optimism", "overall_risk"]
    assert (*(c.n for c in result.criteria), result.n) == sizes
    assert (
        *(round(c.events_per_parameter, 2) for c in result.criteria),
        round(result.events_per_parameter, 2),
    ) == epp
    assert result.events == math.ceil(result.n * prevalence)
    assert result.r2_cs_source == "given"


def test_chagas_example_details() -> None:
    result = riley_sample_size(prevalence=0.174, r2_cs=0.288, n_parameters=24)
    assert result.binding_criterion == "optimism"
    assert (result.n, result.events) == (662, 116)
    phi = 0.174
    assert result.max_r2_cs == pytest.approx(1 - (phi**phi * (1 - phi) ** (1 - phi)) ** 2)
    assert result.r2_nagelkerke == pytest.approx(0.288 / result.max_r2_cs)
    # criterion 2 needs shrinkage S_VH = 0.288 / (0.288 + 0.05 max R²) = 0.901, so at n = 662
    # the expected shrinkage is just above 0.9
    assert 0.9 < result.expected_shrinkage < 0.91
    document = result.to_dict()
    assert document["n"] == 662 and document["criteria"][0]["n"] == 623


def test_from_a_c_statistic_matches_pmsampsize_python() -> None:
    result = riley_sample_size(prevalence=0.174, c_statistic=0.89, n_parameters=24)
    assert (*(c.n for c in result.criteria), result.n) == (615, 660, 221, 660)
    assert result.r2_cs_source == "c_statistic"
    assert result.c_statistic == 0.89


def test_from_a_c_statistic_matches_samplesizedev_within_its_simulation_error() -> None:
    result = riley_sample_size(prevalence=0.2, c_statistic=0.85, n_parameters=10)
    assert result["shrinkage"].n == pytest.approx(309, rel=0.01)


def gauss_hermite_r2(c: float, prevalence: float) -> float:
    """The same mutual information by Gauss-Hermite quadrature (a different numerical method)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(160)
    weights = weights / weights.sum()
    mu = math.sqrt(2.0) * norm.ppf(c)
    phi = prevalence
    events = -np.log(phi + (1 - phi) * np.exp(mu * mu / 2 - mu * (nodes + mu)))
    non_events = -np.log(1 - phi + phi * np.exp(mu * nodes - mu * mu / 2))
    information = phi * weights @ events + (1 - phi) * weights @ non_events
    return 1.0 - math.exp(-2.0 * information)


@pytest.mark.parametrize(("c", "prevalence"), [(0.6, 0.05), (0.75, 0.2), (0.89, 0.174)])
def test_c_statistic_conversion_by_two_quadratures(c: float, prevalence: float) -> None:
    assert cox_snell_r2_from_c_statistic(c, prevalence) == pytest.approx(
        gauss_hermite_r2(c, prevalence), abs=1e-9
    )
    assert cox_snell_r2_from_c_statistic(c, prevalence) < max_cox_snell_r2(prevalence)


def test_mape_criterion_is_van_smedens_formula() -> None:
    result = riley_sample_size(prevalence=0.174, r2_cs=0.288, n_parameters=24, mape=0.05)
    mape = result["mape"]

    # van Smeden et al. 2019: MAPE = exp(-0.508 + 0.259 ln(phi) + 0.504 ln(P) - 0.544 ln(n))
    def expected_mape(n: int) -> float:
        return math.exp(
            -0.508 + 0.259 * math.log(0.174) + 0.504 * math.log(24) - 0.544 * math.log(n)
        )

    assert expected_mape(mape.n) <= 0.05 < expected_mape(mape.n - 1)
    assert mape.n == 801
    assert result.n == 801 and result.binding_criterion == "mape"
    loose = riley_sample_size(prevalence=0.174, r2_cs=0.288, n_parameters=24, mape=0.1)
    assert loose["mape"].n < mape.n and loose.n == 662


def test_max_r2_and_shrinkage_at_the_minimum() -> None:
    assert max_cox_snell_r2(0.5) == pytest.approx(0.75)
    result = riley_sample_size(prevalence=0.3, r2_cs=0.2, n_parameters=10)
    assert result.binding_criterion == "shrinkage"
    assert result.expected_shrinkage == pytest.approx(0.9, abs=2e-4)


def test_assessment() -> None:
    result = riley_sample_size(prevalence=0.174, r2_cs=0.288, n_parameters=24)
    enough = assess_sample_size(result, n_available=700, events_available=120)
    assert enough.adequate and enough.warning is None and enough.unmet == ()
    short = assess_sample_size(result, n_available=640, events_available=110)
    assert not short.adequate
    assert short.unmet == ("optimism", "events")
    assert short.events_per_parameter == pytest.approx(110 / 24)
    assert "640 participants and 110 events" in short.warning
    assert "662" in short.warning and "116 events" in short.warning
    assert short.to_dict()["adequate"] is False


def test_json_of_a_criterion_and_an_assessment() -> None:
    result = riley_sample_size(prevalence=0.174, r2_cs=0.288, n_parameters=24)
    criterion = result["optimism"].to_dict()
    assert list(criterion) == [
        "name",
        "description",
        "target",
        "n",
        "events",
        "events_per_parameter",
    ]
    assert (criterion["target"], criterion["n"], criterion["events"]) == (0.05, 662, 116)
    assert [type(value) for value in criterion.values()] == [str, str, float, int, int, float]
    short = assess_sample_size(result, n_available=640, events_available=110).to_dict()
    assert {key: value for key, value in short.items() if key != "warning"} == {
        "adequate": False,
        "n_available": 640,
        "events_available": 110,
        "n_required": 662,
        "events_required": 116,
        "events_per_parameter": 110 / 24,
        "unmet": ["optimism", "events"],
    }
    assert list(short)[-1] == "warning" and "640 participants" in short["warning"]


def test_parameter_errors() -> None:
    with pytest.raises(DataError, match=re.escape(R2_SOURCE_MSG.format(r2=None, c=None))):
        riley_sample_size(prevalence=0.2, n_parameters=10)
    with pytest.raises(DataError, match=re.escape(R2_SOURCE_MSG.format(r2=0.1, c=0.8))):
        riley_sample_size(prevalence=0.2, n_parameters=10, r2_cs=0.1, c_statistic=0.8)
    message = R2_MSG.format(prevalence=0.1, max_r2=max_cox_snell_r2(0.1), shrinkage=0.9, value=0.6)
    with pytest.raises(DataError, match=re.escape(message)):
        riley_sample_size(prevalence=0.1, n_parameters=10, r2_cs=0.6)
    with pytest.raises(DataError, match=re.escape(C_STATISTIC_MSG.format(value=0.4))):
        riley_sample_size(prevalence=0.1, n_parameters=10, c_statistic=0.4)
    message = PARAMETER_MSG.format(name="n_parameters", rule="a positive integer", value=0)
    with pytest.raises(DataError, match=re.escape(message)):
        riley_sample_size(prevalence=0.1, n_parameters=0, r2_cs=0.1)
    message = PARAMETER_MSG.format(name="prevalence", rule="strictly between 0 and 1", value=1.2)
    with pytest.raises(DataError, match=re.escape(message)):
        riley_sample_size(prevalence=1.2, n_parameters=5, r2_cs=0.1)
    result = riley_sample_size(prevalence=0.2, n_parameters=5, r2_cs=0.1)
    with pytest.raises(
        DataError, match=re.escape(AVAILABLE_MSG.format(name="n_available", value=-1))
    ):
        assess_sample_size(result, n_available=-1, events_available=0)
