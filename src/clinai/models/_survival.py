"""Survival models: penalised Cox, gradient-boosted Cox and cause-specific Cox.

Each is a scikit-learn estimator on numeric ``X`` and scikit-survival's structured
target ``y`` (event, time) (:func:`clinai.models.survival_target`), and predicts the
linear predictor (``predict``), the survival probability (``predict_survival``) and the
absolute risk by each horizon (``predict_risk``) from Breslow's baseline hazard (see
:mod:`clinai.models._survival_base`). scikit-survival is imported inside ``fit``.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from clinai.exceptions import DataError
from clinai.models._family import FloatRange, IntRange, PipelineFactory, SearchSpace
from clinai.models._survival_base import (
    SurvivalModel,
    SurvivalPipeline,
    check_horizons,
    check_survival_target,
    cumulative_incidence,
)

__all__ = [
    "CauseSpecificCox",
    "CoxNetSurvival",
    "GradientBoostedSurvival",
    "cox_net_search_space",
    "gbs_search_space",
    "make_cause_specific_cox",
    "make_cox_net",
    "make_gradient_boosted_survival",
]

logger = logging.getLogger(__name__)

CAUSE_MISSING_MSG = (
    "cause {cause} has no events in the training data (event codes {codes}): set cause to "
    "one of the codes"
)


class CoxNetSurvival(SurvivalModel):
    """Penalised (elastic net) Cox proportional hazards model.

    scikit-survival's :class:`~sksurv.linear_model.CoxnetSurvivalAnalysis` at one
    penalty ``alpha`` (``fit_baseline_model=True``), on the standardised inputs of the
    pipeline: the penalty is ``alpha * (l1_ratio * |b|_1 + (1 - l1_ratio) / 2 * |b|_2^2)``
    on the mean partial log-likelihood (Breslow ties) [Simon et al. 2011, J Stat Softw
    39(5)]. ``alpha`` -> 0 gives the unpenalised Cox model.

    Parameters
    ----------
    alpha : float, default=0.01
        Penalty strength, > 0.
    l1_ratio : float, default=0.1
        Share of the lasso penalty, in (0, 1]; small values are close to ridge, which
        keeps every predictor and calibrates well on small data.
    max_iter : int, default=100000
        Coordinate descent iterations.
    tol : float, default=1e-7
        Convergence tolerance of the coordinate descent (scikit-survival's default);
        1e-12 reaches the exact optimum to about 1e-6 in the coefficients.
    random_state, n_jobs : int
        Unused (deterministic, single-threaded); kept for a uniform interface.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Log hazard ratios per (standardised) input.
    estimator_ : sksurv.linear_model.CoxnetSurvivalAnalysis
        The fitted scikit-survival model.

    Examples
    --------
    >>> from sksurv.datasets import load_whas500
    >>> X, y = load_whas500()
    >>> m = CoxNetSurvival().fit(X[["age", "bmi"]].to_numpy(), y)
    >>> m.predict_risk(X[["age", "bmi"]].to_numpy()[:2], [365, 730]).shape
    (2, 2)
    """

    def __init__(
        self,
        *,
        alpha: float = 0.01,
        l1_ratio: float = 0.1,
        max_iter: int = 100_000,
        tol: float = 1e-7,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_lp(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        from sksurv.linear_model import CoxnetSurvivalAnalysis
        from sksurv.util import Surv

        estimator = CoxnetSurvivalAnalysis(
            alphas=[float(self.alpha)],
            l1_ratio=float(self.l1_ratio),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            fit_baseline_model=True,
        )
        with warnings.catch_warnings():
            # a penalty that removes every predictor gives the null model, a valid fit
            # (tuning may try one); its risks are the Kaplan-Meier-like baseline risks
            warnings.filterwarnings("ignore", message="all coefficients are zero")
            self.estimator_ = estimator.fit(X, Surv.from_arrays(event.astype(bool), time))
        self.coef_ = np.asarray(self.estimator_.coef_[:, -1], dtype=np.float64)

    def _lp(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = X @ self.coef_
        return out


class GradientBoostedSurvival(SurvivalModel):
    """Gradient-boosted regression trees on the Cox partial likelihood.

    scikit-survival's :class:`~sksurv.ensemble.GradientBoostingSurvivalAnalysis`
    (``loss="coxph"``): trees model non-linear effects and interactions in the log
    hazard ratio [Ridgeway 1999, Comput Sci Stat 31:172]. Chosen over the componentwise
    (linear) variant: that is only a little faster (WHAS500, 333 rows, 200 rounds:
    0.36 s against 0.51 s, C 0.777 against 0.775 on the other 167) and, being linear,
    adds nothing to ``cox_net``.

    Parameters
    ----------
    n_estimators : int, default=200
    learning_rate : float, default=0.05
    max_depth : int, default=2
    min_samples_leaf : int, default=10
    subsample : float, default=0.8
        Share of the rows per tree (stochastic gradient boosting).
    random_state : int, default=0
    n_jobs : int, default=1
        Unused (scikit-learn's trees are single-threaded here).
    """

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        max_depth: int = 2,
        min_samples_leaf: int = 10,
        subsample: float = 0.8,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.subsample = subsample
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_lp(self, X: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
        from sksurv.ensemble import GradientBoostingSurvivalAnalysis
        from sksurv.util import Surv

        self.estimator_ = GradientBoostingSurvivalAnalysis(
            loss="coxph",
            n_estimators=int(self.n_estimators),
            learning_rate=float(self.learning_rate),
            max_depth=int(self.max_depth),
            min_samples_leaf=int(self.min_samples_leaf),
            subsample=float(self.subsample),
            random_state=int(self.random_state),
        ).fit(X, Surv.from_arrays(event.astype(bool), time))

    def _lp(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict(X), dtype=np.float64)


class CauseSpecificCox(BaseEstimator):
    """Competing risks: one penalised Cox model per cause, absolute risks by Aalen-Johansen.

    For each cause k a :class:`CoxNetSurvival` is fitted with the other causes
    censored (the cause-specific hazard h_k(t | x) = h_k0(t) exp(lp_k(x)); Putter et
    al. 2007, Stat Med 26:2389). The absolute risk of cause k by t integrates its
    hazard over the probability of being event-free from every cause (see
    :func:`~clinai.models._survival_base.cumulative_incidence`); it is *not*
    ``1 - exp(-H_k)``, which over-states the risk when other events remove patients.

    Parameters
    ----------
    cause : int, default=1
        The event code whose risk ``predict_risk`` and ``predict`` return.
    alpha, l1_ratio, max_iter : see :class:`CoxNetSurvival`
    random_state, n_jobs : int
        Unused; kept for a uniform interface.

    Attributes
    ----------
    causes_ : ndarray of int
        The event codes (> 0) seen in training.
    models_ : list of CoxNetSurvival
        One per cause, in the order of ``causes_``.
    """

    def __init__(
        self,
        *,
        cause: int = 1,
        alpha: float = 0.01,
        l1_ratio: float = 0.1,
        max_iter: int = 100_000,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.cause = cause
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any) -> Self:
        """Fit one Cox model per cause; ``y`` holds the event codes 0 (censored), 1..K."""
        time, event = check_survival_target(y, competing=True)
        X = validate_data(self, X, dtype=np.float64)
        self.causes_ = np.unique(event[event > 0])
        if self.cause not in self.causes_:
            codes = ", ".join(str(c) for c in self.causes_)
            raise DataError(CAUSE_MISSING_MSG.format(cause=self.cause, codes=codes))
        self.models_ = []
        grids, steps = [], []
        for code in self.causes_:
            target = np.empty(len(time), dtype=[("event", np.int64), ("time", np.float64)])
            target["event"], target["time"] = event == code, time
            model = CoxNetSurvival(
                alpha=self.alpha, l1_ratio=self.l1_ratio, max_iter=self.max_iter
            ).fit(X, target)
            self.models_.append(model)
            grids.append(model.baseline_times_)
            steps.append(np.diff(model.baseline_cumhaz_, prepend=0.0))
        self.grid_ = np.unique(np.concatenate(grids))
        self.max_time_ = float(time.max())
        # baseline increments of every cause on the common grid (0 where it has no event)
        self.increments_ = np.zeros((len(self.causes_), len(self.grid_)))
        for k, (times, inc) in enumerate(zip(grids, steps, strict=True)):
            self.increments_[k, np.searchsorted(self.grid_, times)] = inc
        return self

    def _relative(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "increments_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.stack([np.exp(m._lp(X) - m.lp_offset_) for m in self.models_], axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Return the linear predictor of ``cause`` (higher = higher cause-specific hazard)."""
        relative = self._relative(X)
        return np.log(relative[:, list(self.causes_).index(self.cause)])

    def _incidence(self, X: Any, horizons: Any) -> tuple[np.ndarray, np.ndarray]:
        increments = self._relative(X)[:, :, None] * self.increments_[None, :, :]
        return cumulative_incidence(
            increments, self.grid_, check_horizons(horizons, self.max_time_)
        )

    def predict_cumulative_incidence(self, X: Any, horizons: Any) -> np.ndarray:
        """Absolute risk of each cause by each horizon, shape (n, len(causes_), len(horizons))."""
        return self._incidence(X, horizons)[0]

    def predict_risk(self, X: Any, horizons: Any) -> np.ndarray:
        """Absolute risk of ``cause`` by each horizon, shape (n, len(horizons))."""
        out: np.ndarray = self.predict_cumulative_incidence(X, horizons)[
            :, list(self.causes_).index(self.cause), :
        ]
        return out

    def predict_survival(self, X: Any, times: Any) -> np.ndarray:
        """Probability of no event of any cause by each time, shape (n, len(times))."""
        return self._incidence(X, times)[1]


def _survival_factory(estimator: Any) -> PipelineFactory:
    return PipelineFactory(estimator, pipeline=SurvivalPipeline)


#: The ``cox_net`` family: ``preprocess`` (imputation, one-hot encoding, scaling) and a
#: :class:`CoxNetSurvival`.
make_cox_net = _survival_factory(CoxNetSurvival)
#: The ``gradient_boosted_survival`` family: ``preprocess`` and a
#: :class:`GradientBoostedSurvival`.
make_gradient_boosted_survival = _survival_factory(GradientBoostedSurvival)
#: The ``cause_specific_cox`` family (competing risks): ``preprocess`` and a
#: :class:`CauseSpecificCox`.
make_cause_specific_cox = _survival_factory(CauseSpecificCox)

#: ``alpha`` log-uniform on [1e-4, 1] (from almost no penalty to coefficients shrunk
#: towards zero) and the lasso share ``l1_ratio`` on [0.01, 1].
cox_net_search_space = SearchSpace(
    {"alpha": FloatRange(1e-4, 1.0, log=True), "l1_ratio": FloatRange(0.01, 1.0)}
)

#: Shallow trees (depth 1-4), 50-400 rounds, shrinkage, large leaves and row
#: subsampling: the regularisation a few hundred patients need.
gbs_search_space = SearchSpace(
    {
        "n_estimators": IntRange(50, 400, step=50),
        "learning_rate": FloatRange(0.01, 0.3, log=True),
        "max_depth": IntRange(1, 4),
        "min_samples_leaf": IntRange(5, 50, log=True),
        "subsample": FloatRange(0.5, 1.0),
    }
)
