"""Recalibration of survival risks on out-of-fold predictions (Cox on cloglog of the risk)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinai import evaluation, models
from clinai.exceptions import DataError
from clinai.runs._survival_model import HorizonRiskModel

HORIZON = 1.0


def _cohort(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exponential survival with log hazard ``lp``, administratively censored at 2."""
    rng = np.random.default_rng(seed)
    lp = rng.normal(size=n)
    event_time = rng.exponential(np.exp(-lp))
    return lp, np.minimum(event_time, 2.0), (event_time <= 2.0).astype(int)


def _too_spread(lp: np.ndarray) -> np.ndarray:
    """Risks by the horizon of a model with twice the true log hazard (slope 0.5 expected)."""
    return 1 - np.exp(-HORIZON * np.exp(2 * lp - 0.3))


def test_slope_is_the_cox_coefficient_of_cloglog_risk_up_to_the_horizon() -> None:
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv

    lp, time, event = _cohort(400, 0)
    risk = _too_spread(lp)
    fitted = models.fit_survival_recalibration(risk, time, event, horizon=HORIZON)
    x = np.log(-np.log1p(-np.clip(risk, 1e-6, 1 - 1e-6)))  # the clipped cloglog
    # the reference: follow-up censored at the horizon, as the validation's slope
    censored = Surv.from_arrays((event == 1) & (time <= HORIZON), np.minimum(time, HORIZON))
    reference = CoxPHSurvivalAnalysis(ties="breslow").fit(x[:, None], censored).coef_[0]
    assert fitted.slope == pytest.approx(reference, rel=1e-4)
    assert 0.4 < fitted.slope < 0.6


def test_slope_with_one_baseline_per_fold_is_lifelines_stratified_cox() -> None:
    lifelines = pytest.importorskip("lifelines")
    lp, time, event = _cohort(1500, 6)
    fold = np.arange(1500) % 4
    # each fold's model has its own baseline (offset): a pooled fit would attenuate the slope
    risk = 1 - np.exp(-HORIZON * np.exp(2 * lp + 1.5 * (fold - 1.5)))
    fitted = models.fit_survival_recalibration(risk, time, event, horizon=HORIZON, strata=fold)
    frame = pd.DataFrame(
        {
            "x": np.log(-np.log1p(-np.clip(risk, 1e-6, 1 - 1e-6))),
            "time": np.minimum(time, HORIZON),
            "event": ((event == 1) & (time <= HORIZON)).astype(int),
            "fold": fold,
        }
    )
    reference = lifelines.CoxPHFitter().fit(frame, "time", "event", strata=["fold"])
    assert fitted.slope == pytest.approx(reference.params_["x"], rel=1e-3)
    pooled = models.fit_survival_recalibration(risk, time, event, horizon=HORIZON)
    assert abs(fitted.slope - 0.5) < abs(pooled.slope - 0.5)


def test_recalibrated_risks_have_slope_near_one_on_new_patients() -> None:
    lp, time, event = _cohort(1500, 1)
    fitted = models.fit_survival_recalibration(_too_spread(lp), time, event, horizon=HORIZON)
    lp_new, time_new, event_new = _cohort(1500, 2)
    recalibrated = fitted.risk(_too_spread(lp_new), [HORIZON])[:, 0]
    before = evaluation.survival_calibration_slope(
        time_new, event_new, risk=_too_spread(lp_new), t=HORIZON
    )
    after = evaluation.survival_calibration_slope(time_new, event_new, risk=recalibrated, t=HORIZON)
    assert before.slope < 0.6 and abs(after.slope - 1) < 0.1
    oe = evaluation.survival_oe_ratio(time_new, event_new, recalibrated, t=HORIZON)
    assert abs(oe.oe_ratio - 1) < 0.1
    # risks at every horizon from the risk at the first; the ranking is kept
    both = fitted.risk(_too_spread(lp_new), [0.5, HORIZON])
    assert (both[:, 0] <= both[:, 1]).all()
    order = np.argsort(lp_new)
    assert (np.diff(both[order, 1]) >= 0).all()


def test_risks_that_do_not_rank_are_refused() -> None:
    lp, time, event = _cohort(300, 3)
    with pytest.raises(DataError, match="out-of-fold calibration slope"):
        models.fit_survival_recalibration(1 - _too_spread(lp), time, event, horizon=HORIZON)


def test_horizon_risk_model_answers_with_recalibrated_risks() -> None:
    lp, time, event = _cohort(300, 4)
    X = pd.DataFrame({"x": lp + np.random.default_rng(5).normal(scale=0.5, size=300)})
    y = models.survival_target(time, event)
    pipe = models.get_model("cox_net", numeric=["x"], categorical=[])
    oof, fold = models.out_of_fold_risk(pipe, X, y, horizon=HORIZON, cv_folds=3, random_state=0)
    assert oof.shape == (300,) and ((oof > 0) & (oof < 1)).all()
    assert sorted(np.unique(fold)) == [0, 1, 2]
    recalibration = models.fit_survival_recalibration(
        oof, time, event, horizon=HORIZON, strata=fold
    )
    base = pipe.fit(X, y)
    model = HorizonRiskModel(base, [HORIZON, 1.5], recalibration)
    risk = model.predict_proba(X)[:, 1]
    own = base.predict_risk(X, [HORIZON])[:, 0]
    assert risk == pytest.approx(recalibration.risk(own, [HORIZON])[:, 0])
    assert model.predict_risk(X).shape == (300, 2)
    assert model.linear_predictor(X) == pytest.approx(recalibration.slope * np.log(-np.log1p(-own)))
    # without a recalibration (or one saved before it existed) the model's own risks
    plain = HorizonRiskModel(base, [HORIZON])
    del plain.recalibration
    assert plain.predict_proba(X)[:, 1] == pytest.approx(own)
