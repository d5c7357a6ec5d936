"""Riley et al.'s minimum sample size for a time-to-event outcome (Part II; pmsampsize "s")."""

from __future__ import annotations

import math

import pytest

from clinai.evaluation import (
    assess_sample_size,
    max_cox_snell_r2_survival,
    riley_sample_size_survival,
)
from clinai.exceptions import DataError

# Riley et al. 2019 Part II / pmsampsize's survival example.
EXAMPLE = {"rate": 0.065, "mean_follow_up": 2.07, "timepoint": 2, "n_parameters": 30}


def test_worked_example_matches_the_published_numbers() -> None:
    result = riley_sample_size_survival(**EXAMPLE, r2_cs=0.051)
    assert result.n == 5143
    assert result.events == 692
    assert result.binding_criterion == "shrinkage"
    # pmsampsize 0.1.0 (Python): criterion 2 needs 1,039 at shrinkage 0.648; max R² 0.555.
    assert result["optimism"].n == 1039
    assert round(result.max_r2_cs, 3) == 0.555
    assert round(result.r2_nagelkerke, 3) == 0.092
    assert round(result.events_per_parameter, 2) == 23.07


def test_each_criterion_matches_its_formula_computed_by_hand() -> None:
    result = riley_sample_size_survival(**EXAMPLE, r2_cs=0.051)
    r2, p, lam, fup, t = 0.051, 30, 0.065, 2.07, 2.0
    e_per_n = lam * fup
    max_r2 = 1 - math.exp(2 * (e_per_n * math.log(e_per_n) - e_per_n))
    assert result.max_r2_cs == pytest.approx(max_r2)
    n1 = p / ((0.9 - 1) * math.log(1 - r2 / 0.9))
    s_vh = r2 / (r2 + 0.05 * max_r2)
    n2 = p / ((s_vh - 1) * math.log(1 - r2 / s_vh))
    assert result["shrinkage"].n == math.ceil(n1)
    assert result["optimism"].n == math.ceil(n2)

    # Criterion 3 by definition: at its n the upper margin of the risk by t is <= 0.05,
    # and one participant fewer exceeds it.
    def upper_margin(n: int) -> float:
        se = math.sqrt(lam / (n * fup))
        return (1 - math.exp(-(lam + 1.96 * se) * t)) - (1 - math.exp(-lam * t))

    n3 = result["overall_risk"].n
    assert upper_margin(n3) <= 0.05 + 1e-12 < upper_margin(n3 - 1)
    assert result["shrinkage"].events == math.ceil(math.ceil(n1) * e_per_n)


def test_default_r2_is_15_percent_of_the_largest_and_expected_shrinkage_meets_target() -> None:
    result = riley_sample_size_survival(**EXAMPLE)
    assert result.r2_cs == pytest.approx(0.15 * max_cox_snell_r2_survival(0.065, 2.07))
    assert result.r2_cs_source.startswith("default")
    assert result.expected_shrinkage >= 0.9 - 1e-6


def test_assessment_works_unchanged_on_the_survival_result() -> None:
    result = riley_sample_size_survival(**EXAMPLE, r2_cs=0.051)
    check = assess_sample_size(result, n_available=3000, events_available=400)
    assert not check.adequate
    assert check.unmet == ("shrinkage", "events")
    ok = assess_sample_size(result, n_available=6000, events_available=800)
    assert ok.adequate


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rate": 0.0}, "rate"),
        ({"rate": 0.6}, "rate * mean_follow_up"),
        ({"timepoint": -1}, "timepoint"),
        ({"n_parameters": 0}, "n_parameters"),
        ({"r2_cs": 0.7}, "r2_cs"),
    ],
)
def test_bad_input_names_the_field(change: dict, field: str) -> None:
    with pytest.raises(DataError, match=field.replace("*", r"\*")):
        riley_sample_size_survival(**{**EXAMPLE, "r2_cs": 0.051, **change})
