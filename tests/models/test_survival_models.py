"""Survival models behind the registry: WHAS500 fits, absolute risks, cross-checks, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sksurv.datasets import load_whas500

from clinai.evaluation import harrell_c
from clinai.exceptions import ClinaiError, DataError, ModelError
from clinai.models import (
    CauseSpecificCox,
    CoxNetSurvival,
    DeepSurv,
    get_model,
    get_model_names,
    get_model_task,
    survival_target,
    tune_model,
    tune_survival_model,
)
from clinai.models._survival_base import breslow, cumulative_incidence

SURVIVAL = ["cox_net", "deep_surv", "gradient_boosted_survival"]
#: Small, fast settings for the default suite (the families' defaults are larger).
FAST = {
    "cox_net": {},
    "deep_surv": {"max_epochs": 30},
    "gradient_boosted_survival": {"n_estimators": 60, "learning_rate": 0.1},
}
HORIZONS = [30.0, 365.0, 730.0, 1500.0]


@pytest.fixture(scope="module")
def whas() -> dict:
    X, y0 = load_whas500()
    y = survival_target(y0["lenfol"], y0["fstat"].astype(int))
    numeric = [c for c in X.columns if X[c].dtype.kind == "f"]
    categorical = [c for c in X.columns if c not in numeric]
    test = np.random.default_rng(0).permutation(len(X)) < len(X) // 3
    return {"X": X, "y": y, "num": numeric, "cat": categorical, "test": test}


@pytest.fixture(scope="module")
def fitted(whas: dict) -> dict:
    train = ~whas["test"]
    return {
        name: get_model(name, numeric=whas["num"], categorical=whas["cat"], **FAST[name]).fit(
            whas["X"][train], whas["y"][train]
        )
        for name in SURVIVAL
    }


def test_registry_keeps_binary_names_and_marks_the_task() -> None:
    assert get_model_names() == ["gru", "lightgbm", "logistic", "mlp"]
    assert get_model_names("survival") == sorted(SURVIVAL)
    assert get_model_names("competing_risks") == ["cause_specific_cox"]
    assert {get_model_task(n) for n in SURVIVAL} == {"survival"}


def test_tuners_refuse_the_other_task(whas: dict) -> None:
    X, y = whas["X"], whas["y"]
    with pytest.raises(ModelError, match="'cox_net' is a survival model, not a binary"):
        tune_model("cox_net", X, y["event"], numeric=whas["num"], categorical=[],
                   n_trials=1, timeout_s=60, study_name="s", storage=None)  # fmt: skip
    with pytest.raises(ModelError, match="'logistic' is a binary model, not a survival"):
        tune_survival_model("logistic", X, y, numeric=whas["num"], categorical=[],
                            n_trials=1, study_name="s")  # fmt: skip


@pytest.mark.parametrize("name", SURVIVAL)
def test_risks_are_monotone_probabilities_and_discriminate(
    name: str, whas: dict, fitted: dict
) -> None:
    test, y = whas["test"], whas["y"]
    X_test = whas["X"][test]
    risk = fitted[name].predict_risk(X_test, HORIZONS)
    assert risk.shape == (test.sum(), len(HORIZONS))
    assert ((risk >= 0) & (risk <= 1)).all()
    assert (np.diff(risk, axis=1) >= 0).all()
    np.testing.assert_allclose(risk, 1 - fitted[name].predict_survival(X_test, HORIZONS))
    # Held out: 166 patients, ~70 deaths. Cox models on these covariates reach C ~0.76 on
    # WHAS500 (Hosmer, Lemeshow & May 2008); C's SE here is ~0.025, so 0.70 is more than
    # 8 SE above chance and ~2 SE below the expected value.
    c = harrell_c(y["time"][test], y["event"][test], fitted[name].predict(X_test))
    assert c.estimate > 0.70
    # the risk by a horizon ranks patients as the linear predictor does (proportional hazards)
    rank_c = harrell_c(y["time"][test], y["event"][test], risk[:, 2])
    assert rank_c.estimate == pytest.approx(c.estimate, abs=1e-9)


def test_cox_net_with_tiny_penalty_matches_statsmodels_phreg(whas: dict) -> None:
    from statsmodels.duration.hazard_regression import PHReg

    X = whas["X"][["age", "bmi", "hr", "sysbp", "gender", "chf"]].astype(float)
    X = ((X - X.mean()) / X.std()).to_numpy()
    y = whas["y"]
    model = CoxNetSurvival(alpha=1e-7, l1_ratio=0.5, tol=1e-12).fit(X, y)
    ref = PHReg(y["time"], X, status=y["event"], ties="breslow").fit()
    np.testing.assert_allclose(model.coef_, ref.params, atol=1e-5)
    # the Breslow baseline gives scikit-survival's own survival function
    sk = model.estimator_.predict_survival_function(X[:5], return_array=True)
    times = model.estimator_.unique_times_
    np.testing.assert_allclose(model.predict_survival(X[:5], times), sk, atol=1e-6)


def test_breslow_by_definition() -> None:
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    event = np.array([1, 1, 0, 1, 0])
    lp = np.log([1.0, 2.0, 1.0, 3.0, 1.0])
    times, inc = breslow(lp, time, event)
    np.testing.assert_array_equal(times, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(inc, [1 / 8, 1 / 7, 1 / 4])


def test_deep_surv_is_reproducible_for_a_seed_and_its_loss_is_the_partial_likelihood(
    whas: dict, fitted: dict
) -> None:
    import torch
    from statsmodels.duration.hazard_regression import PHReg

    train = ~whas["test"]
    X, y = whas["X"][train], whas["y"][train]
    again = get_model(
        "deep_surv", numeric=whas["num"], categorical=whas["cat"], **FAST["deep_surv"]
    )
    np.testing.assert_array_equal(again.fit(X, y).predict(X), fitted["deep_surv"].predict(X))
    other = DeepSurv(max_epochs=3, random_state=1)
    Xn = fitted["deep_surv"][:-1].transform(X)
    assert not np.allclose(other.fit(Xn, y).predict(Xn), fitted["deep_surv"].predict(X))
    # the batch loss times the number of events is minus Breslow's log partial likelihood
    beta = np.linspace(-0.3, 0.3, Xn.shape[1])
    target = np.column_stack([y["time"], y["event"]])
    loss = DeepSurv()._loss_function(torch, target)
    lp = torch.from_numpy(Xn @ beta)[:, None]
    value = float(loss(lp, torch.arange(len(y)))) * y["event"].sum()
    ref = PHReg(y["time"], Xn, status=y["event"], ties="breslow")
    assert value == pytest.approx(-ref.loglike(beta), rel=1e-9)


def test_cumulative_incidence_by_definition() -> None:
    # one patient, two causes on a grid of two times: S = (1-0.4), (1-0.4)(1-0.2)
    increments = np.array([[[0.1, 0.2], [0.3, 0.0]]])
    incidence, free = cumulative_incidence(increments, np.array([1.0, 2.0]), np.array([0.5, 1, 2]))
    np.testing.assert_allclose(free, [[1.0, 0.6, 0.48]])
    np.testing.assert_allclose(incidence[0, 0], [0.0, 0.1, 0.1 + 0.6 * 0.2])
    np.testing.assert_allclose(incidence[0, 1], [0.0, 0.3, 0.3])
    np.testing.assert_allclose(incidence.sum(axis=1) + free, 1.0)


def test_cause_specific_cox_risks_sum_with_event_free_to_at_most_one(whas: dict) -> None:
    X = whas["X"][["age", "bmi", "hr", "sysbp"]]
    y = whas["y"].copy()
    # a second cause: every other death (by row) counted as cause 2
    y["event"] = np.where(y["event"] == 1, 1 + np.arange(len(y)) % 2, 0)
    model = get_model("cause_specific_cox", numeric=list(X), categorical=[], cause=2).fit(X, y)
    assert isinstance(model[-1], CauseSpecificCox)
    incidence = model.predict_cumulative_incidence(X, HORIZONS)
    free = model.predict_survival(X, HORIZONS)
    total = incidence.sum(axis=1) + free
    assert (total <= 1 + 1e-12).all()
    np.testing.assert_allclose(total, 1.0)
    np.testing.assert_array_equal(model.predict_risk(X, HORIZONS), incidence[:, 1])
    assert (np.diff(incidence, axis=2) >= 0).all()
    # each cause's risk is below its naive 1 - exp(-H_k), which ignores the other cause
    naive = model[-1].models_[1].predict_risk(model[:-1].transform(X), HORIZONS)
    assert (incidence[:, 1] <= naive + 1e-12).all()


def _target(time: list[float], event: list[int]) -> np.ndarray:
    y = np.empty(len(time), dtype=[("event", "i8"), ("time", "f8")])
    y["time"], y["event"] = time, event
    return y


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (_target([5.0, -1.0, 3.0, 4.0], [1, 0, 1, 0]), "time has 1 missing, infinite or negative"),
        (_target([5.0, 2.0, 3.0, 4.0], [1, 2, 1, 0]), "event must be 0 or 1; got the value"),
        (_target([1.0, 0.0, 1.0, 1.0], [5, 30, 2, 9]), "time and event look swapped"),
        (_target([5.0, 2.0, 3.0, 4.0], [0, 0, 0, 0]), "no events"),
        (np.ones((4, 2)), "structured array with two fields"),
    ],
)
def test_bad_targets_fail_with_one_line(y: np.ndarray, match: str) -> None:
    X = pd.DataFrame({"age": [60.0, 70.0, 80.0, 65.0]})
    with pytest.raises(DataError, match=match) as info:
        get_model("cox_net", numeric=["age"], categorical=[]).fit(X, y)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ClinaiError)


@pytest.mark.parametrize(
    ("horizons", "match"),
    [
        ([365.0, 1e6], "horizon 1e\\+06 is beyond the last follow-up time of the training data"),
        ([-1.0], "horizons must be finite numbers >= 0"),
        (["a year"], "horizons must be finite numbers >= 0"),
    ],
)
@pytest.mark.parametrize("name", ["cox_net", "cause_specific_cox"])
def test_bad_horizons_fail_with_one_line(name: str, horizons: list, match: str, whas: dict) -> None:
    X = whas["X"][["age", "hr"]]
    model = get_model(name, numeric=["age", "hr"], categorical=[]).fit(X, whas["y"])
    with pytest.raises(DataError, match=match):
        model.predict_risk(X, horizons)


def test_tuning_on_grouped_event_stratified_folds(whas: dict) -> None:
    X, y = whas["X"], whas["y"]
    result = tune_survival_model(
        "cox_net", X, y, numeric=whas["num"], categorical=whas["cat"], n_trials=2, cv_folds=3,
        study_name="t", horizon=365.0, groups=np.arange(len(X)) // 2, scoring="uno_c",
    )  # fmt: skip
    assert result.n_trials == 2 and 0.6 < result.best_score < 0.95
    assert result.trials[0].params == {"alpha": 0.01, "l1_ratio": 0.1}  # the default first
    assert set(result.best_params) == {"alpha", "l1_ratio"}
    ibs = tune_survival_model(
        "cox_net", X, y, numeric=whas["num"], categorical=whas["cat"], n_trials=1, cv_folds=3,
        study_name="b", horizon=730.0,
    )  # fmt: skip
    assert -0.25 < ibs.best_score < 0


def test_a_stored_survival_study_resumes_only_for_its_family_and_score(
    whas: dict, tmp_path
) -> None:
    """It returned a cox_net study's best penalty as another family's parameters, and its
    Brier score as Uno's C; a fit that fails now ends in one ModelError line too."""
    X, y = whas["X"][:200], whas["y"][:200]
    options = {"numeric": whas["num"], "categorical": [], "cv_folds": 3, "study_name": "s",
               "storage": f"sqlite:///{tmp_path / 'optuna.db'}"}  # fmt: skip
    first = tune_survival_model("cox_net", X, y, n_trials=1, **options)
    assert first.n_trials == 1
    with pytest.raises(ModelError, match=r"made for model='cox_net', not 'deep_surv'"):
        tune_survival_model("deep_surv", X, y, n_trials=1, **options)
    with pytest.raises(ModelError, match=r"scoring='neg_integrated_brier', not 'uno_c'"):
        tune_survival_model("cox_net", X, y, n_trials=1, scoring="uno_c", **options)
    with pytest.raises(ModelError, match=r"tuning\.n_trials must be an integer >= 1; got 0"):
        tune_survival_model("cox_net", X, y, n_trials=0, **options)
    broken = X.assign(age=np.nan)  # the penalised Cox model cannot fit missing values
    with pytest.raises(ModelError, match="tuning model 'cox_net' failed in study 'other'"):
        tune_survival_model("cox_net", broken, y, n_trials=1, **{**options, "study_name": "other"})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gradient_boosted_survival", "deep_surv"])
def test_tuning_the_other_families(name: str, whas: dict) -> None:
    result = tune_survival_model(
        name, whas["X"], whas["y"], numeric=whas["num"], categorical=whas["cat"], n_trials=3,
        study_name=name, horizon=365.0, cv_folds=3, scoring="uno_c",
    )  # fmt: skip
    assert result.best_score > 0.65
