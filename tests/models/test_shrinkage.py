"""Uniform shrinkage for small development data (issue 16, item 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from clinai import models
from clinai.exceptions import ModelError
from clinai.models._shrinkage import intercept_with_offset, logistic_slope

#: The issue's new-user dataset: 154 patients, 48 events, 11 predictors.
N_DEV, N_PREDICTORS = 154, 11
COLUMNS = [f"x{i}" for i in range(N_PREDICTORS)]
#: Four real effects, seven noise predictors; the intercept gives about 31% events.
BETA = np.r_[0.8, -0.6, 0.5, 0.4, np.zeros(N_PREDICTORS - 4)]
INTERCEPT = -0.95


def _draw(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_PREDICTORS))
    y = rng.binomial(1, expit(INTERCEPT + X @ BETA))
    return pd.DataFrame(X, columns=COLUMNS), y


def _development() -> tuple[pd.DataFrame, np.ndarray]:
    # the first seed whose sample has exactly the 48 events
    for seed in range(1000):
        X, y = _draw(N_DEV, seed)
        if y.sum() == 48:
            return X, y
    raise AssertionError("no seed gives 48 events")


def _mle(X: pd.DataFrame, y: np.ndarray):
    # unpenalised (the clinai pipeline: scaling, no imputation needed) and uncalibrated
    estimator = models.get_model("logistic", numeric=COLUMNS, categorical=[], C=1e6)
    return estimator.fit(X, y)


def test_heuristic_shrinkage_by_definition_and_statsmodels() -> None:
    import statsmodels.api as sm

    X, y = _development()
    fit = sm.Logit(y, sm.add_constant(X.to_numpy())).fit(disp=0)
    # by definition: 2 (lnL_model - lnL_null), lnL_null at the observed proportion
    p = fit.predict()
    ll = np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    ll0 = len(y) * (y.mean() * np.log(y.mean()) + (1 - y.mean()) * np.log(1 - y.mean()))
    chi2 = models.likelihood_ratio_chi2(y, p)
    assert chi2 == pytest.approx(2 * (ll - ll0), rel=1e-10)
    assert chi2 == pytest.approx(fit.llr, rel=1e-6)
    assert models.heuristic_shrinkage(chi2, N_PREDICTORS) == pytest.approx(
        (fit.llr - N_PREDICTORS) / fit.llr, rel=1e-6
    )
    shrinkage, chi2_ours, n_parameters = models.unpenalised_heuristic_shrinkage(
        X, y, numeric=COLUMNS, categorical=[]
    )
    assert n_parameters == N_PREDICTORS
    assert chi2_ours == pytest.approx(fit.llr, rel=1e-4)
    assert shrinkage == pytest.approx(1 - N_PREDICTORS / fit.llr, rel=1e-4)


def test_heuristic_shrinkage_edges() -> None:
    assert models.heuristic_shrinkage(5.0, 10) == 0.0  # no better than chance
    with pytest.raises(ModelError, match="n_parameters must be a positive integer"):
        models.heuristic_shrinkage(50.0, 0)


def test_slope_and_offset_intercept_match_statsmodels() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    lp = rng.normal(size=400)
    y = rng.binomial(1, expit(-0.4 + 0.7 * lp))
    reference = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    assert logistic_slope(y, lp) == pytest.approx(reference.params[1], rel=1e-6)
    with_offset = sm.GLM(y, np.ones((400, 1)), family=sm.families.Binomial(), offset=lp).fit()
    assert intercept_with_offset(y, lp) == pytest.approx(with_offset.params[0], rel=1e-6)


def test_shrunk_model_calibrates_better_on_a_large_external_sample() -> None:
    X, y = _development()
    X_ext, y_ext = _draw(20_000, seed=12345)
    fitted = _mle(X, y)

    def slope_on_external(model) -> float:
        p = np.clip(model.predict_proba(X_ext)[:, 1], 1e-6, 1 - 1e-6)
        return logistic_slope(y_ext, np.log(p / (1 - p)))

    unshrunk = slope_on_external(fitted)
    factor, n_used = models.bootstrap_shrinkage(
        lambda X_b, y_b, _units: _mle(X_b, y_b), X, y, fitted=fitted, n_boot=20, random_state=1
    )
    assert n_used == 20
    assert 0.5 < factor < 1.0
    shrunk_model = models.shrink_predictions(fitted, X, y, shrinkage=factor)
    shrunk = slope_on_external(shrunk_model)
    heuristic, _, _ = models.unpenalised_heuristic_shrinkage(X, y, numeric=COLUMNS, categorical=[])
    heuristic_model = models.shrink_predictions(fitted, X, y, shrinkage=heuristic)
    assert unshrunk < 0.9  # the over-fitted model of the issue
    assert abs(shrunk - 1) < abs(unshrunk - 1)
    assert abs(slope_on_external(heuristic_model) - 1) < abs(unshrunk - 1)
    # the re-estimated intercept keeps the mean risk on the development data
    assert shrunk_model.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=1e-6)
    # shrinkage keeps the ranking
    assert np.array_equal(
        np.argsort(shrunk_model.predict_proba(X_ext)[:, 1], kind="stable"),
        np.argsort(fitted.predict_proba(X_ext)[:, 1], kind="stable"),
    )


def test_shrunk_model_is_explained_through_its_base() -> None:
    X, y = _development()
    fitted = _mle(X, y)
    inputs = models.explain_inputs(models.shrink_predictions(fitted, X, y, shrinkage=0.8), X)
    assert inputs.kind == "linear"
    assert len(inputs.feature_names) == N_PREDICTORS


def test_effective_shrinkage_of_sigmoid_calibration_is_the_platt_slope() -> None:
    X, y = _development()
    estimator = models.get_model("logistic", numeric=COLUMNS, categorical=[], C=1.0)
    calibrated = models.calibrate_model(estimator, X, y, method="sigmoid", cv=3)
    (member,) = calibrated.calibrated_classifiers_
    (platt,) = member.calibrators
    # sigmoid on the logistic model's decision function (its logit): 1 / (1 + exp(a f + b))
    assert models.effective_shrinkage(calibrated, X) == pytest.approx(-platt.a_, rel=1e-6)
