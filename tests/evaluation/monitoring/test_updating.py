"""The closed testing procedure (Vergouwe et al. 2017) against statsmodels and by simulation."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from scipy.special import expit, logit
from scipy.stats import chi2

from clinai.evaluation.monitoring._updating import (
    ALPHA_MSG,
    REVISION_DF_MSG,
    UPDATE_METHODS,
    closed_testing_update,
)
from clinai.exceptions import DataError

#: The original model: logit p = BETA0 + X @ BETA (three standard-normal predictors).
BETA0, BETA = -1.5, np.array([0.8, -0.5, 0.4])
#: The planted miscalibration of each scenario and the update the procedure should choose.
SCENARIOS = {
    "none": {"shift": 0.0, "scale": 1.0, "effects": BETA},
    "recalibration_in_the_large": {"shift": 0.6, "scale": 1.0, "effects": BETA},
    "logistic_recalibration": {"shift": 0.0, "scale": 0.55, "effects": BETA},
    "revision": {"shift": 0.0, "scale": 1.0, "effects": np.array([0.8, 0.5, 0.4])},
}


def _glm(y: np.ndarray, design: np.ndarray, offset: np.ndarray | None = None) -> Any:
    import statsmodels.api as sm

    return sm.GLM(y, design, family=sm.families.Binomial(), offset=offset).fit()


def _sample(scenario: str, seed: int, n: int = 3000) -> tuple[np.ndarray, ...]:
    """Original risks, outcomes and the revision's (ML refit) risks on new data."""
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, BETA.shape[0]))
    plan = SCENARIOS[scenario]
    lp = BETA0 + X @ BETA
    truth = plan["shift"] + plan["scale"] * (BETA0 + X @ plan["effects"])
    y = rng.binomial(1, expit(truth)).astype(float)
    revision = _glm(y, sm.add_constant(X))
    return expit(lp), y, revision.predict(sm.add_constant(X)), revision.llf


def test_fits_and_statistics_equal_statsmodels_and_hand_computed_lr_tests() -> None:
    import statsmodels.api as sm

    p, y, revised, revision_llf = _sample("revision", seed=3)
    result = closed_testing_update(y, p, revised_prob=revised, revision_df=4)
    lp = logit(p)
    in_the_large = _glm(y, np.ones((y.shape[0], 1)), offset=lp)
    recalibration = _glm(y, sm.add_constant(lp))
    original_llf = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))

    assert result.intercept_in_the_large == pytest.approx(in_the_large.params[0], abs=1e-7)
    assert result.recalibration_intercept == pytest.approx(recalibration.params[0], abs=1e-7)
    assert result.recalibration_slope == pytest.approx(recalibration.params[1], abs=1e-7)
    expected_llf = {
        "none": original_llf,
        "recalibration_in_the_large": in_the_large.llf,
        "logistic_recalibration": recalibration.llf,
        "revision": revision_llf,
    }
    assert result.log_likelihoods == pytest.approx(expected_llf, abs=1e-6)
    by_name = {test.name: test for test in result.tests}
    for smaller, df in (("none", 4), ("recalibration_in_the_large", 3)):
        test = by_name[f"revision_vs_{smaller}"]
        statistic = 2 * (revision_llf - expected_llf[smaller])
        assert (test.df, test.statistic) == (df, pytest.approx(statistic, rel=1e-8))
        assert test.p_value == pytest.approx(chi2.sf(statistic, df), rel=1e-6, abs=1e-300)
    assert result.method == "revision"
    assert [t.name for t in result.tests] == [
        "revision_vs_none",
        "revision_vs_recalibration_in_the_large",
        "revision_vs_logistic_recalibration",
    ]
    assert (result.n, result.events) == (y.shape[0], int(y.sum()))


@pytest.mark.parametrize("planted", list(SCENARIOS))
def test_the_planted_miscalibration_is_chosen_across_seeds(planted: str) -> None:
    # 40 independent data sets per scenario; a correct procedure at alpha 0.05 with n = 3000
    # chooses the planted update in the great majority (the "none" scenario's misses are its
    # type I error, about 5%).
    chosen = []
    for seed in range(40):
        p, y, revised, _ = _sample(planted, seed=1000 + seed)
        chosen.append(closed_testing_update(y, p, revised_prob=revised, revision_df=4).method)
    share = chosen.count(planted) / len(chosen)
    assert share >= 0.85, (planted, {m: chosen.count(m) for m in UPDATE_METHODS})


def test_the_chosen_update_reports_its_own_intercept_and_slope() -> None:
    p, y, revised, _ = _sample("logistic_recalibration", seed=7)
    result = closed_testing_update(y, p, revised_prob=revised, revision_df=4)
    assert result.method == "logistic_recalibration"
    assert (result.intercept, result.slope) == (
        result.recalibration_intercept,
        result.recalibration_slope,
    )
    assert 0.4 < result.slope < 0.7
    record = result.to_dict()
    assert record["method"] == "logistic_recalibration" and len(record["tests"]) == 3
    assert set(record["df"]) == set(UPDATE_METHODS)

    p, y, revised, _ = _sample("recalibration_in_the_large", seed=7)
    shifted = closed_testing_update(y, p, revised_prob=revised, revision_df=4)
    assert (shifted.intercept, shifted.slope) == (shifted.intercept_in_the_large, 1.0)
    assert 0.4 < shifted.intercept < 0.8


def test_a_single_coefficient_revision_is_logistic_recalibration() -> None:
    # With one predictor the revision and logistic recalibration are the same model:
    # the last test has no degree of freedom, so the simpler description is kept.
    import statsmodels.api as sm

    p, y, _, _ = _sample("logistic_recalibration", seed=11)
    design = sm.add_constant(logit(p))
    refit = _glm(y, design).predict(design)  # the one-predictor model re-estimated
    result = closed_testing_update(y, p, revised_prob=refit, revision_df=2)
    assert [t.df for t in result.tests] == [2, 1, 0]
    assert result.method == "logistic_recalibration"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"revision_df": 1}, REVISION_DF_MSG.format(value=1)),
        ({"revision_df": 2.5}, REVISION_DF_MSG.format(value=2.5)),
        ({"alpha": 1.0}, ALPHA_MSG.format(value=1.0)),
    ],
)
def test_bad_arguments_are_refused_with_one_line(kwargs: dict, message: str) -> None:
    p, y, revised, _ = _sample("none", seed=1, n=200)
    arguments = {"revised_prob": revised, "revision_df": 4, **kwargs}
    with pytest.raises(DataError, match=re.escape(message)):
        closed_testing_update(y, p, **arguments)
